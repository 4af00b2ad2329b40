// Building the page from archive records: every piece of article text goes in through textContent.

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// Article text in its own bidi context: a title holding U+202E (right-to-left override) or a stray isolate
// must not reorder the words around it (dir="auto" plus the stylesheet's unicode-bidi: isolate).
export function isolated(node) {
  node.dir = "auto";
  node.classList.add("bidi");
  return node;
}

// A title cut to ``max`` code points (a card must stay a card whatever length the article's title has).
export function clamp(text, max = 300) {
  const chars = Array.from(text || "");
  return chars.length > max ? chars.slice(0, max).join("") + "…" : chars.join("");
}

export function link(href, text, className) {
  const node = el("a", className, text);
  node.href = href;
  return node;
}

export function when(seconds) {
  if (seconds === null || seconds === undefined) return "";
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

// The evidence sentence with the matched words marked: span offsets index the article text in code
// points (Python's), so the sentence is cut as an array of code points, not UTF-16 units.
export function evidence(ev) {
  const box = isolated(el("blockquote", "evidence"));
  const chars = Array.from(ev.text || "");
  const spans = (ev.spans || [])
    .map((s) => [Math.max(0, s.start - ev.start), Math.min(chars.length, s.end - ev.start)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let at = 0;
  for (const [start, end] of spans) {
    if (start < at) continue;
    box.append(document.createTextNode(chars.slice(at, start).join("")));
    box.append(el("mark", "", chars.slice(start, end).join("")));
    at = end;
  }
  box.append(document.createTextNode(chars.slice(at).join("")));
  return box;
}

export function badge(kind, value) {
  return el("span", `badge ${kind} ${kind}-${value}`, value);
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function notice(text, className = "notice") {
  return el("p", className, text);
}

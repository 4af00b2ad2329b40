// One stored article: its text (as text, always) and the alerts it made.

import { getJSON } from "./api.js";
import { badge, clear, el, evidence, isolated, link, when } from "./dom.js";

const main = document.getElementById("main");
const articleId = location.pathname.split("/").pop();

async function start() {
  const article = await getJSON(`/api/articles/${encodeURIComponent(articleId)}`);
  clear(main);
  main.append(isolated(el("h2", "title", article.title))); // the whole title, never clamped here
  const meta = el("p", "meta", `${article.source || "unknown source"} · ${when(article.received_at)} · ${article.lang}`);
  if (article.story_id) meta.append(document.createTextNode(" · "), link(`/stories/${encodeURIComponent(article.story_id)}`, "story"));
  main.append(meta);
  if (article.url) main.append(el("p", "url", article.url)); // shown, never followed from here: a hostile link stays text
  for (const alert of article.alerts) {
    const box = el("div", "story-alert");
    box.append(badge("severity", alert.severity), badge("novelty", alert.novelty), el("span", "rule", alert.rule_title));
    for (const ev of (alert.payload && alert.payload.evidence) || []) box.append(evidence(ev));
    main.append(box);
  }
  main.append(isolated(el("pre", "text", article.text)));
}

start().catch((error) => {
  clear(main);
  main.append(el("p", "error", `Could not load the article: ${error.message}`));
});

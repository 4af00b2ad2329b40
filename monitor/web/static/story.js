// A story's timeline across outlets and languages: the opening article, the follow-ups, the silent ones.

import { getJSON, postJSON } from "./api.js";
import { badge, clear, el, evidence, isolated, link, when } from "./dom.js";

const main = document.getElementById("main");
const storyId = decodeURIComponent(location.pathname.split("/").pop());

function toggle(label, on, off, path, body, state) {
  const button = el("button", "", state ? on : off);
  button.type = "button";
  let current = state;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await postJSON(path, body(!current));
      current = !current;
      button.textContent = current ? on : off;
    } catch (error) {
      button.title = error.message;
    } finally {
      button.disabled = false;
    }
  });
  button.classList.add(label);
  return button;
}

function articleItem(item) {
  const li = el("li", `timeline-item kind-${item.kind}`);
  const head = el("p", "meta");
  head.append(badge("kind", item.kind), document.createTextNode(` ${when(item.received_at)} · ${item.source || "unknown source"} · ${item.lang}`));
  li.append(head);
  const title = isolated(el("h3", "title"));
  title.append(isolated(link(`/articles/${item.article_id}`, item.title)));
  li.append(title);
  if (item.adds && item.adds.length) li.append(el("p", "adds", `adds ${item.adds.join(", ")}`));
  for (const alert of item.alerts) {
    const box = el("div", "story-alert");
    box.append(badge("severity", alert.severity), badge("novelty", alert.novelty), el("span", "rule", alert.rule_title));
    for (const ev of (alert.payload && alert.payload.evidence) || []) box.append(evidence(ev));
    li.append(box);
  }
  return li;
}

async function start() {
  const story = await getJSON(`/api/stories/${encodeURIComponent(storyId)}`);
  clear(main);
  main.append(el("h2", "", `Story ${story.id}`));
  main.append(
    el(
      "p",
      "meta",
      `${story.outlets.length} outlet${story.outlets.length === 1 ? "" : "s"} (${story.outlets.join(", ")}) · ` +
        `languages ${story.languages.join(", ")} · rules ${story.rules.join(", ")} · ` +
        `first seen ${when(story.first_seen)} · last seen ${when(story.last_seen)}`,
    ),
  );
  const bar = el("p", "actions");
  bar.append(
    toggle("review", "Reviewed ✓", "Mark story reviewed", "/api/review", (v) => ({ story: story.id, reviewed: v }), story.reviewed),
    toggle("mute", "Unmute story", "Mute story", "/api/mute", (v) => ({ story: story.id, muted: v }), story.muted),
  );
  main.append(bar);
  const list = el("ol", "timeline");
  story.articles.forEach((item) => list.append(articleItem(item)));
  main.append(list);
}

start().catch((error) => {
  clear(main);
  main.append(el("p", "error", `Could not load the story: ${error.message}`));
});

// The day's stories by rule, most severe first, with the opening article of each.

import { getJSON } from "./api.js";
import { badge, clamp, clear, el, isolated, link } from "./dom.js";

const box = document.getElementById("digest");
const day = new URLSearchParams(location.search).get("date") || "";
document.querySelector("#day input[name=date]").value = day;

async function start() {
  const digest = await getJSON(`/api/digest${day ? `?date=${encodeURIComponent(day)}` : ""}`);
  clear(box);
  box.append(el("h2", "", `Digest for ${digest.day}`), el("p", "meta", `${digest.alerts} alerts · ${digest.stories} stories`));
  for (const [rule, stories] of Object.entries(digest.by_rule)) {
    const section = el("section", "digest-rule");
    section.append(el("h3", "", stories.length ? stories[0].rule_title : rule));
    const list = el("ul", "digest-stories");
    for (const story of stories) {
      const li = el("li", `severity-${story.severity}`);
      const target = story.story_id ? `/stories/${encodeURIComponent(story.story_id)}` : `/articles/${story.opening.article_id}`;
      li.append(
        badge("severity", story.severity),
        badge("novelty", story.novelty),
        isolated(link(target, clamp(story.opening.title))),
        el("span", "meta", ` · ${story.articles} article${story.articles === 1 ? "" : "s"}, ${story.outlets} outlet${story.outlets === 1 ? "" : "s"} · opened by ${story.opening.source || "unknown source"}`),
      );
      list.append(li);
    }
    section.append(list);
    box.append(section);
  }
  if (!Object.keys(digest.by_rule).length) box.append(el("p", "status", "No alerts that day."));
}

start().catch((error) => {
  clear(box);
  box.append(el("p", "error", `Could not load the digest: ${error.message}`));
});

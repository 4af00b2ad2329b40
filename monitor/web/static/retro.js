// A retro run from the console: what a watchlist fires over the archived articles of a date range.

import { postJSON } from "./api.js";
import { badge, clamp, clear, el, isolated, link } from "./dom.js";

const form = document.getElementById("retro");
const box = document.getElementById("found");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  clear(box);
  box.append(el("p", "status", "Running…"));
  try {
    const body = { since: form.elements.since.value, until: form.elements.until.value || null, publish: form.elements.publish.checked };
    if (form.elements.watchlist.value.trim()) body.watchlist = form.elements.watchlist.value;
    const run = await postJSON("/api/retro", body);
    clear(box);
    let summary = `${run.articles} archived articles: ${run.fired} fired, ${run.alerts} alerts`;
    if (run.published !== undefined) summary += ` · ${run.published} published, ${run.already_sent} sent before`;
    box.append(el("p", "status", summary));
    const list = el("ul", "digest-stories");
    for (const result of run.results) {
      const li = el("li");
      li.append(isolated(link(`/articles/${result.article_id}`, clamp(result.title))), el("span", "meta", ` · ${result.day} · ${result.source || "unknown source"} `));
      for (const rule of result.rules) li.append(badge("severity", rule.severity), badge("novelty", rule.novelty), el("span", "rule", ` ${rule.title} `));
      list.append(li);
    }
    box.append(list);
    if (run.truncated) box.append(el("p", "status", "Only the first results are listed."));
  } catch (error) {
    clear(box);
    box.append(el("p", "error", error.message));
  } finally {
    button.disabled = false;
  }
});

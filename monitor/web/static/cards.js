// Alert cards, newest first; the alerts of one story collapse into one card with the story's outlets.

import { postJSON } from "./api.js";
import { badge, clamp, el, evidence, isolated, link, when } from "./dom.js";

// The story as it stands now: the newest state a page was told (an alert's, or a story event's).
function storyNow(group) {
  let now = group.story || null;
  for (const a of group.alerts) {
    const s = a.story_now;
    if (s && (!now || s.articles > now.articles || s.last_seen > now.last_seen)) now = s;
  }
  return now;
}

function outletsOf(group) {
  const names = new Set();
  let most = (storyNow(group) || {}).outlets || 1;
  for (const a of group.alerts) {
    if (a.source) names.add(a.source);
    most = Math.max(most, a.story_outlets || 1);
    const story = a.payload && a.payload.story;
    if (story && Array.isArray(story.outlets)) story.outlets.forEach((o) => names.add(o));
  }
  return Math.max(most, names.size);
}

async function act(button, path, body, done) {
  button.disabled = true;
  try {
    await postJSON(path, body);
    done();
  } catch (error) {
    button.title = error.message;
    button.classList.add("failed");
  } finally {
    button.disabled = false;
  }
}

function actions(group, card) {
  const top = lead(group);
  const bar = el("footer", "actions");
  const reviewed = group.alerts.every((a) => a.reviewed);
  const review = el("button", "review", reviewed ? "Reviewed ✓" : "Mark reviewed");
  review.type = "button";
  review.addEventListener("click", () => {
    const now = !card.classList.contains("reviewed");
    const body = top.story_id ? { story: top.story_id, reviewed: now } : { alert: top.alert_id, reviewed: now };
    act(review, "/api/review", body, () => {
      group.alerts.forEach((a) => (a.reviewed = now));
      card.classList.toggle("reviewed", now);
      review.textContent = now ? "Reviewed ✓" : "Mark reviewed";
    });
  });
  bar.append(review);
  if (top.story_id) {
    const mute = el("button", "mute", "Mute story");
    mute.type = "button";
    mute.addEventListener("click", () => {
      const now = !card.classList.contains("muted");
      act(mute, "/api/mute", { story: top.story_id, muted: now }, () => {
        card.classList.toggle("muted", now);
        mute.textContent = now ? "Unmute story" : "Mute story";
      });
    });
    bar.append(mute, link(`/stories/${encodeURIComponent(top.story_id)}`, "Story", "open-story"));
  }
  const snooze = el("select", "snooze");
  snooze.setAttribute("aria-label", "Snooze this rule");
  for (const [value, label] of [["", "Snooze rule…"], ["1", "1 h"], ["8", "8 h"], ["24", "24 h"], ["0", "Lift snooze"]]) {
    const option = el("option", "", label);
    option.value = value;
    snooze.append(option);
  }
  snooze.addEventListener("change", () => {
    if (snooze.value === "") return;
    act(snooze, "/api/snooze", { rule: top.rule, hours: Number(snooze.value) }, () => {
      snooze.title = Number(snooze.value) ? `snoozed ${snooze.value} h` : "snooze lifted";
      snooze.value = "";
    });
  });
  bar.append(snooze, link(`/articles/${top.article_id}`, "Article", "open-article"));
  return bar;
}

const SEVERITY = { critical: 4, high: 3, medium: 2, low: 1 };

// The alert a story's card leads with: its most severe, the newest of those.
function lead(group) {
  return group.alerts.reduce((best, a) => ((SEVERITY[a.severity] || 0) > (SEVERITY[best.severity] || 0) ? a : best));
}

export function renderCard(group) {
  const top = lead(group);
  const card = el("article", `card severity-${top.severity}`);
  card.dataset.story = top.story_id || "";
  card.dataset.alert = top.alert_id;
  card.dataset.seq = String(top.seq);
  card.classList.toggle("reviewed", group.alerts.every((a) => a.reviewed));
  const head = el("header", "card-head");
  head.append(badge("severity", top.severity), badge("novelty", top.novelty), isolated(el("span", "rule", top.rule_title)));
  if (top.story_id) {
    const now = storyNow(group);
    const seen = group.alerts.map((a) => a.received_at);
    if (now) seen.push(now.first_seen, now.last_seen);
    const outlets = outletsOf(group);
    const story = el("span", "story");
    story.append(
      el("span", "outlets", `${outlets} outlet${outlets === 1 ? "" : "s"}`),
      el("span", "seen", ` · first seen ${when(Math.min(...seen))} · last seen ${when(Math.max(...seen))}`),
    );
    head.append(story);
  }
  card.append(head);
  const title = isolated(el("h3", "title"));
  const target = top.story_id ? `/stories/${encodeURIComponent(top.story_id)}` : `/articles/${top.article_id}`;
  title.append(isolated(link(target, clamp(top.title)))); // the whole title is on the article's page
  card.append(title);
  const meta = [clamp(top.source || "unknown source", 120), when(top.received_at), top.lang];
  if (top.published_at) meta.push(`published ${top.published_at.slice(0, 10)}`);
  if (group.alerts.length > 1) {
    const others = new Set(group.alerts.map((a) => a.rule_title));
    others.delete(top.rule_title);
    meta.push(`${group.alerts.length} alerts` + (others.size ? ` (also ${Array.from(others).join(", ")})` : ""));
  }
  if (top.delivery !== "sent") meta.push(top.delivery);
  card.append(isolated(el("p", "meta", meta.join(" · "))));
  const first = ((top.payload && top.payload.evidence) || [])[0];
  if (first) card.append(evidence(first));
  card.append(actions(group, card));
  return card;
}

// Cards in a container, newest first, one per story (an alert without a story is its own card).
export class CardList {
  constructor(container, collapse = true) {
    this.container = container;
    this.collapse = collapse;
    this.groups = new Map();
    this.seen = new Set();
    this.maxSeq = 0;
    this.minSeq = Infinity;
  }

  key(alert) {
    return this.collapse && alert.story_id ? `story:${alert.story_id}` : `alert:${alert.alert_id}`;
  }

  // An alert from a page of results (older: goes below) or from the live stream (newer: goes on top).
  add(alert, live) {
    if (this.seen.has(alert.seq)) return;
    this.seen.add(alert.seq);
    this.maxSeq = Math.max(this.maxSeq, alert.seq);
    this.minSeq = Math.min(this.minSeq, alert.seq);
    const key = this.key(alert);
    let group = this.groups.get(key);
    if (!group) {
      group = { alerts: [], card: null };
      this.groups.set(key, group);
    }
    group.alerts.push(alert);
    group.alerts.sort((a, b) => b.seq - a.seq);
    const card = renderCard(group);
    if (group.card) {
      if (live) {
        group.card.remove();
        this.container.prepend(card);
      } else {
        group.card.replaceWith(card);
      }
    } else if (live) {
      this.container.prepend(card);
    } else {
      this.container.append(card);
    }
    group.card = card;
  }

  // A story event: the cards of that story this page shows, redrawn where they are.
  updateStory(now) {
    for (const group of this.groups.values()) {
      if (!group.card || group.alerts[0].story_id !== now.story_id) continue;
      group.story = now;
      const card = renderCard(group);
      group.card.replaceWith(card);
      group.card = card;
    }
  }

  get size() {
    return this.groups.size;
  }
}

// The live alerts page and the search: the URL's query string is the whole search (a stable link).

import { getJSON } from "./api.js";
import { CardList } from "./cards.js";
import { clear, el } from "./dom.js";

const FILTERS = ["q", "rule", "severity", "novelty", "entity", "source", "lang", "since", "until", "reviewed", "story"];
const FACETS = ["rule", "severity", "novelty", "entity", "source", "lang"];

const params = new URLSearchParams(location.search);
const search = new URLSearchParams();
for (const name of FILTERS) {
  const value = params.get(name);
  if (value) search.set(name, value);
}

const form = document.getElementById("search");
const cardsBox = document.getElementById("cards");
const status = document.getElementById("status");
const live = document.getElementById("live");
const more = document.getElementById("more");
const cards = new CardList(cardsBox);
let nextBefore = null;
let total = 0;
let totalCapped = false;

function fillForm() {
  for (const name of FILTERS) {
    const field = form.elements.namedItem(name);
    if (field && search.get(name)) field.value = search.get(name);
  }
}

// Filter menus gain the values they lack (from the facets at load, then from each live alert).
function addOptions(values) {
  for (const name of FACETS) {
    const select = form.elements.namedItem(name);
    if (!select || select.tagName !== "SELECT") continue;
    const present = new Set(Array.from(select.options).map((o) => o.value));
    for (const value of values[name] || []) {
      if (!value || present.has(value)) continue;
      const option = el("option", "", value);
      option.value = value;
      select.append(option);
      present.add(value);
    }
  }
}

async function loadFacets() {
  addOptions(await getJSON("/api/facets"));
  fillForm();
}

function valuesOf(alert) {
  const entities = ((alert.payload && alert.payload.entities) || []).map((e) => e && e.id);
  return { rule: [alert.rule], severity: [alert.severity], novelty: [alert.novelty], source: [alert.source],
           lang: [alert.lang], entity: entities };
}

function showStatus() {
  const filtered = Array.from(search.keys()).length > 0;
  const counted = `${total.toLocaleString("en")}${totalCapped ? "+" : ""}`;
  status.textContent = `${counted} alert${total === 1 && !totalCapped ? "" : "s"}${filtered ? " match this search" : ""}`;
  more.hidden = nextBefore === null;
}

async function loadPage() {
  const query = new URLSearchParams(search);
  if (nextBefore !== null) query.set("before", String(nextBefore));
  const page = await getJSON(`/api/alerts?${query}`);
  for (const alert of page.entries) cards.add(alert, false);
  nextBefore = page.next_before;
  total = page.total;
  totalCapped = page.total_capped;
  showStatus();
}

// The article's day as the archive files it: its own published day, else the day it was received (UTC).
function dayOf(alert) {
  if (alert.published_at) return alert.published_at.slice(0, 10);
  return new Date(alert.received_at * 1000).toISOString().slice(0, 10);
}

// A live alert is shown when it fits the filters the page can check itself; a text search is a
// question to the archive, so new alerts only announce themselves there.
function fits(alert) {
  const facts = {
    rule: alert.rule, severity: alert.severity, novelty: alert.novelty, source: alert.source, lang: alert.lang,
    story: alert.story_id,
  };
  for (const [name, value] of Object.entries(facts)) {
    if (search.get(name) && search.get(name) !== value) return false;
  }
  if (search.get("entity")) {
    const ids = ((alert.payload && alert.payload.entities) || []).map((e) => e.id);
    if (!ids.includes(search.get("entity"))) return false;
  }
  const day = dayOf(alert); // YYYY-MM-DD strings compare as days
  if (search.get("since") && day < search.get("since")) return false;
  if (search.get("until") && day > search.get("until")) return false;
  return !search.get("q") && search.get("reviewed") !== "true";
}

// Where the stream resumes: the last event seen, or on an unfiltered page its newest card (nothing committed
// since the page loaded is missed); a filtered page's newest card may be old, so it starts from now on.
let streamSeq = 0;

function resumeFrom() {
  // an unfiltered page resumes after the newest alert it holds, even none (the archive was empty when it
  // loaded): what arrived while it was away is replayed, not skipped
  if (search.toString() === "") return `?after=${Math.max(streamSeq, cards.maxSeq)}`;
  return streamSeq > 0 ? `?after=${streamSeq}` : "";
}

function listen() {
  const source = new EventSource(`/api/events${resumeFrom()}`);
  source.addEventListener("open", () => {
    live.textContent = "live";
    live.className = "live on";
  });
  source.addEventListener("error", () => {
    live.textContent = "reconnecting…";
    live.className = "live off";
    if (source.readyState === EventSource.CLOSED) {
      // the browser gave up (the daemon answered with an error while restarting): resume by hand
      setTimeout(() => {
        if (window.consoleEvents === source) listen();
      }, 2000);
    }
  });
  source.addEventListener("alert", (message) => {
    const alert = JSON.parse(message.data);
    streamSeq = Math.max(streamSeq, alert.seq);
    addOptions(valuesOf(alert)); // a value first seen live is filterable without a reload
    if (!fits(alert)) return;
    const before = cards.seen.has(alert.seq);
    cards.add(alert, true);
    if (!before) total += 1;
    showStatus();
  });
  // an article joined a story without an alert: its card counts the new outlet and the new last-seen time
  source.addEventListener("story", (message) => cards.updateStory(JSON.parse(message.data)));
  window.consoleEvents = source;
}

async function start() {
  fillForm();
  more.addEventListener("click", () => loadPage().catch(failed));
  form.addEventListener("submit", (event) => {
    event.preventDefault(); // the link keeps only the filters that are set
    const chosen = new URLSearchParams();
    for (const name of FILTERS) {
      const field = form.elements.namedItem(name);
      if (field && field.value.trim()) chosen.set(name, field.value.trim());
    }
    location.href = chosen.toString() ? `/?${chosen}` : "/";
  });
  document.getElementById("clear").addEventListener("click", () => (location.href = "/"));
  await Promise.all([loadFacets(), loadPage()]);
  listen();
}

function failed(error) {
  clear(cardsBox);
  cardsBox.append(el("p", "error", `Could not load alerts: ${error.message}`));
}

start().catch(failed);

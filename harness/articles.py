"""A stream of distinct short articles, and the alerts `monitor tag` predicts for them: the load of the
fault-injection tests and of the chaos run, which count what a subscriber received against it."""

from __future__ import annotations

import json
from pathlib import Path

from harness.processes import monitor_cli


def stream_articles(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """Distinct short articles (Hindi, English, mixed); about two in three should fire an alert."""
    templates = [
        "Pact {i}\n\nRussia and North Korea signed agreement number {i} in Moscow on day {n}.\n",
        "समझौता {i}\n\nरूस और उत्तर कोरिया ने {n} तारीख को {i} नए समझौते पर हस्ताक्षर किए।\n",
        "Market note {i}\n\nShares closed {n} points higher on day {i} in a quiet session.\n",
        "Talks {i}\n\nPutin met Kim Jong Un on day {n}; the two signed a treaty, report {i} said.\n",
        "मौसम {i}\n\nदिल्ली में {n} तारीख को बारिश की संभावना है, रिपोर्ट {i}।\n",
    ]
    return [
        (f"a{seed:02d}-{i:05d}.txt", templates[i % len(templates)].format(i=i, n=(i * 7 + seed) % 31 + 1))
        for i in range(count)
    ]


def write_articles(folder: Path, articles: list[tuple[str, str]]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in articles:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def tagged_alerts(files: list[Path]) -> dict[str, tuple[str, str]]:
    """alert id -> (rule, file name), as `monitor tag --json` computes them for these files."""
    expected: dict[str, tuple[str, str]] = {}
    for start in range(0, len(files), 500):
        result = monitor_cli("tag", "--json", *map(str, files[start : start + 500]))
        assert result.returncode == 0, result.stderr
        for line in result.stdout.splitlines():
            doc = json.loads(line)
            for rule in doc["rules"]:
                expected[rule["id"]] = (rule["rule"], Path(doc["path"]).name)
    return expected


def dated_stream(count: int, seed: int = 0, copy_every: int = 10) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The same articles as JSON, each dated four days after the one before (every article its own event
    for the 72-hour story window), and after every ``copy_every``-th a wire copy of it dated two hours
    later with a sentence added, which must join its story silently. Returns the articles in drop order
    (each copy some articles after its original) and copy name -> original name."""
    start = 946_684_800  # 2000-01-01, so that thousands of four-day steps stay in range
    originals = []
    for index, (name, text) in enumerate(stream_articles(count, seed)):
        title, _, body = text.partition("\n\n")
        when = start + index * 4 * 86_400
        originals.append((name.replace(".txt", ".json"), title, body.strip(), when))
    out: list[tuple[str, str]] = []
    copies: dict[str, str] = {}
    waiting: list[tuple[int, tuple[str, str]]] = []
    for index, (name, title, body, when) in enumerate(originals):
        out.append((name, _json_article(title, body, "Wire", when)))
        if index % copy_every == copy_every - 1:
            copy = f"copy-{name}"
            copies[copy] = name
            waiting.append(
                (index + 5, (copy, _json_article(title, body + " Officials confirmed it.", "Other", when + 7200)))
            )
        while waiting and waiting[0][0] <= index:
            out.append(waiting.pop(0)[1])
    out.extend(item for _, item in waiting)
    return out, copies


def _json_article(title: str, body: str, source: str, when: int) -> str:
    import datetime as dt

    published = dt.datetime.fromtimestamp(when, dt.UTC).isoformat()
    return json.dumps({"title": title, "body": body, "source": source, "published_at": published}, ensure_ascii=False)

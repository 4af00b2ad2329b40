"""History query times with a large archive: ``monitor.history.History`` answering the console's queries.

    .venv/bin/python -m bench.history_queries [--alerts 100000] [--rounds 20]

Fills a fresh state database's archive with ``--alerts`` short articles of the harness (Hindi, English and
mixed), one alert each over four rules, written as the daemon archives them, then times each query
``--rounds`` times on one connection and prints p50 and p95 (ms). Server-side work only: the web layer
adds its own.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from harness.articles import stream_articles
from monitor.history import AlertQuery, History
from monitor.history_schema import ArchivedAlert, ArchiveRecord, archive_article, current_holds
from monitor.history_text import language_of, search_form
from monitor.store import DB_NAME, Store

RULES = ("russia-dprk-agreement", "russia-dprk-meeting", "arms-transfer", "troops")
SEVERITIES = ("low", "medium", "high", "critical")


def fill(db: Path, count: int) -> None:
    store = Store(db)
    with store._transaction():
        holds = current_holds(store._db, 0)
        for index, (name, text) in enumerate(stream_articles(count, seed=5)):
            rule = RULES[index % len(RULES)]
            title = text.split("\n", 1)[0]
            payload = {
                "id": f"alert-{index}",
                "rule": {"id": rule, "title": rule.replace("-", " "), "severity": SEVERITIES[index % 4]},
                "novelty": ("new", "reference", "speculative")[index % 3],
                "entities": [{"id": "russia"}],
                "story": None,
            }
            record = ArchiveRecord(
                title=title,
                source=f"outlet-{index % 20}",
                url=None,
                lang=language_of(text),
                published_at=None,
                day=f"2026-11-{index % 28 + 1:02d}",
                text=text,
                search_title=search_form(title),
                search_text=search_form(text),
                entities=("russia",),
                alerts=(ArchivedAlert(f"alert-{index}", json.dumps(payload).encode()),),
            )
            archive_article(store._db, f"/bench/{name}", f"sha-{index}", record, holds, time.time())
    store.close()


def timed(rounds: int, call: Callable[[], object]) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2] * 1000, times[max(0, int(len(times) * 0.95) - 1)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / DB_NAME
        started = time.perf_counter()
        fill(db, args.alerts)
        print(f"archive: {args.alerts} articles and alerts in {time.perf_counter() - started:.1f} s")
        history = History(db)
        newest = history.last_seq()
        queries: dict[str, Callable[[], object]] = {
            "newest page": lambda: history.alerts(AlertQuery()),
            "second page": lambda: history.alerts(AlertQuery(before=newest - 50)),
            "by rule": lambda: history.alerts(AlertQuery(rule=RULES[2])),
            "search English (1 in 5)": lambda: history.alerts(AlertQuery(text="agreement")),
            "search Hindi (1 in 5)": lambda: history.alerts(AlertQuery(text="समझौता")),
            "search rare": lambda: history.alerts(AlertQuery(text="pact 4242")),
            "search, novelty, language": lambda: history.alerts(AlertQuery(text="agreement", novelty="new", lang="en")),
            "rule, severity, month": lambda: history.alerts(
                AlertQuery(rule=RULES[2], severity="high", since=date(2026, 11, 1), until=date(2026, 11, 30))
            ),
            "entity and severity": lambda: history.alerts(AlertQuery(entity="russia", severity="high")),
            "date range and language": lambda: history.alerts(AlertQuery(since=date(2026, 11, 20), lang="hi")),
            "after (stream replay)": lambda: history.after(newest - 200),
            "last_seq": history.last_seq,
            "facets": history.facets,
        }
        for label, call in queries.items():
            p50, p95 = timed(args.rounds, call)
            print(f"{label:<26} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
        history.close()


if __name__ == "__main__":
    main()

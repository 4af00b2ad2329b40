"""The console under load: the alerts page and searches with 100,000 alerts in the archive (server time,
p95, over loopback HTTP: an upper bound), and the event stream serving 50 open pages while a real daemon
tags a flood of articles (its throughput with and without the pages).

    python -m bench.web_load                      # 100,000 alerts, 50 pages, a 2,000-article flood
    python -m bench.web_load --alerts 20000 --flood 1000 --pages 50

Prints one JSON object. The archive is written through the daemon's own writer (``Store.commit`` with the
history side's ``ArchiveRecord``), from alerts the shipped engine really made, varied per article.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bench.e2e import E2E
from bench.support import TimedCollector, cpu_seconds, percentile, tree_cpu_seconds
from harness.processes import WATCHLISTS, Collector, free_port, wait_until
from monitor.alerts import build_alert, encode_alert
from monitor.articles import parse_article
from monitor.config import WebSettings
from monitor.engine import load_engine
from monitor.history_schema import ArchivedAlert, ArchiveRecord
from monitor.history_text import language_of, search_form
from monitor.store import DB_NAME, ProcessedArticle, Store
from monitor.web.app import Console

TEMPLATES = (
    "Pact {i} in {city}\n\nRussia and North Korea signed agreement number {i} in {city} on day {n}.\n",
    "समझौता {i}\n\nरूस और उत्तर कोरिया ने {n} तारीख को {city} में {i} नए समझौते पर हस्ताक्षर किए।\n",
    "Talks {i}\n\nPutin met Kim Jong Un in {city} on day {n}; the two signed a treaty, report {i} said.\n",
    "Fair {i} in {city}\n\nOfficials recalled the treaty Russia and North Korea signed in June 2024, report {i}.\n",
)
CITIES = ("Moscow", "Pyongyang", "Vladivostok", "Khabarovsk", "Rason", "Wonsan", "Kazan", "Omsk")
SOURCES = ("Asia Wire", "Daily Courier", "East Herald", "Coast Times", "River Post")
QUERIES = {
    "alerts_page": "/api/alerts",
    "alerts_page_deep": "/api/alerts?before={middle}",
    "search_en": "/api/alerts?q=agreement",
    "search_hi": "/api/alerts?q=समझौता",
    "search_rare": "/api/alerts?q=Khabarovsk",
    "search_and_filters": "/api/alerts?q=treaty&novelty=reference&lang=en",
    "filters_only": "/api/alerts?rule=russia-dprk-agreement&severity=high&since=2026-02-01&until=2026-02-28",
    "facets": "/api/facets",
}


def records(count: int) -> Iterator[ProcessedArticle]:
    """``count`` articles of one alert each, alike in shape to what the daemon archives."""
    engine = load_engine([WATCHLISTS])
    for i in range(count):
        text = TEMPLATES[i % len(TEMPLATES)].format(i=i, n=i % 28 + 1, city=CITIES[i % len(CITIES)])
        article = parse_article(f"/bench/{i}.txt", text.encode())
        result = engine.tag(article.text)
        alerts = []
        for hit in result.rules[:1]:
            alert = build_alert(article, result, hit, watchlist_version=engine.version)
            alerts.append(ArchivedAlert(alert.id, encode_alert(alert, 262_144)))
        day = f"2026-{1 + i % 3:02d}-{1 + i % 28:02d}"
        yield ProcessedArticle(
            article.path, "1:1:1", article.sha256, [(a.alert_id, "r") for a in alerts], [],
            archive=ArchiveRecord(
                title=article.title, source=SOURCES[i % len(SOURCES)], url=None, lang=language_of(article.text),
                published_at=f"{day}T08:00:00Z", day=day, text=article.text,
                search_title=search_form(article.title), search_text=search_form(article.text),
                entities=tuple(e.id for e in result.entities), alerts=tuple(alerts),
            ),
        )  # fmt: skip


def fill_archive(state: Path, count: int) -> dict[str, float]:
    started = time.perf_counter()
    store = Store.in_dir(state)
    batch: list[ProcessedArticle] = []
    for processed in records(count):
        batch.append(processed)
        if len(batch) == 500:
            store.commit(batch, [])
            batch = []
    store.commit(batch, [])
    store.close()
    return {"alerts": count, "write_s": round(time.perf_counter() - started, 1)}


async def time_queries(state: Path, count: int, repeat: int) -> dict[str, Any]:
    console = Console(WebSettings(port=free_port()), state)
    assert await console.start()
    out: dict[str, Any] = {}
    try:
        async with aiohttp.ClientSession() as http:
            for name, path in QUERIES.items():
                url = f"{console.url}{path.lstrip('/').format(middle=count // 2)}"
                took, total = [], None
                for _ in range(repeat):
                    started = time.perf_counter()
                    async with http.get(url) as response:
                        body = await response.read()
                        assert response.status == 200, (name, response.status, body[:200])
                    took.append(time.perf_counter() - started)
                    total = json.loads(body).get("total")
                out[name] = {
                    "p50_ms": round(percentile(took, 0.5) * 1000, 1),
                    "p95_ms": round(percentile(took, 0.95) * 1000, 1),
                    "matching": total,
                }
    finally:
        await console.stop()
    return out


#: a page reads at most this much at once, then waits this long (a flood's events then cost it a few reads a
#: second, where reading each segment as it came took as much CPU as the daemon's console; the daemon still
#: writes every event to every page as the poller hands them out)
READ_BYTES = 8 << 20
READ_PAUSE_S = 0.2
#: what a page counts in its stream (chunks are searched for it, not parsed line by line)
ALERT_MARK = b"event: alert"


async def _read_page(host: str, port: int, index: int, events: Any, connected: Any) -> None:
    """One page's stream over a plain socket, its bytes searched for `ALERT_MARK`: the cheapest client there
    is, so that its CPU (on the daemon's box, where browsers would be on others) disturbs the daemon least.
    A mark is never split by the chunked framing (the daemon writes whole events); one split between two
    reads is counted once, in the second."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /api/events HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"the event stream answered {head.splitlines()[0]!r}")
    with connected.get_lock():
        connected.value += 1
    tail = b""
    try:
        while chunk := await reader.read(READ_BYTES):
            data = tail + chunk
            events[index] += data.count(ALERT_MARK)
            tail = data[-(len(ALERT_MARK) - 1) :]
            await asyncio.sleep(READ_PAUSE_S)  # what came meanwhile waits in the socket: one read, not one a segment
    finally:
        writer.close()


async def _read_pages(url: str, count: int, events: Any, connected: Any, stop: Any) -> None:
    where = urlsplit(url)
    assert where.hostname is not None and where.port is not None
    tasks = [asyncio.create_task(_read_page(where.hostname, where.port, i, events, connected)) for i in range(count)]
    await asyncio.to_thread(stop.wait)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _pages_process(url: str, count: int, events: Any, connected: Any, stop: Any) -> None:
    os.nice(19)  # the pages stand for browsers on other machines: they get what the daemon leaves over
    asyncio.run(_read_pages(url, count, events, connected, stop))


class Pages:
    """``count`` open pages on the daemon's event stream: plain-socket clients in a process of their own at
    the lowest priority, counting events without parsing them, so that the measure is the daemon's cost and
    not the benchmark's (50 clients parsing every line in the benchmark's process took as much CPU as the
    daemon's console; 50 aiohttp clients counting marks still took half the daemon's CPU per article)."""

    def __init__(self, url: str, count: int) -> None:
        self.url, self.count = url, count
        context = multiprocessing.get_context("spawn")
        self._events = context.Array("q", count, lock=False)  # one writer per slot
        self._connected = context.Value("i", 0)
        self._stop = context.Event()
        self._process = context.Process(
            target=_pages_process, args=(url, count, self._events, self._connected, self._stop), daemon=True
        )
        self.cpu_s = 0.0
        self._read = -1

    @property
    def events(self) -> list[int]:
        return [int(n) for n in self._events[:]]

    def __enter__(self) -> Pages:
        self._process.start()
        wait_until(lambda: self._connected.value == self.count, 30, what="the pages' streams")
        return self

    def _settled(self) -> bool:
        total = sum(self.events)
        settled, self._read = total == self._read, total
        return settled

    def __exit__(self, *exc: object) -> None:
        assert self._process.pid is not None
        # at the lowest priority the pages may still be reading: until their counts stand still for a second
        wait_until(self._settled, 60, 1.0, what="the pages to read what was sent")
        self.cpu_s = cpu_seconds(self._process.pid)
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def sse_load(root: Path, flood: int, pages: int, rounds: int = 3) -> dict[str, Any]:
    """Flood throughput of a real daemon (every article alerts): alone, then ``rounds`` times with ``pages`` open
    pages and alone again."""
    bench = E2E(root, 0, lambda line: print(line, file=sys.stderr))
    bench.broker.start()
    bench.daemon.broker_port = bench.broker.port
    collector = TimedCollector(bench.broker.port)
    collector.start()
    out: dict[str, Any] = {"pages": pages, "flood_articles": flood}
    try:
        bench.daemon.start()
        status = Collector(bench.broker.port, "newsmon/status", client_id="bench-status").start()
        wait_until(lambda: any(b'"online"' in p for _, p, _ in status.messages), 60, what="daemon online")
        status.stop()
        bench.phase(collector, 50, None, "warmup")
        assert bench.daemon.proc is not None
        pid = bench.daemon.proc.pid

        def phase(tag: str) -> float:
            return float(bench.phase(collector, flood, None, tag)["articles_per_s"])

        def cpu_ms(work: Callable[[], float]) -> tuple[float, float, float]:
            """The rate, and CPU ms per article of the daemon process (where the console runs) and of it with
            its tagging workers (processes of their own)."""
            daemon, everything = cpu_seconds(pid), tree_cpu_seconds(pid)
            rate = work()
            daemon, everything = cpu_seconds(pid) - daemon, tree_cpu_seconds(pid) - everything
            return rate, daemon * 1000 / flood, everything * 1000 / flood

        # alone and with the pages in turn, each page phase between two alone ones: the rate of a box swings
        # by more than the pages cost between runs a minute apart, so a drop is read against its neighbours
        alone = [cpu_ms(lambda: phase("alone-0"))]
        loaded: list[tuple[float, float, float]] = []
        events: list[int] = []
        pages_cpu_s = 0.0
        for round_ in range(rounds):
            open_pages = Pages(bench.daemon.web_url, pages)

            def with_pages(pages_open: Pages = open_pages, tag: str = f"pages-{round_}") -> float:
                with pages_open:  # the daemon's CPU counted until the pages have read everything
                    return phase(tag)

            loaded.append(cpu_ms(with_pages))
            events += open_pages.events
            pages_cpu_s += open_pages.cpu_s
            alone.append(cpu_ms(partial(phase, f"alone-{round_ + 1}")))
        drops = [100 * (1 - rate / ((alone[i][0] + alone[i + 1][0]) / 2)) for i, (rate, _, _) in enumerate(loaded)]
        cpu_drops = [100 * (1 - (alone[i][2] + alone[i + 1][2]) / 2 / every) for i, (_, _, every) in enumerate(loaded)]
        out.update(
            rounds=rounds,
            articles_per_s_alone=[round(rate, 1) for rate, _, _ in alone],
            articles_per_s_with_pages=[round(rate, 1) for rate, _, _ in loaded],
            throughput_drop_percent=[round(drop, 1) for drop in drops],
            throughput_drop_percent_median=round(statistics.median(drops), 1),
            daemon_cpu_ms_per_article_alone=round(statistics.mean(daemon for _, daemon, _ in alone), 2),
            daemon_cpu_ms_per_article_with_pages=round(statistics.mean(daemon for _, daemon, _ in loaded), 2),
            # CPU-bound, throughput goes as 1 / CPU per article: the drop the pages' extra CPU makes on a box
            # that runs only this (robust where the measured rates swing with other work on the machine)
            cpu_ms_per_article_with_workers_alone=round(statistics.mean(every for _, _, every in alone), 2),
            cpu_ms_per_article_with_workers_with_pages=round(statistics.mean(every for _, _, every in loaded), 2),
            cpu_bound_drop_percent=[round(drop, 1) for drop in cpu_drops],
            cpu_bound_drop_percent_median=round(statistics.median(cpu_drops), 1),
            events_per_page_min=min(events),
            events_per_page_max=max(events),
            pages_cpu_ms_per_article=round(pages_cpu_s * 1000 / (flood * rounds), 2),
        )
    finally:
        if bench.daemon.proc is not None:
            bench.daemon.stop()
        collector.stop()
        bench.broker.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=100, help="requests per query kind")
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--flood", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="phases with the pages, each between two without")
    parser.add_argument("--skip", nargs="*", default=[], choices=["queries", "sse"])
    parser.add_argument(
        "--archive", type=Path, help="a state folder for the queries' archive: filled once, reused by later runs"
    )
    args = parser.parse_args()
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="newsmon-web-") as tmp:
        if "queries" not in args.skip:
            state = args.archive or Path(tmp) / "state"
            if args.archive is not None and (state / DB_NAME).exists():
                with closing(sqlite3.connect(state / DB_NAME)) as db:
                    (alerts,) = db.execute("SELECT count(*) FROM archive_alerts").fetchone()
                result["archive"] = {"alerts": alerts, "reused": True}
            else:
                result["archive"] = fill_archive(state, args.alerts)
            result["queries"] = asyncio.run(time_queries(state, args.alerts, args.repeat))
        if "sse" not in args.skip:
            result["sse"] = sse_load(Path(tmp) / "sse", args.flood, args.pages, args.rounds)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

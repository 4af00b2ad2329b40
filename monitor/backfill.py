"""``monitor backfill FOLDER``: tag an archive of articles that was never watched.

Dry run (the default) prints what would alert and writes nothing. ``--publish`` goes through the
daemon's own parts, the Processor, the SQLite store and outbox, and the Publisher, on the same state
folder: an article already processed (by the daemon or an earlier backfill, under any name) is not
alerted again, and alerts the broker does not take now stay in the outbox for the daemon to deliver.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from monitor.articles import ArticleError, content_hash, parse_article, read_file, stamp_of
from monitor.config import Settings
from monitor.engine import Engine
from monitor.processing import Processor
from monitor.publisher import Publisher
from monitor.sources.files import NameFilter
from monitor.store import StateLock, Store, StoreThread

BATCH = 64


@dataclass
class Report:
    results: Counter[str] = field(default_factory=Counter)
    #: (path, rule, severity, title) of every alert produced (or, in a dry run, that would be)
    alerts: list[tuple[str, str, str, str]] = field(default_factory=list)
    pending: int = 0


def archive_files(folder: Path, settings: Settings) -> list[Path]:
    """The article files below ``folder`` that the daemon would take (same include/ignore names)."""
    names = NameFilter(tuple(settings.watch.include), tuple(settings.watch.ignore))
    return sorted(_walk(folder.absolute(), names))


def _walk(top: Path, names: NameFilter) -> Iterator[Path]:
    for folder, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames[:] = [d for d in dirnames if not names.ignores(d)]
        yield from (Path(folder, f) for f in filenames if names.accepts_file(f))


def for_archive(settings: Settings, folder: Path) -> Settings:
    """The settings with the archive as the only root, so the reader's symlink containment applies to it."""
    return settings.model_copy(update={"watch": settings.watch.model_copy(update={"paths": [folder.absolute()]})})


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def dry_run(settings: Settings, engine: Engine, folder: Path, files: Sequence[Path], console: Console) -> Report:
    """Tag every file; skip what the state folder says was processed already. Writes nothing."""
    db = Store.in_dir(settings.state.dir).path if (settings.state.dir / "monitor.sqlite3").is_file() else None
    store = Store(db) if db is not None else None
    report = Report()
    seen: set[str] = set()
    try:
        with _progress(console) as progress:
            task = progress.add_task("tagging", total=len(files))
            for path in files:
                report.results[_dry_one(settings, engine, folder, path, store, seen, report)] += 1
                progress.advance(task)
    finally:
        if store is not None:
            store.close()
    return report


def _dry_one(
    settings: Settings, engine: Engine, folder: Path, path: Path, store: Store | None, seen: set[str], report: Report
) -> str:
    stamp = stamp_of(path)
    if store is not None and stamp is not None and store.is_unchanged(stamp):
        return "duplicate"
    try:
        data = read_file(path, [folder.absolute()], settings.watch.max_bytes)
        sha = content_hash(data)
        if sha in seen or (store is not None and store.content_seen(sha)):
            return "duplicate"
        seen.add(sha)
        article = parse_article(str(path), data)
    except ArticleError:
        return "error"
    result = engine.tag(article.text)
    report.alerts.extend((str(path), hit.rule, hit.severity, article.title) for hit in result.rules)
    return "alerted" if result.rules else "clean"


async def publish(
    settings: Settings, engine: Engine, folder: Path, files: Sequence[Path], console: Console, flush_timeout: float
) -> Report:
    """Process through the store and outbox like the daemon, then deliver for up to ``flush_timeout`` s."""
    settings = for_archive(settings, folder)
    store = StoreThread(Store.in_dir(settings.state.dir))
    processor = Processor(settings, store.store, lambda: engine)
    # not the daemon: it must not touch the daemon's retained status or Last Will
    publisher = Publisher(settings.mqtt, store, dict, announce=False, client_id=f"newsmon-backfill-{os.getpid()}")
    delivery = asyncio.create_task(publisher.run(), name="publisher")
    report = Report()
    try:
        with _progress(console) as progress:
            task = progress.add_task("tagging", total=len(files))
            for start in range(0, len(files), BATCH):
                chunk = files[start : start + BATCH]
                outcomes = await store.run(processor.process, chunk)
                for outcome in outcomes:
                    report.results[outcome.result] += 1
                    report.alerts.extend((outcome.path, rule, severity, "") for rule, severity in outcome.rules)
                # files processed before with this exact size and mtime are skipped without an outcome
                report.results["duplicate"] += len(set(chunk)) - len(outcomes)
                publisher.wakeup.set()
                progress.advance(task, len(chunk))
        console.print(f"delivering (up to {flush_timeout:g} s)…")
    finally:
        publisher.stop(flush_timeout)
        await asyncio.gather(delivery, return_exceptions=True)
        report.pending = await store.run(store.store.outbox_depth)
        await store.run(processor.close)
        store.close()
    return report


def summary(report: Report, files: int, published: bool) -> str:
    counts = ", ".join(f"{report.results[k]} {k}" for k in ("alerted", "clean", "duplicate", "error"))
    verb = "queued for publishing" if published else "would be published"
    return f"{files} files: {counts}; {len(report.alerts)} alerts {verb}"


def run_backfill(settings: Settings, engine: Engine, folder: Path, *, publish_mode: bool, flush_timeout: float) -> int:
    """Entry point of ``monitor backfill``: progress and summary on stderr, dry-run findings on stdout."""
    console = Console(stderr=True, highlight=False)
    files = archive_files(folder, settings)
    if not publish_mode:
        report = dry_run(settings, engine, folder, files, console)
        for path, rule, severity, title in report.alerts:
            short = title if len(title) <= 80 else title[:79] + "…"
            print(f"would alert  {severity:<8}  {rule}  {path}  {short}", flush=True)
        console.print(summary(report, len(files), published=False))
        return 0
    lock = StateLock(settings.state.dir)
    if not lock.acquire():
        console.print(
            f"backfill: a daemon (pid {lock.holder()}) is running on {settings.state.dir}; stop it, or drop "
            "the files into its watched folder instead (two publishers on one outbox would send everything twice)"
        )
        return 1
    try:
        report = asyncio.run(publish(settings, engine, folder, files, console, flush_timeout))
    finally:
        lock.release()
    console.print(summary(report, len(files), published=True))
    if report.pending:
        console.print(
            f"{report.pending} messages not yet acknowledged stay in the outbox in {settings.state.dir}: "
            "the daemon delivers them (or run backfill again)"
        )
        return 1
    return 0

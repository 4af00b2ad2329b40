"""``monitor backfill FOLDER``: tag an archive of articles that was never watched.

Both modes run the archive through the daemon's own pipeline (reader, dedup, worker pool, batches), on
the same state folder. A dry run (the default) does not commit: it prints what would alert and writes
nothing. ``--publish`` commits to the SQLite store and outbox and delivers through the Publisher: an
article already processed (by the daemon or an earlier backfill, under any name) is not alerted again,
and alerts the broker does not take now stay in the outbox for the daemon to deliver.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from monitor.analysis import Publishing
from monitor.config import Settings
from monitor.engine import Engine
from monitor.mqtt import default_client_id
from monitor.pipeline import Pipeline
from monitor.processing import Outcome, Processor
from monitor.publisher import Publisher
from monitor.sources.archive import ArchiveSource
from monitor.state import DiskWatch, StateError, StateLock, check_state, open_state
from monitor.store import DB_NAME, Store, StoreThread
from monitor.stories import StoryBook
from monitor.terminal import safe_text
from monitor.workers import TaggingPool


@dataclass
class Report:
    results: Counter[str] = field(default_factory=Counter)
    #: (path, rule, severity, title) of every alert produced (or, in a dry run, that would be)
    alerts: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: outbox messages the broker acknowledged during the run (this run's, and any an earlier run left)
    delivered: int = 0
    pending: int = 0

    def add(self, keys: Sequence[str], outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            self.results[outcome.result] += 1
            if outcome.alert_ids:  # a silent article (its story had it) fired rules but alerted nothing
                self.alerts.extend((outcome.key, rule, severity, outcome.title) for rule, severity in outcome.rules)
        # articles handled before at this exact version are skipped without an outcome
        self.results["duplicate"] += len(set(keys)) - len(outcomes)


def for_archive(settings: Settings, folder: Path) -> Settings:
    """The settings with the archive as the only root, so the reader's symlink containment applies to it."""
    return settings.model_copy(update={"watch": settings.watch.model_copy(update={"paths": [folder.absolute()]})})


#: the counts of a report where no article joined a story silently (stories off, or nothing to join)
_WITHOUT_SILENT = ("alerted", "clean", "duplicate", "error")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def _store_for(settings: Settings, publish: bool) -> Store:
    """The state folder's store (``--publish`` has checked it under the lock, a dry run checks it here); a dry
    run on a state folder that does not exist yet creates none."""
    if publish:
        return Store.in_dir(settings.state.dir)
    if (settings.state.dir / DB_NAME).is_file():
        check_state(settings.state.dir)
        return Store.in_dir(settings.state.dir)
    return Store(None)


async def backfill(
    settings: Settings, engine: Engine, source: ArchiveSource, console: Console, *, publish: bool, flush_timeout: float
) -> Report:
    """Run the archive through the pipeline; with ``publish``, commit and deliver for up to ``flush_timeout`` s."""
    report = Report()
    store = _store_for(settings, publish)
    thread = StoreThread(store)
    disk = DiskWatch.of(thread)
    stories = StoryBook.from_settings(settings.stories)
    if stories is not None:
        store.load_stories(stories)
    publishing = Publishing(
        settings.mqtt.topic_prefix,
        settings.mqtt.max_payload_bytes,
        stories=stories is not None,
        keep_text=settings.history.keep_text,
    )
    # not the daemon: it must not touch the daemon's retained status or Last Will
    publisher = (
        Publisher(settings.mqtt, thread, dict, announce=False, client_id=default_client_id("backfill"), disk=disk)
        if publish
        else None
    )
    delivery = asyncio.create_task(publisher.run(), name="publisher") if publisher is not None else None
    try:
        with _progress(console) as progress:
            task = progress.add_task("tagging", total=len(source.files))

            def committed(keys: Sequence[str], outcomes: list[Outcome]) -> None:
                report.add(keys, outcomes)
                progress.advance(task, len(keys))
                if publisher is not None:
                    publisher.wakeup.set()

            def given_up(keys: Sequence[str]) -> None:
                report.results["error"] += len(keys)
                progress.advance(task, len(keys))

            pool = TaggingPool(settings.processing.workers, publishing)
            processor = Processor(store, source, publishing, commit=publish, stories=stories)
            pipeline = Pipeline(
                source, thread, processor, pool, engine, on_committed=committed, on_given_up=given_up, disk=disk
            )
            try:
                await _through(pipeline, source)
            finally:
                await pipeline.close()
        if publisher is not None:
            console.print(f"delivering (up to {flush_timeout:g} s)…")
    finally:
        if publisher is not None and delivery is not None:
            publisher.stop(flush_timeout)
            await asyncio.gather(delivery, return_exceptions=True)
            report.delivered = publisher.published
            report.pending = await thread.call(Store.outbox_depth)
        thread.close()
    return report


async def _through(pipeline: Pipeline, source: ArchiveSource) -> None:
    """Emit every file, wait until each is committed (or given up), then stop the pipeline."""
    running = asyncio.create_task(pipeline.run(), name="pipeline")
    feeding = asyncio.create_task(source.run(pipeline.put), name="source")
    try:
        await asyncio.wait({feeding, running}, return_when=asyncio.FIRST_COMPLETED)  # a failed pipeline stops it
        if feeding.done():
            drained = asyncio.ensure_future(pipeline.drained())
            await asyncio.wait({drained, running}, return_when=asyncio.FIRST_COMPLETED)
            drained.cancel()
    finally:
        feeding.cancel()
        await pipeline.finish()
        await asyncio.gather(running, feeding, return_exceptions=True)
    error = running.exception() if running.done() and not running.cancelled() else None
    if error is not None:
        raise error


def summary(report: Report, files: int, published: bool) -> str:
    """What was tagged and, with ``--publish``, what the broker took: counted from its acknowledgements."""
    kinds = ("alerted", "silent", "clean", "duplicate", "error") if report.results["silent"] else _WITHOUT_SILENT
    counts = ", ".join(f"{report.results[k]} {k}" for k in kinds)
    if not published:
        return f"{files} files: {counts}; {len(report.alerts)} alerts would be published"
    return f"{files} files: {counts}; {len(report.alerts)} new alerts; {report.delivered} messages delivered"


def run_backfill(settings: Settings, engine: Engine, folder: Path, *, publish_mode: bool, flush_timeout: float) -> int:
    """Entry point of ``monitor backfill``: progress and summary on stderr, dry-run findings on stdout; exit
    code 2 when the state folder cannot be used (corrupt database, full disk), as for the daemon."""
    console = Console(stderr=True, highlight=False)
    settings = for_archive(settings, folder)
    source = ArchiveSource(settings.watch)
    try:
        if publish_mode:
            return _publish(settings, engine, source, console, flush_timeout)
        return _dry_run(settings, engine, source, console)
    except StateError as exc:
        console.print(f"backfill: {exc}", soft_wrap=True, markup=False)
        return 2


def _dry_run(settings: Settings, engine: Engine, source: ArchiveSource, console: Console) -> int:
    report = asyncio.run(backfill(settings, engine, source, console, publish=False, flush_timeout=0))
    for path, rule, severity, title in report.alerts:
        short = title if len(title) <= 80 else title[:79] + "…"
        print(safe_text(f"would alert  {severity:<8}  {rule}  {path}  {short}", one_line=True), flush=True)
    console.print(summary(report, len(source.files), published=False))
    return 0


def _publish(settings: Settings, engine: Engine, source: ArchiveSource, console: Console, flush_timeout: float) -> int:
    lock = StateLock(settings.state.dir)
    try:
        if not lock.acquire():
            console.print(
                f"backfill: a daemon (pid {lock.holder()}) is running on {settings.state.dir}; stop it, or drop the "
                "files into its watched folder instead (two publishers on one outbox would send everything twice)"
            )
            return 1
        open_state(settings.state.dir)
        report = asyncio.run(backfill(settings, engine, source, console, publish=True, flush_timeout=flush_timeout))
    finally:
        lock.release()
    console.print(summary(report, len(source.files), published=True))
    if report.pending:
        console.print(
            f"{report.pending} messages not yet acknowledged stay in the outbox in {settings.state.dir}: "
            "the daemon delivers them (or run backfill again)"
        )
        return 1
    return 0

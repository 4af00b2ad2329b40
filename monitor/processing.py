"""From a file path to a committed outcome: read, deduplicate, parse, tag, build alerts, and commit the
whole batch in one durable transaction. Reading and committing run on the store thread; parsing,
tagging and encoding (pure CPU work) run there too, or in worker processes."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from monitor.alerts import ErrorRecord, build_alert, encode, encode_alert, now_iso
from monitor.articles import ArticleError, FileStamp, content_hash, parse_article, read_file, stamp_of
from monitor.config import Settings
from monitor.engine import Engine
from monitor.store import FailedFile, OutboxMessage, ProcessedArticle, Store
from monitor.topics import alert_topic, error_topic

log = structlog.get_logger("monitor.processing")


@dataclass(frozen=True, slots=True)
class Outcome:
    path: str
    #: alerted, clean (tagged, nothing fired), duplicate (content seen before), error
    result: str
    rules: tuple[tuple[str, str], ...] = ()  # (rule, severity)
    alert_ids: tuple[str, ...] = ()
    took_s: float = 0.0
    reason: str = ""
    message: str = ""


@dataclass
class Batch:
    processed: list[ProcessedArticle] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Job:
    """What tagging one article needs: picklable, so it can cross into a worker process."""

    path: str
    data: bytes
    #: rule -> id of the alert for an earlier version of this path (what a new alert supersedes)
    previous: dict[str, str]


@dataclass(frozen=True, slots=True)
class Analysis:
    alerts: tuple[tuple[str, str], ...] = ()  # (alert id, rule)
    messages: tuple[OutboxMessage, ...] = ()
    rules: tuple[tuple[str, str], ...] = ()  # (rule, severity)
    #: (reason, message) when the article could not be tagged
    error: tuple[str, str] | None = None
    #: traceback of an unexpected failure (a bug), for the daemon to log
    crash: str = ""
    took_s: float = 0.0


def analyse(job: Job, engine: Engine, prefix: str, max_payload_bytes: int) -> Analysis:
    """Parse, tag, build and encode one article's alerts: pure CPU work, safe in a worker process.
    An unexpected failure (a bug, ours or a library's) costs this article, never its batch."""
    started = time.perf_counter()
    try:
        article = parse_article(job.path, job.data)
    except ArticleError as exc:
        return Analysis(error=(exc.reason, exc.message))
    except Exception as exc:
        return Analysis(error=("read-failure", f"{type(exc).__name__}: {exc}"), crash=traceback.format_exc())
    try:
        result = engine.tag(article.text)
    except Exception as exc:
        return Analysis(error=("engine-failure", f"{type(exc).__name__}: {exc}"), crash=traceback.format_exc())
    alerts, messages = [], []
    for hit in result.rules:
        alert = build_alert(
            article, result, hit, watchlist_version=engine.version, supersedes=job.previous.get(hit.rule)
        )
        alerts.append((alert.id, hit.rule))
        topic = alert_topic(prefix, hit.rule, hit.topic_suffix)
        messages.append(OutboxMessage(alert.id, topic, encode_alert(alert, max_payload_bytes)))
    return Analysis(
        alerts=tuple(alerts),
        messages=tuple(messages),
        rules=tuple((hit.rule, hit.severity) for hit in result.rules),
        took_s=time.perf_counter() - started,
    )


#: the worker process's engine and settings, set once when the worker starts
_worker: tuple[Engine, str, int] | None = None


def _start_worker(engine: Engine, prefix: str, max_payload_bytes: int, daemon_pid: int) -> None:
    global _worker
    # the daemon decides when work stops: a Ctrl-C or a SIGTERM sent to the whole group must not kill a
    # worker mid-batch (the daemon shuts the pool down on stop; the thread below ends a worker whose
    # daemon died)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(daemon_pid,), daemon=True).start()
    _worker = (engine, prefix, max_payload_bytes)


def _exit_with_parent(parent: int) -> None:
    """A worker holds its own end of the task queue, so it never sees the daemon die (kill -9): watch."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _analyse_chunk(jobs: list[Job]) -> list[Analysis]:
    assert _worker is not None, "worker started without an engine"
    return [analyse(job, *_worker) for job in jobs]


class Tagger:
    """Runs ``analyse`` over a batch: in the calling thread, or spread over worker processes (one process
    tags on one core at a time, whatever its threads). Workers get the compiled engine when they start,
    and are replaced when the engine is (a reload)."""

    def __init__(self, workers: int, prefix: str, max_payload_bytes: int) -> None:
        self.workers = workers
        self.prefix = prefix
        self.max_payload_bytes = max_payload_bytes
        self._pool: ProcessPoolExecutor | None = None
        self._pool_engine: Engine | None = None

    def run(self, engine: Engine, jobs: Sequence[Job]) -> list[Analysis]:
        """Tag a batch and wait for it."""
        futures = self.submit(engine, jobs)
        if futures is None:
            return self.run_here(engine, jobs)
        try:
            return [analysis for future in futures for analysis in future.result()]
        except BrokenProcessPool:
            return self.recover(engine, jobs)

    def submit(self, engine: Engine, jobs: Sequence[Job]) -> list[Future[list[Analysis]]] | None:
        """Start tagging a batch in the workers (None: no workers, or too small a batch to share)."""
        if not self.workers or len(jobs) < 2:
            return None
        pool = self.pool_for(engine)
        size = -(-len(jobs) // (self.workers * 2))  # two chunks a worker: both stay busy to the end
        return [pool.submit(_analyse_chunk, list(jobs[i : i + size])) for i in range(0, len(jobs), size)]

    def run_here(self, engine: Engine, jobs: Sequence[Job]) -> list[Analysis]:
        return [analyse(job, engine, self.prefix, self.max_payload_bytes) for job in jobs]

    def recover(self, engine: Engine, jobs: Sequence[Job]) -> list[Analysis]:
        """A worker died: tag this batch here; the workers start again with the next one."""
        log.error("a tagging worker died; this batch is tagged in the daemon, the workers are restarted")
        self.close()
        return self.run_here(engine, jobs)

    def pool_for(self, engine: Engine) -> ProcessPoolExecutor:
        """The pool whose workers hold ``engine`` (started now, or restarted after a reload)."""
        if self._pool is None or self._pool_engine is not engine:
            self.close()
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),  # never fork a process that has threads
                initializer=_start_worker,
                initargs=(engine, self.prefix, self.max_payload_bytes, os.getpid()),
            )
            self._pool_engine = engine
        return self._pool

    def start(self, engine: Engine) -> None:
        """Start the workers now (they take a second to spawn), not with the first article's latency."""
        if self.workers:
            pool = self.pool_for(engine)
            for future in [pool.submit(os.getpid) for _ in range(self.workers)]:
                future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None
        self._pool_engine = None


@dataclass(frozen=True, slots=True)
class _Read:
    """A file read and hashed, waiting for its analysis (or already decided: duplicate)."""

    path: Path
    stamp: FileStamp
    sha: str
    job: Job | None


@dataclass
class Prepared:
    """A batch read and deduplicated, whose jobs are being tagged; ``finish`` commits it."""

    engine: Engine
    reads: list[_Read] = field(default_factory=list)
    batch: Batch = field(default_factory=Batch)
    #: paths of a batch still in flight: handed on again once it is committed
    deferred: list[Path] = field(default_factory=list)

    @property
    def jobs(self) -> list[Job]:
        return [read.job for read in self.reads if read.job is not None]


class Processor:
    """Turns batches of paths into committed outcomes, in three steps so that the daemon can read the
    next batch while the workers tag this one: ``prepare`` (read, hash, deduplicate), tagging
    (``tagger``), ``finish`` (record, commit). ``process`` does all three in a row. The steps that
    touch the store run on the store thread."""

    def __init__(self, settings: Settings, store: Store, engine: Callable[[], Engine]) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine
        self.roots = [p.absolute() for p in settings.watch.paths]
        self.prefix = settings.mqtt.topic_prefix
        self.tagger = Tagger(settings.processing.workers, self.prefix, settings.mqtt.max_payload_bytes)
        #: contents and paths prepared but not yet committed (batches overlap in the daemon)
        self._shas_in_flight: set[str] = set()
        self._paths_in_flight: set[Path] = set()

    def close(self) -> None:
        self.tagger.close()

    def process(self, paths: Sequence[Path]) -> list[Outcome]:
        """Handle a batch of candidate paths; unchanged files are skipped without reading them."""
        prepared = self.prepare(paths)
        return self.finish(prepared, self.tagger.run(prepared.engine, prepared.jobs))

    def prepare(self, paths: Sequence[Path]) -> Prepared:
        prepared = Prepared(self.engine())  # one engine for the whole batch, even if a reload lands meanwhile
        shas: set[str] = set()
        for path in dict.fromkeys(paths):
            if path in self._paths_in_flight:
                prepared.deferred.append(path)  # its earlier version is still being tagged
                continue
            stamp = stamp_of(path)
            if stamp is not None and self.store.is_unchanged(stamp):
                continue
            read = self._read(path, stamp, shas, prepared.batch)
            if read is not None:
                prepared.reads.append(read)
        self._shas_in_flight.update(shas)
        self._paths_in_flight.update(read.path for read in prepared.reads)
        return prepared

    def finish(self, prepared: Prepared, analyses: Sequence[Analysis]) -> list[Outcome]:
        batch = prepared.batch
        try:
            results = iter(analyses)
            for read in prepared.reads:  # in path order: the first file with some content is the one that alerts
                with structlog.contextvars.bound_contextvars(article=str(read.path)):  # on every line about it
                    if read.job is None:
                        batch.processed.append(ProcessedArticle(read.stamp, read.sha, (), ()))
                        batch.outcomes.append(Outcome(str(read.path), "duplicate"))
                    else:
                        self._record(read, next(results), batch)
            if batch.processed or batch.failed:
                self.store.commit(batch.processed, batch.failed)
                self._quarantine(batch.failed)
        finally:
            self._shas_in_flight.difference_update(read.sha for read in prepared.reads if read.job is not None)
            self._paths_in_flight.difference_update(read.path for read in prepared.reads)
        return batch.outcomes

    def _read(self, path: Path, stamp: FileStamp | None, shas: set[str], batch: Batch) -> _Read | None:
        """Read and hash; content seen before (here or in this batch) needs no tagging.
        ``stamp`` is taken before reading: if the file changes meanwhile, a rescan sees it changed."""
        try:
            if stamp is None:
                raise ArticleError("vanished", "the file disappeared before it could be read")
            data = read_file(path, self.roots, self.settings.watch.max_bytes)
        except ArticleError as exc:
            self._fail(path, stamp, exc.reason, exc.message, batch)
            return None
        sha = content_hash(data)
        if sha in shas or sha in self._shas_in_flight or self.store.content_seen(sha):
            return _Read(path, stamp, sha, None)
        shas.add(sha)
        return _Read(path, stamp, sha, Job(str(path), data, self.store.previous_alerts(str(path))))

    def _record(self, read: _Read, analysis: Analysis, batch: Batch) -> None:
        if analysis.crash:
            log.error("article failed unexpectedly", path=str(read.path), traceback=analysis.crash)
        if analysis.error is not None:
            self._fail(read.path, read.stamp, *analysis.error, batch)
            return
        for alert_id, rule in analysis.alerts:
            log.debug("alert queued", alert_id=alert_id, rule=rule)
        batch.processed.append(ProcessedArticle(read.stamp, read.sha, analysis.alerts, analysis.messages))
        batch.outcomes.append(
            Outcome(
                str(read.path),
                "alerted" if analysis.alerts else "clean",
                rules=analysis.rules,
                alert_ids=tuple(alert_id for alert_id, _ in analysis.alerts),
                took_s=analysis.took_s,
            )
        )

    def _fail(self, path: Path, stamp: FileStamp | None, reason: str, message: str, batch: Batch) -> None:
        file_stamp = stamp or FileStamp(str(path), -1, -1, -1)
        record = ErrorRecord(
            id=hashlib.sha256(f"{path}\0{file_stamp.size}\0{file_stamp.mtime_ns}\0{reason}".encode()).hexdigest()[:32],
            path=str(path),
            reason=reason,
            message=message,
            time=now_iso(),
        )
        message_out = OutboxMessage(record.id, error_topic(self.prefix), encode(record))
        batch.failed.append(FailedFile(file_stamp, reason, message, [message_out]))
        batch.outcomes.append(Outcome(str(path), "error", reason=reason, message=message))

    def _quarantine(self, failed: Sequence[FailedFile]) -> None:
        """Move bad files aside when configured; never for files that are gone or not ours to move."""
        target_root = self.settings.watch.quarantine
        if target_root is None:
            return
        for bad in failed:
            if bad.reason in ("vanished", "symlink-outside", "not-a-regular-file"):
                continue
            source = Path(bad.stamp.path)
            target = target_root / f"{int(time.time())}-{source.name}"
            try:
                target_root.mkdir(parents=True, exist_ok=True)
                shutil.move(source, target)
            except OSError as exc:
                log.warning("could not quarantine file", path=str(source), error=exc.strerror or str(exc))

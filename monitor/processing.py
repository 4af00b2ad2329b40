"""The two steps of a batch that touch the store, run on the store thread: ``prepare`` (version check,
read, hash, deduplicate: which articles need tagging) and ``finish`` (record what tagging found and
commit it with its outbox messages, durably, in one transaction). Tagging itself happens between the
two, in the worker pool; ``pipeline.py`` runs the three in order.

Keys are whatever the source uses (a folder: paths); the source reads and settles them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from monitor.alerts import ErrorRecord, encode, now_iso
from monitor.analysis import Analysis, Job, Publishing
from monitor.articles import ArticleError, content_hash
from monitor.engine import Engine
from monitor.sources import ArticleStore, Rejected
from monitor.state import is_storage_full
from monitor.store import FailedArticle, OutboxMessage, ProcessedArticle, Store
from monitor.topics import error_topic

log = structlog.get_logger("monitor.processing")


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    #: alerted, clean (tagged, nothing fired), duplicate (content seen before), error
    result: str
    rules: tuple[tuple[str, str], ...] = ()  # (rule, severity)
    alert_ids: tuple[str, ...] = ()
    title: str = ""
    took_s: float = 0.0
    reason: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class _Read:
    """An article read and hashed, waiting for its analysis (or already decided: duplicate)."""

    key: str
    version: str
    sha: str
    job: Job | None


@dataclass
class Prepared:
    """A batch read and deduplicated, whose jobs are being tagged; ``finish`` commits it."""

    engine: Engine
    reads: list[_Read] = field(default_factory=list)
    processed: list[ProcessedArticle] = field(default_factory=list)
    failed: list[FailedArticle] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    #: keys of a batch still in flight: handed on again once it is committed
    deferred: list[str] = field(default_factory=list)

    @property
    def jobs(self) -> list[Job]:
        return [read.job for read in self.reads if read.job is not None]


class Processor:
    """``commit=False`` is a dry run: the store is only read, and what the run decided is remembered in
    memory instead (a second copy of an article is still a duplicate)."""

    def __init__(self, store: Store, source: ArticleStore, publishing: Publishing, *, commit: bool = True) -> None:
        self.store = store
        self.source = source
        self.publishing = publishing
        self.commit = commit
        #: contents and keys prepared but not yet committed (batches overlap in the pipeline)
        self._shas_in_flight: set[str] = set()
        self._keys_in_flight: set[str] = set()
        #: a dry run's own memory of contents it decided (nothing is committed)
        self._shas_decided: set[str] = set()

    def prepare(self, keys: Sequence[str], engine: Engine) -> Prepared:
        """Which of ``keys`` need tagging; an unchanged version is skipped without reading it."""
        prepared = Prepared(engine)  # one engine for the whole batch, even if a reload lands meanwhile
        shas: set[str] = set()
        for key in dict.fromkeys(keys):
            if key in self._keys_in_flight:
                prepared.deferred.append(key)  # its earlier version is still being tagged
                continue
            version = self.source.version(key)
            if version is not None and self.store.is_unchanged(key, version):
                continue
            read = self._read(key, version, shas, prepared)
            if read is not None:
                prepared.reads.append(read)
        self._shas_in_flight.update(shas)
        self._keys_in_flight.update(read.key for read in prepared.reads)
        return prepared

    def finish(self, prepared: Prepared, analyses: Sequence[Analysis]) -> list[Outcome]:
        """Record what tagging found and commit it (``commit_recorded``)."""
        try:
            results = iter(analyses)
            for read in prepared.reads:  # in key order: the first article with some content is the one that alerts
                with structlog.contextvars.bound_contextvars(article=read.key):  # on every line about it
                    if read.job is None:
                        prepared.processed.append(ProcessedArticle(read.key, read.version, read.sha, (), ()))
                        prepared.outcomes.append(Outcome(read.key, "duplicate"))
                    else:
                        self._record(read, next(results), prepared)
        except BaseException:
            self.release(prepared)
            raise
        return self.commit_recorded(prepared)

    def commit_recorded(self, prepared: Prepared) -> list[Outcome]:
        """Commit a recorded batch durably. When the disk is full the batch stays in hand (its keys and
        contents still in flight, so the next batches defer to it) and this may be called again; any
        other failure lets it go."""
        try:
            self._commit(prepared)
        except BaseException as exc:
            if not is_storage_full(exc):
                self.release(prepared)
            raise
        self.release(prepared)
        return prepared.outcomes

    def release(self, prepared: Prepared) -> None:
        """The batch is committed or given up: its keys and contents are no longer in flight."""
        self._shas_in_flight.difference_update(read.sha for read in prepared.reads if read.job is not None)
        self._keys_in_flight.difference_update(read.key for read in prepared.reads)

    def _commit(self, prepared: Prepared) -> None:
        if not (prepared.processed or prepared.failed):
            return
        if not self.commit:
            self._shas_decided.update(art.sha256 for art in prepared.processed)
            return
        self.store.commit(prepared.processed, prepared.failed)
        self.source.settled([Rejected(bad.key, bad.reason) for bad in prepared.failed])

    def _read(self, key: str, version: str | None, shas: set[str], prepared: Prepared) -> _Read | None:
        """Read and hash; content seen before (here or in this batch) needs no tagging.
        ``version`` is taken before reading: if the article changes meanwhile, a rescan sees it changed."""
        try:
            if version is None:
                raise ArticleError("vanished", "the file disappeared before it could be read")
            raw = self.source.read(key)
        except ArticleError as exc:
            self._fail(key, version or "", exc.reason, exc.message, prepared)
            return None
        sha = content_hash(raw.data)
        if sha in shas or sha in self._shas_in_flight or sha in self._shas_decided or self.store.content_seen(sha):
            return _Read(key, version, sha, None)
        shas.add(sha)
        return _Read(key, version, sha, Job(raw.name, raw.data, self.store.previous_alerts(key)))

    def _record(self, read: _Read, analysis: Analysis, prepared: Prepared) -> None:
        if analysis.crash:
            log.error("article failed unexpectedly", path=read.key, traceback=analysis.crash)
        if analysis.error is not None:
            self._fail(read.key, read.version, *analysis.error, prepared)
            return
        for alert_id, rule in analysis.alerts:
            log.debug("alert queued", alert_id=alert_id, rule=rule)
        prepared.processed.append(
            ProcessedArticle(read.key, read.version, read.sha, analysis.alerts, analysis.messages)
        )
        prepared.outcomes.append(
            Outcome(
                read.key,
                "alerted" if analysis.alerts else "clean",
                rules=analysis.rules,
                alert_ids=tuple(alert_id for alert_id, _ in analysis.alerts),
                title=analysis.title,
                took_s=analysis.took_s,
            )
        )

    def _fail(self, key: str, version: str, reason: str, message: str, prepared: Prepared) -> None:
        record = ErrorRecord(
            id=hashlib.sha256(f"{key}\0{version}\0{reason}".encode()).hexdigest()[:32],
            path=key,
            reason=reason,
            message=message,
            time=now_iso(),
        )
        message_out = OutboxMessage(record.id, error_topic(self.publishing.topic_prefix), encode(record))
        prepared.failed.append(FailedArticle(key, version, reason, message, [message_out]))
        prepared.outcomes.append(Outcome(key, "error", reason=reason, message=message))

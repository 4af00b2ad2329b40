"""The two steps of a batch that touch the store, run on the store thread: ``prepare`` (version check,
read, hash, deduplicate: which articles need tagging) and ``finish`` (record what tagging found and
commit it with its outbox messages, durably, in one transaction). Tagging itself happens between the
two, in the worker pool; ``pipeline.py`` runs the three in order.

Keys are whatever the source uses (a folder: paths); the source reads and settles them.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import structlog

from monitor import events
from monitor.alerts import ErrorRecord, encode, encode_alert, now_iso, story_info
from monitor.analysis import Analysis, Job, Publishing
from monitor.articles import ArticleError, content_hash
from monitor.engine import Engine
from monitor.history_schema import ArchivedAlert, ArchiveRecord
from monitor.keys import as_bytes, shown
from monitor.sources import ArticleStore, Rejected
from monitor.state import is_storage_full
from monitor.store import FailedArticle, OutboxMessage, ProcessedArticle, Store
from monitor.store_stories import StoryRecord
from monitor.stories import StoryBook
from monitor.story_features import StoryArticle
from monitor.story_model import Placement
from monitor.topics import error_topic

log = structlog.get_logger("monitor.processing")


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    #: alerted, clean (tagged, nothing fired), silent (fired, but its story had it), duplicate (content
    #: seen before), error, submitted (an ingest host handed it to the cluster's stream)
    result: str
    rules: tuple[tuple[str, str], ...] = ()  # (rule, severity)
    alert_ids: tuple[str, ...] = ()
    title: str = ""
    took_s: float = 0.0
    reason: str = ""
    message: str = ""


class StoryOrderUnavailable(Exception):
    """The story order could not be reached before the daemon stopped: the batch is not committed."""


class StoryOrder(Protocol):
    """The one order in which a cluster's workers place articles in stories
    (``cluster/story_order.py``); a single host's order is its own commit order (no ``StoryOrder``)."""

    def catch_up(self, book: StoryBook) -> None:
        """Apply to ``book`` the placements decided elsewhere since the last call."""

    def append(self, placed: Sequence[tuple[StoryArticle, Placement]]) -> bool:
        """Record a batch's new placements after those applied; False: others came first."""

    def stop_waiting(self) -> None: ...

    async def close(self) -> None: ...


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
    #: keys (or copies of contents) this batch holds in flight, seen again meanwhile: handed on again once
    #: it is committed
    deferred: list[str] = field(default_factory=list)
    #: this batch's keys deferred to another batch (theirs to commit: a queue acknowledges them with it)
    elsewhere: list[str] = field(default_factory=list)
    #: large articles of this batch, each a batch of its own: tagged apart, committed when done, so that
    #: they never hold up the articles behind them
    aside: list[Prepared] = field(default_factory=list)
    #: the story book's token for this batch's placements (None: nothing to undo)
    story_mark: int | None = None
    #: the placements this batch decided (not those it took as decided before), for a ``StoryOrder``
    placed: list[tuple[StoryArticle, Placement]] = field(default_factory=list)

    @property
    def jobs(self) -> list[Job]:
        return [read.job for read in self.reads if read.job is not None]


#: articles larger than this are tagged apart from their batch (a 5 MB article takes seconds)
ALONE_BYTES = 256 * 1024


class Processor:
    """``commit=False`` is a dry run: the store is only read, and what the run decided is remembered in
    memory instead (a second copy of an article is still a duplicate)."""

    def __init__(
        self,
        store: Store,
        source: ArticleStore,
        publishing: Publishing,
        *,
        commit: bool = True,
        stories: StoryBook | None = None,
        order: StoryOrder | None = None,
    ) -> None:
        self.store = store
        #: stories on: articles are placed where their batch commits, in commit order
        self.stories = stories
        #: a cluster's order of placements (stories on only)
        self.order = order if stories is not None else None
        self.source = source
        self.publishing = publishing
        self.commit = commit
        #: keys and contents prepared but not yet committed, and the batch that holds each (batches
        #: overlap in the pipeline, and a batch set aside may be committed after later ones)
        self._keys_in_flight: dict[str, Prepared] = {}
        self._shas_in_flight: dict[str, Prepared] = {}
        #: a dry run's own memory of contents it decided (nothing is committed)
        self._shas_decided: set[str] = set()

    def prepare(self, keys: Sequence[str], engine: Engine) -> Prepared:
        """Which of ``keys`` need tagging; an unchanged version is skipped without reading it."""
        prepared = Prepared(engine)  # one engine for the whole batch, even if a reload lands meanwhile
        for key in dict.fromkeys(keys):
            holder = self._keys_in_flight.get(key)
            if holder is not None:
                holder.deferred.append(key)  # its earlier version is still being tagged: after that one
                prepared.elsewhere.append(key)
                continue
            version: str | None = None
            try:
                version = self.source.version(key)
                if version is not None and self.store.is_unchanged(key, version):
                    continue
                self._read(key, version, prepared)
            except sqlite3.Error:
                # the store failed, not this article: the batch is given up and retried, so nothing of it
                # may stay in flight (a key left there would wait for a batch that never commits)
                for part in (prepared, *prepared.aside):
                    self.release(part)
                raise
            except Exception as exc:  # a bug, ours or a library's, on this key: it costs this key only
                log.exception("preparing an article failed unexpectedly", path=key)
                self._fail(key, version or "", "internal-error", f"{type(exc).__name__}: {exc}", prepared)
        return prepared

    def finish(self, prepared: Prepared, analyses: Sequence[Analysis]) -> list[Outcome]:
        """Record what tagging found and commit it (``commit_recorded``)."""
        try:
            if self.order is None:
                self._record_all(prepared, analyses)
            else:
                self._record_in_order(prepared, analyses, self.order)
        except BaseException:
            self.release(prepared)
            raise
        return self.commit_recorded(prepared)

    def _record_all(self, prepared: Prepared, analyses: Sequence[Analysis]) -> None:
        if self.stories is not None and prepared.story_mark is None:
            prepared.story_mark = self.stories.mark()
        results = iter(analyses)
        for read in prepared.reads:  # in key order: the first article with some content is the one that alerts
            with structlog.contextvars.bound_contextvars(path=read.key):  # on every line about it, as elsewhere
                if read.job is None:
                    prepared.processed.append(ProcessedArticle(read.key, read.version, read.sha, (), ()))
                    prepared.outcomes.append(Outcome(read.key, "duplicate"))
                else:
                    self._record(read, next(results), prepared)

    def _record_in_order(self, prepared: Prepared, analyses: Sequence[Analysis], order: StoryOrder) -> None:
        """Placed after the placements the order holds, and appended to it: refused (another worker came
        first), the batch's placements are undone, the order read on, and the batch placed again. Once
        appended they are kept whatever the commit does: the order has them, the other workers too."""
        assert self.stories is not None
        kept = (len(prepared.processed), len(prepared.failed), len(prepared.outcomes))
        while True:
            order.catch_up(self.stories)
            self._record_all(prepared, analyses)
            mark, prepared.story_mark = prepared.story_mark, None
            assert mark is not None  # ``_record_all`` marked the batch
            if order.append(prepared.placed):
                self.stories.settle(mark)
                return
            self.stories.rollback(mark)
            del prepared.processed[kept[0] :], prepared.failed[kept[1] :], prepared.outcomes[kept[2] :]
            prepared.placed.clear()

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
        if self.stories is not None and prepared.story_mark is not None:
            self.stories.settle(prepared.story_mark)
            prepared.story_mark = None
        self.release(prepared)
        return prepared.outcomes

    def release(self, prepared: Prepared) -> None:
        """The batch is committed or given up: its keys and contents are no longer in flight, and what it
        placed in stories, if not committed, is undone."""
        if self.stories is not None and prepared.story_mark is not None:
            self.stories.rollback(prepared.story_mark)
            prepared.story_mark = None
        for read in prepared.reads:
            if self._keys_in_flight.get(read.key) is prepared:
                del self._keys_in_flight[read.key]
            if self._shas_in_flight.get(read.sha) is prepared:
                del self._shas_in_flight[read.sha]

    def _commit(self, prepared: Prepared) -> None:
        if not (prepared.processed or prepared.failed):
            return
        if not self.commit:
            self._shas_decided.update(art.sha256 for art in prepared.processed)
            return
        self.store.commit(self._stories_now(prepared.processed), prepared.failed)
        self.source.settled([Rejected(bad.key, bad.reason) for bad in prepared.failed])

    def _stories_now(self, processed: list[ProcessedArticle]) -> list[ProcessedArticle]:
        """Each story row as the book holds it now: a batch committed after a later one that joined the
        same story must not write the story as it was before that one."""
        stories = self.stories
        if stories is None:
            return processed
        return [
            art if art.story is None else replace(art, story=replace(art.story, story=stories.current(art.story.story)))
            for art in processed
        ]

    def _read(self, key: str, version: str | None, prepared: Prepared) -> None:
        """Read and hash; content seen before needs no tagging, content in flight elsewhere waits for it.
        ``version`` is taken before reading: if the article changes meanwhile, a rescan sees it changed."""
        try:
            if version is None:
                raise ArticleError("vanished", "the file disappeared before it could be read")
            raw = self.source.read(key)
        except ArticleError as exc:
            if exc.reason == "vanished" and self.source.moved(key):
                return  # its folder was renamed within the watched tree: the source hands on its new key
            self._fail(key, version or "", exc.reason, exc.message, prepared)
            return
        sha = content_hash(raw.data)
        holder = self._shas_in_flight.get(sha)
        if holder is not None and holder is not prepared:
            holder.deferred.append(key)  # a copy of an article in flight: a duplicate once that one is committed
            prepared.elsewhere.append(key)
            return
        if holder is not None or sha in self._shas_decided or self.store.content_seen(sha):
            prepared.reads.append(_Read(key, version, sha, None))  # committed after the first copy, in key order
            self._keys_in_flight[key] = prepared
            return
        read = _Read(
            key, version, sha, Job(raw.name, raw.data, self.store.previous_alerts(key), raw.file_time, raw.published_at)
        )
        if len(raw.data) > ALONE_BYTES:
            alone = Prepared(prepared.engine, reads=[read])
            prepared.aside.append(alone)
            holder = alone
        else:
            prepared.reads.append(read)
            holder = prepared
        self._keys_in_flight[key] = holder
        self._shas_in_flight[sha] = holder

    def _record(self, read: _Read, analysis: Analysis, prepared: Prepared) -> None:
        if analysis.crash:
            log.error("article failed unexpectedly", path=read.key, traceback=analysis.crash)
        if analysis.error is not None:
            self._fail(read.key, read.version, *analysis.error, prepared)
            return
        alerts, messages, story, result = analysis.alerts, analysis.messages, None, "alerted"
        placement: Placement | None = None
        if analysis.story is not None and self.stories is not None:
            try:
                placement = self._place(analysis.story, prepared)
            except Exception as exc:  # a bug on this article's features: it costs this article only
                log.exception("placing an article in its story failed unexpectedly", path=read.key)
                self._fail(read.key, read.version, "internal-error", f"{type(exc).__name__}: {exc}", prepared)
                return
            alerts, messages = self._story_alerts(analysis, placement)
            story = None if placement is None else StoryRecord(placement.story, analysis.story)
            result = "alerted" if messages else "silent"
        for alert_id, rule in alerts:
            log.debug(events.ALERT_QUEUED, alert_id=alert_id, rule=rule)
        archive = self._archived(analysis, placement, messages)
        prepared.processed.append(ProcessedArticle(read.key, read.version, read.sha, alerts, messages, story, archive))
        prepared.outcomes.append(
            Outcome(
                read.key,
                "submitted" if analysis.handed_over else result if analysis.alerts else "clean",
                rules=analysis.rules,
                alert_ids=tuple(alert_id for alert_id, _ in alerts),
                title=analysis.title,
                took_s=analysis.took_s,
            )
        )

    def _place(self, article: StoryArticle, prepared: Prepared) -> Placement | None:
        """In a cluster an article another worker placed (and died before it committed) keeps the
        placement decided then: its alerts are made again under the same ids."""
        assert self.stories is not None
        if self.order is not None and (decided := self.stories.decided(article.key)) is not None:
            return decided
        placement = self.stories.place(article, prepared.story_mark or 0)
        if placement is not None:
            prepared.placed.append((article, placement))
        return placement

    def _archived(
        self, analysis: Analysis, placement: Placement | None, messages: Sequence[OutboxMessage]
    ) -> ArchiveRecord | None:
        """The archive's record of the article: its alerts as they go out, or a silent one's as built."""
        if analysis.archive is None:
            return None
        sent = tuple(ArchivedAlert(m.message_id, m.payload) for m in messages)
        if placement is None:
            return replace(analysis.archive, alerts=sent)
        if placement.kind == "silent":  # kept as built, never sent: pydantic's own JSON, no size trimming
            sent = tuple(
                ArchivedAlert(alert.id, alert.model_dump_json(by_alias=True).encode())
                for alert, _topic in analysis.pending
            )
        return replace(
            analysis.archive,
            story_id=placement.story.id,
            story_kind="opening" if placement.kind == "new" else placement.kind,
            story_adds=tuple(placement.adds),
            alerts=sent,
        )

    def _story_alerts(
        self, analysis: Analysis, placement: Placement | None
    ) -> tuple[tuple[tuple[str, str], ...], tuple[OutboxMessage, ...]]:
        """The alerts that go out, with their story: all of an opening or follow-up article, none of a
        silent one (it is recorded in its story only). An article in no story alerts as without stories."""
        if placement is not None and placement.kind == "silent":
            return (), ()
        info = None if placement is None else story_info(placement)
        messages = tuple(
            OutboxMessage(
                alert.id,
                topic,
                encode_alert(alert.model_copy(update={"story": info}), self.publishing.max_payload_bytes),
            )
            for alert, topic in analysis.pending
        )
        return analysis.alerts, messages

    def _fail(self, key: str, version: str, reason: str, message: str, prepared: Prepared) -> None:
        record = ErrorRecord(
            id=hashlib.sha256(b"\0".join((as_bytes(key), version.encode(), reason.encode()))).hexdigest()[:32],
            path=shown(key),
            reason=reason,
            message=message,
            time=now_iso(),
        )
        message_out = OutboxMessage(record.id, error_topic(self.publishing.topic_prefix), encode(record))
        prepared.failed.append(FailedArticle(key, version, reason, message, [message_out]))
        prepared.outcomes.append(Outcome(key, "error", reason=reason, message=message))

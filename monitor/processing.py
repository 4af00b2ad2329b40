"""From a file path to a committed outcome: read, deduplicate, parse, tag, build alerts, and commit the
whole batch in one durable transaction. Runs on the store thread (it is synchronous)."""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from monitor.alerts import ErrorRecord, alert_topic, build_alert, encode, encode_alert, now_iso
from monitor.articles import ArticleError, FileStamp, content_hash, parse_article, read_file, stamp_of
from monitor.config import Settings
from monitor.engine import Engine
from monitor.store import FailedFile, OutboxMessage, ProcessedArticle, Store

log = structlog.get_logger("monitor.processing")


@dataclass(frozen=True, slots=True)
class Outcome:
    path: str
    #: alerted, clean (tagged, nothing fired), duplicate (content seen before), error
    result: str
    rules: tuple[tuple[str, str], ...] = ()  # (rule, severity)
    took_s: float = 0.0
    reason: str = ""
    message: str = ""


@dataclass
class Batch:
    processed: list[ProcessedArticle] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    new_shas: set[str] = field(default_factory=set)


class Processor:
    def __init__(self, settings: Settings, store: Store, engine: Callable[[], Engine]) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine
        self.roots = [p.absolute() for p in settings.watch.paths]
        self.prefix = settings.mqtt.topic_prefix

    def process(self, paths: Sequence[Path]) -> list[Outcome]:
        """Handle a batch of candidate paths; unchanged files are skipped without reading them."""
        batch = Batch()
        engine = self.engine()  # one engine for the whole batch, even if a reload lands meanwhile
        for path in dict.fromkeys(paths):
            stamp = stamp_of(path)
            if stamp is not None and self.store.is_unchanged(stamp):
                continue
            with structlog.contextvars.bound_contextvars(article=str(path)):  # on every log line about it
                self._one(path, stamp, engine, batch)
        if batch.processed or batch.failed:
            self.store.commit(batch.processed, batch.failed)
            self._quarantine(batch.failed)
        return batch.outcomes

    def _one(self, path: Path, stamp: FileStamp | None, engine: Engine, batch: Batch) -> None:
        """``stamp`` is taken before reading: if the file changes meanwhile, a rescan sees it changed."""
        started = time.perf_counter()
        try:
            if stamp is None:
                raise ArticleError("vanished", "the file disappeared before it could be read")
            data = read_file(path, self.roots, self.settings.watch.max_bytes)
            sha = content_hash(data)
            if sha in batch.new_shas or self.store.content_seen(sha):
                batch.processed.append(ProcessedArticle(stamp, sha, (), ()))
                batch.outcomes.append(Outcome(str(path), "duplicate", took_s=time.perf_counter() - started))
                return
            article = parse_article(str(path), data)
        except ArticleError as exc:
            self._fail(path, stamp, exc.reason, exc.message, batch)
            return
        except Exception as exc:  # a reader or library bug must cost this article, not its whole batch
            log.exception("reading article failed", path=str(path))
            self._fail(path, stamp, "read-failure", f"{type(exc).__name__}: {exc}", batch)
            return
        try:
            result = engine.tag(article.text)
        except Exception as exc:  # an engine bug must cost one article, not the daemon
            log.exception("engine failed on article", path=str(path))
            self._fail(path, stamp, "engine-failure", f"{type(exc).__name__}: {exc}", batch)
            return
        previous = self.store.previous_alerts(str(path)) if result.rules else {}
        alerts, messages = [], []
        for hit in result.rules:
            alert = build_alert(
                article, result, hit, watchlist_version=engine.version, supersedes=previous.get(hit.rule)
            )
            alerts.append((alert.id, hit.rule))
            log.debug("alert queued", alert_id=alert.id, rule=hit.rule, severity=hit.severity)
            messages.append(
                OutboxMessage(
                    alert.id, alert_topic(self.prefix, hit), encode_alert(alert, self.settings.mqtt.max_payload_bytes)
                )
            )
        batch.new_shas.add(sha)
        batch.processed.append(ProcessedArticle(stamp, sha, alerts, messages))
        batch.outcomes.append(
            Outcome(
                str(path),
                "alerted" if alerts else "clean",
                rules=tuple((h.rule, h.severity) for h in result.rules),
                took_s=time.perf_counter() - started,
            )
        )

    def _fail(self, path: Path, stamp: FileStamp | None, reason: str, message: str, batch: Batch) -> None:
        file_stamp = stamp or FileStamp(str(path), -1, -1)
        record = ErrorRecord(
            id=hashlib.sha256(f"{path}\0{file_stamp.size}\0{file_stamp.mtime_ns}\0{reason}".encode()).hexdigest()[:32],
            path=str(path),
            reason=reason,
            message=message,
            time=now_iso(),
        )
        message_out = OutboxMessage(record.id, f"{self.prefix}/errors", encode(record))
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

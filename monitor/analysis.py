"""One article's analysis: parse, tag, build and encode its alerts. Pure CPU work with no I/O and no
shared state, so that it runs the same in the daemon's thread or in a worker process."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from monitor.alerts import Alert, build_alert, encode_alert
from monitor.articles import Article, ArticleError, parse_article
from monitor.dating import ArticleTime, article_time
from monitor.engine import Engine
from monitor.engine.result import TagResult
from monitor.history_schema import ArchiveRecord
from monitor.history_text import language_of, search_form
from monitor.store import OutboxMessage
from monitor.story_features import StoryArticle, outlet_of, story_article, text_features
from monitor.topics import alert_topic


@dataclass(frozen=True, slots=True)
class Job:
    """What tagging one article needs: picklable, so it can cross into a worker process."""

    #: the article's name at its source (a folder: the path): its extension says the format
    name: str
    data: bytes
    #: rule -> id of the alert for an earlier version of this article (what a new alert supersedes)
    previous: dict[str, str]
    #: the file's modification time (POSIX seconds): the article's date when it says none
    file_time: float | None = None
    #: the publication time its producer declared (``RawArticle.published_at``)
    published_at: str | None = None


@dataclass(frozen=True, slots=True)
class Analysis:
    alerts: tuple[tuple[str, str], ...] = ()  # (alert id, rule)
    messages: tuple[OutboxMessage, ...] = ()
    rules: tuple[tuple[str, str], ...] = ()  # (rule, severity)
    title: str = ""
    #: (reason, message) when the article could not be tagged
    error: tuple[str, str] | None = None
    #: traceback of an unexpected failure (a bug), for the daemon to log
    crash: str = ""
    took_s: float = 0.0
    #: the article's own date (UTC; JSON `published_at`, a byline or the file's time), None: unknown
    published: datetime | None = None
    #: stories on: the article's story features, and its alerts not yet encoded (the store thread adds
    #: their story and encodes those that go out); ``messages`` is then empty
    story: StoryArticle | None = None
    pending: tuple[tuple[Alert, str], ...] = ()  # (alert, topic)
    #: what the archive keeps (``history_schema.ArchiveRecord``), None when the article could not be tagged
    archive: ArchiveRecord | None = None
    #: an ingest host did not tag it: it handed it to the cluster's stream (``cluster.handover``)
    handed_over: bool = False


@dataclass(frozen=True, slots=True)
class Publishing:
    """How alerts are addressed and sized: the same for every article of a run."""

    topic_prefix: str
    max_payload_bytes: int
    #: group articles into stories (the store thread decides which alerts go out)
    stories: bool = False
    #: keep article texts in the archive (``[history] keep_text``); off, only titles are kept and searched
    keep_text: bool = True


def analyse(job: Job, engine: Engine, publishing: Publishing) -> Analysis:
    """An unexpected failure (a bug, ours or a library's) costs this article, never its batch."""
    started = time.perf_counter()
    try:
        article = parse_article(job.name, job.data)
        if article.published_at is None and job.published_at is not None:
            article = replace(article, published_at=job.published_at)
    except ArticleError as exc:
        return Analysis(error=(exc.reason, exc.message))
    except Exception as exc:
        return Analysis(error=("read-failure", f"{type(exc).__name__}: {exc}"), crash=traceback.format_exc())
    try:
        dated = article_time(article, job.file_time)
        published = None if dated is None else dated.when
        result, scanned = engine.tag_scanned(article.text, published=None if dated is None else dated.day)
    except Exception as exc:
        return Analysis(error=("engine-failure", f"{type(exc).__name__}: {exc}"), crash=traceback.format_exc())
    alerts, messages, pending = [], [], []
    for hit in result.rules:
        alert = build_alert(
            article,
            result,
            hit,
            watchlist_version=engine.version,
            supersedes=job.previous.get(hit.rule),
            published=published,
        )
        alerts.append((alert.id, hit.rule))
        topic = alert_topic(publishing.topic_prefix, hit.rule, hit.topic_suffix)
        if publishing.stories:
            pending.append((alert, topic))
        else:
            messages.append(OutboxMessage(alert.id, topic, encode_alert(alert, publishing.max_payload_bytes)))
    story = text = None
    if publishing.stories:
        text = text_features(article.text)  # archived too (with the text): retro runs group without it
        story = story_article(article, result, published or datetime.now(UTC), text)
    archive = archive_record(article, result, dated, scanned if publishing.keep_text else "")
    if text is not None and archive.text:
        archive = replace(archive, story_text=text)
    return Analysis(
        archive=archive,
        alerts=tuple(alerts),
        messages=tuple(messages),
        published=published,
        story=story,
        pending=tuple(pending),
        rules=tuple((hit.rule, hit.severity) for hit in result.rules),
        title=article.title,
        took_s=time.perf_counter() - started,
    )


def archive_record(article: Article, result: TagResult, dated: ArticleTime | None, scanned: str) -> ArchiveRecord:
    """The archive's view of the article, made where it is tagged; ``scanned``: the normalised text the
    engine scanned, what the search index holds ("": the text is not kept). The store thread adds its story
    and alerts."""
    return ArchiveRecord(
        title=article.title,
        source=outlet_of(article) or None,
        url=article.url,
        lang=language_of(article.text),
        published_at=article.published_at if dated is None else dated.when.isoformat(),
        day=None if dated is None else dated.day.isoformat(),
        text=article.text if scanned else "",
        search_title=search_form(article.title),
        search_text=scanned,
        entities=tuple(entity.id for entity in result.entities),
    )

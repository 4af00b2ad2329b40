"""The alert and error payloads published over MQTT: models (the JSON Schema is generated from them),
deterministic ids, size trimming, and the check a subscriber makes of what arrives."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.articles import Article
from monitor.engine.result import Evidence, Novelty, RuleHit, Severity, Span, TagResult

if TYPE_CHECKING:
    from monitor.story_model import Placement

#: 2: alerts carry `novelty` and `story`
SCHEMA_VERSION = 2


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleInfo(Payload):
    id: str
    title: str
    severity: Severity


class ArticleInfo(Payload):
    path: str = Field(description="the file path as the daemon saw it")
    sha256: str = Field(description="SHA-256 of the file's bytes")
    title: str
    published_at: str | None = None
    source: str | None = None
    url: str | None = None


class EntityInfo(Payload):
    id: str
    name: str
    kind: str
    count: int


class SpanInfo(Payload):
    start: int = Field(description="character offset in the article text")
    end: int
    text: str
    source: str = Field(description="entity id, or 'terms:<group>', that this span satisfied")


class EvidenceInfo(Payload):
    start: int
    end: int
    text: str
    spans: list[SpanInfo]


class StoryInfo(Payload):
    """The story an alert belongs to (``docs/stories.md``): one opening alert per story, then follow-ups."""

    id: str = Field(description="stable story id, from the content hash of the story's first article")
    kind: Literal["new", "follow-up"] = Field(description="new: the story's first alert; follow-up: adds something")
    opened_at: str = Field(description="the date of the story's first article (ISO)")
    articles: int = Field(description="articles in the story so far, this one included")
    outlets: list[str] = Field(description="outlets that reported it so far")
    adds: list[str] = Field(default_factory=list, description="what a follow-up adds: rule:, novelty:, entity:")


def story_info(placement: Placement) -> StoryInfo:
    """The payload's story for an opening or follow-up placement (a silent one sends nothing)."""
    story = placement.story
    assert placement.kind != "silent"
    return StoryInfo(
        id=story.id,
        kind=placement.kind,
        opened_at=story.opened_at.isoformat(),
        articles=story.articles,
        outlets=sorted(story.outlets),
        adds=list(placement.adds),
    )


class Alert(Payload):
    """One rule firing on one article. ``id`` is stable across redeliveries: deduplicate on it."""

    schema_version: int = Field(default=SCHEMA_VERSION, alias="schema")
    id: str
    rule: RuleInfo
    article: ArticleInfo
    entities: list[EntityInfo]
    evidence: list[EvidenceInfo]
    novelty: Novelty = Field(default="new", description="new: the article's news; reference: background; speculative")
    story: StoryInfo | None = Field(default=None, description="null when story grouping is off")
    watchlist_version: str
    produced_at: str
    supersedes: str | None = Field(default=None, description="id of the alert for an earlier version of the file")
    trimmed: bool = Field(default=False, description="evidence was shortened to fit the payload size limit")
    retro: bool = Field(
        default=False, description="made by a retro run of a watchlist over archived articles, not as they came in"
    )

    model_config = ConfigDict(populate_by_name=True)


class ErrorRecord(Payload):
    """A file that could not be processed, published on ``<prefix>/errors``."""

    kind: Literal["error"] = "error"
    id: str
    path: str
    reason: str
    message: str
    time: str


class NotAnAlert(ValueError):
    """A message on the alert topics that is not an alert; the text says why."""


def read_alert(payload: object) -> dict[str, Any]:
    """The alert a message carries, checked against the alert model, or ``NotAnAlert``: anything may arrive
    on the alert topics (a test message, another program's JSON, a retained status a broker sends there)."""
    try:
        doc = json.loads(payload) if isinstance(payload, bytes | bytearray | str) else None
    except ValueError:
        raise NotAnAlert("not JSON") from None
    if not isinstance(doc, dict):
        raise NotAnAlert("not a JSON object")
    schema = doc.get("schema")
    if isinstance(schema, int) and schema > SCHEMA_VERSION:
        raise NotAnAlert(f"alert schema {schema} is newer than this monitor's ({SCHEMA_VERSION}); upgrade it")
    try:
        Alert.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "payload"
        raise NotAnAlert(f"not an alert ({where}: {first['msg']})") from None
    return doc


def alert_id(sha256: str, rule: str) -> str:
    """Derived from content and rule only, so a redelivered or re-produced alert keeps its id."""
    return hashlib.sha256(f"{sha256}\0{rule}".encode()).hexdigest()[:32]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_alert(
    article: Article,
    result: TagResult,
    hit: RuleHit,
    *,
    watchlist_version: str,
    supersedes: str | None = None,
    published: datetime | None = None,
) -> Alert:
    """`published`: the article's own date (`monitor.dating`), shown as `article.published_at` (ISO);
    None keeps what the article's JSON said."""
    return Alert(
        id=alert_id(article.sha256, hit.rule),
        rule=RuleInfo(id=hit.rule, title=hit.title, severity=hit.severity),
        article=ArticleInfo(
            path=article.path,
            sha256=article.sha256,
            title=article.title,
            published_at=article.published_at if published is None else published.isoformat(),
            source=article.source,
            url=article.url,
        ),
        entities=[EntityInfo(id=e.id, name=e.name, kind=e.kind, count=e.count) for e in result.entities],
        evidence=evidence_info(hit.evidence),
        novelty=hit.novelty,
        watchlist_version=watchlist_version,
        produced_at=now_iso(),
        supersedes=supersedes,
    )


def span_info(spans: Iterable[Span]) -> list[SpanInfo]:
    return [SpanInfo(start=s.start, end=s.end, text=s.text, source=s.source) for s in spans]


def evidence_info(evidence: Iterable[Evidence]) -> list[EvidenceInfo]:
    """The payload's evidence, also what `monitor tag --json` prints: one shape for both."""
    return [EvidenceInfo(start=ev.start, end=ev.end, text=ev.text, spans=span_info(ev.spans)) for ev in evidence]


def encode(model: Payload) -> bytes:
    return json.dumps(model.model_dump(mode="json", by_alias=True), ensure_ascii=False).encode()


def encode_alert(alert: Alert, max_bytes: int) -> bytes:
    """JSON bytes of at most ``max_bytes``: evidence is shortened (never the alert dropped) when too big."""
    data = encode(alert)
    if len(data) <= max_bytes:
        return data
    keep = max(1, len(alert.evidence))
    while True:
        budget = max(80, max_bytes // 8 // keep)  # UTF-8 Devanagari takes 3 bytes a character, JSON adds more
        evidence = [
            EvidenceInfo(start=ev.start, end=ev.end, text=ev.text[:budget], spans=ev.spans[:20])
            for ev in alert.evidence[:keep]
        ]
        trimmed = alert.model_copy(update={"evidence": evidence, "trimmed": True, "entities": alert.entities[:50]})
        data = encode(trimmed)
        if len(data) <= max_bytes:
            return data
        if keep == 1:
            break
        keep //= 2
    # shortened evidence was not enough: a huge title (a file whose first line is a whole article) is cut too
    article = trimmed.article.model_copy(update={"title": trimmed.article.title[:200]})
    short = [ev.model_copy(update={"text": ev.text[:80], "spans": ev.spans[:5]}) for ev in trimmed.evidence]
    return encode(trimmed.model_copy(update={"article": article, "evidence": short, "entities": trimmed.entities[:20]}))


def alert_json_schema() -> dict[str, object]:
    return Alert.model_json_schema(by_alias=True)

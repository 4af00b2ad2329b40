"""One entry of a cluster's story log: the placements one worker's batch decided, in the order it decided
them (pure: bytes in, bytes out). Each placement carries the article's story features and what was decided
for it (its story, the kind of its alerts, what a follow-up added), so that every other worker applies the
same decision instead of deciding again (their books may differ at the edges: what each one pruned).

The body is compressed JSON (a batch of 64 placed articles is a few hundred kB of word lists before)."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast, get_args

from monitor.engine.result import Novelty
from monitor.story_features import StoryArticle
from monitor.story_model import Kind, Placement

#: the ``Newsmon-Schema`` header of an entry; a reader refuses another
SCHEMA = "newsmon.stories/1"
KINDS: tuple[str, ...] = get_args(Kind)
NOVELTIES: tuple[str, ...] = get_args(Novelty)


class EntryError(ValueError):
    """An entry this version cannot read (another schema, or damaged bytes)."""


@dataclass(frozen=True, slots=True)
class Decided:
    """One placement as the log keeps it."""

    article: StoryArticle
    story_id: str
    kind: Kind
    adds: tuple[str, ...] = ()


def encode(placed: Sequence[tuple[StoryArticle, Placement]]) -> bytes:
    rows = [_row(article, placement.story.id, placement.kind, placement.adds) for article, placement in placed]
    return zlib.compress(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode(), 1)


def decode(body: bytes, schema: str | None) -> list[Decided]:
    if schema != SCHEMA:
        raise EntryError(f"story log entry of schema {schema!r}, this version reads {SCHEMA!r}")
    try:
        rows = json.loads(zlib.decompress(body))
        return [_decided(row) for row in rows]
    except (zlib.error, ValueError, KeyError, TypeError) as exc:
        raise EntryError(f"damaged story log entry: {type(exc).__name__}: {exc}") from None


def _row(article: StoryArticle, sid: str, kind: Kind, adds: tuple[str, ...]) -> dict[str, Any]:
    return {
        "key": article.key,
        "at": article.at.isoformat(),
        "outlet": article.outlet,
        "entities": sorted(article.entities),
        "rules": [list(pair) for pair in article.rules],
        "terms": sorted(article.terms),
        "signature": base64.b64encode(article.signature).decode(),
        "words": sorted(article.words),
        "story": sid,
        "kind": kind,
        "adds": list(adds),
    }


def _decided(row: dict[str, Any]) -> Decided:
    rules = [(str(rule), str(novelty)) for rule, novelty in row["rules"]]
    if row["kind"] not in KINDS or any(novelty not in NOVELTIES for _, novelty in rules):
        raise ValueError(f"unknown kind or novelty in {row['kind']!r}, {rules!r}")
    article = StoryArticle(
        key=str(row["key"]),
        at=datetime.fromisoformat(row["at"]),
        outlet=str(row["outlet"]),
        entities=frozenset(map(str, row["entities"])),
        rules=tuple((rule, cast(Novelty, novelty)) for rule, novelty in rules),
        terms=frozenset(map(str, row["terms"])),
        signature=base64.b64decode(row["signature"]),
        words=frozenset(map(str, row["words"])),
    )
    return Decided(article, str(row["story"]), cast(Kind, row["kind"]), tuple(map(str, row["adds"])))

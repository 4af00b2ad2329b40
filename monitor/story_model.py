"""What a story is, as its book and the alerts see it: its state, one article's placement in it, and its id."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from monitor.engine.result import Novelty

Kind = Literal["new", "follow-up", "silent"]


@dataclass(slots=True)
class Story:
    id: str
    opened_at: datetime
    #: earliest and latest article dates (articles may arrive out of date order)
    first_at: datetime
    last_at: datetime
    articles: int = 0
    outlets: frozenset[str] = frozenset()
    entities: frozenset[str] = frozenset()
    terms: frozenset[str] = frozenset()
    #: word skeletons of its articles (``story_features.skeleton``)
    words: frozenset[str] = frozenset()
    #: rule -> best novelty it fired with in this story
    rules: dict[str, Novelty] = field(default_factory=dict)
    #: some article of the story alerted (the next one with a rule is a follow-up or silent)
    alerted: bool = False

    def copy(self) -> Story:
        """Field by field (``dataclasses.replace`` cost more than the rest of a join: three copies a placement)."""
        return Story(self.id, self.opened_at, self.first_at, self.last_at, self.articles, self.outlets,
                     self.entities, self.terms, self.words, dict(self.rules), self.alerted)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an article went and what its alerts are."""

    story: Story
    kind: Kind
    #: near-duplicate, similar, opened
    how: str
    #: what a follow-up adds (`rule:…`, `novelty:…`, `entity:…`)
    adds: tuple[str, ...] = ()


def story_id(opening_key: str) -> str:
    """Deterministic: a redelivered or re-produced opening alert names the same story."""
    return hashlib.sha256(f"story\0{opening_key}".encode()).hexdigest()[:24]

"""What the engine returns: plain frozen data, so the I/O edges can serialise it without knowing the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, get_args

#: how urgent a rule's alerts are; `SEVERITIES` is their order, least urgent first (`tail --severity`)
Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
#: what a rule firing reports: the act as the article's news, a background mention, or a possibility
Novelty = Literal["new", "reference", "speculative"]
NOVELTIES: tuple[Novelty, ...] = get_args(Novelty)
#: which novelty wins when a rule fires several times, in one article or one story: its news first
NOVELTY_RANK: dict[Novelty, int] = {"reference": 0, "speculative": 1, "new": 2}


def best_novelty(novelties: list[Novelty]) -> Novelty:
    return max(novelties, key=NOVELTY_RANK.__getitem__)


@dataclass(frozen=True, slots=True)
class Span:
    """One matched alias or term, located in the *original* article text."""

    start: int
    end: int
    text: str
    #: what this span satisfied: an entity id (``russia``) or a term group (``terms:agreement``)
    source: str


#: a frozen dataclass's `__init__` sets each field through `object.__setattr__`: `new_span` sets the
#: slots directly, at half the cost (a firing article builds about ten spans)
_SPAN_FIELDS: tuple[Callable[[Span, object], None], ...] = tuple(
    vars(Span)[name].__set__ for name in ("start", "end", "text", "source")
)


def new_span(start: int, end: int, text: str, source: str) -> Span:
    """`Span(start, end, text, source)`, built without the frozen dataclass's `__init__` (the same object)."""
    span: Span = object.__new__(Span)
    set_start, set_end, set_text, set_source = _SPAN_FIELDS
    set_start(span, start)
    set_end(span, end)
    set_text(span, text)
    set_source(span, source)
    return span


@dataclass(frozen=True, slots=True)
class Evidence:
    """A passage (sentence, paragraph, window) that made a rule fire, with its matched spans."""

    start: int
    end: int
    text: str
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class EntityHit:
    id: str
    name: str
    kind: str
    count: int


@dataclass(frozen=True, slots=True)
class RuleHit:
    rule: str
    title: str
    severity: Severity
    #: extra topic level under ``<prefix>/alerts/<rule>`` (empty: none)
    topic_suffix: str
    evidence: tuple[Evidence, ...]
    novelty: Novelty = "new"


@dataclass(frozen=True, slots=True)
class TagResult:
    entities: tuple[EntityHit, ...] = ()
    rules: tuple[RuleHit, ...] = ()
    #: non-fatal notes from tagging, e.g. lines dropped as related-article links
    notes: tuple[str, ...] = field(default=())

"""The metrics of the accuracy scorer (``bench/accuracy.py``): pure functions over small mappings.

Articles are names; a story assignment maps each article to a cluster id; a rule's outcome per article is a
class (``none`` or a novelty). Kept apart from reading labels and running the product so that each metric
can be checked on hand-made inputs (``tests/test_accuracy_scorer.py``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PRF:
    """Counts of one binary decision; the ratios are None when their denominator is 0."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        # from the counts, so that an empty prediction against a non-empty gold is 0, not undefined
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp + self.fp + self.fn else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


@dataclass(frozen=True)
class BCubed:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass(frozen=True)
class EntityScores:
    micro: PRF
    #: entity id -> articles where the product missed it / found it wrongly
    missed: Mapping[str, tuple[str, ...]]
    spurious: Mapping[str, tuple[str, ...]]


def entity_scores(gold: Mapping[str, frozenset[str]], pred: Mapping[str, frozenset[str]]) -> EntityScores:
    """Micro P/R over article x entity pairs, and which entities were missed or spurious where."""
    tp = fp = fn = 0
    missed: defaultdict[str, list[str]] = defaultdict(list)
    spurious: defaultdict[str, list[str]] = defaultdict(list)
    for article, expected in gold.items():
        found = pred.get(article, frozenset())
        tp += len(expected & found)
        for entity in sorted(expected - found):
            missed[entity].append(article)
        for entity in sorted(found - expected):
            spurious[entity].append(article)
    fn = sum(map(len, missed.values()))
    fp = sum(map(len, spurious.values()))
    return EntityScores(
        PRF(tp, fp, fn),
        {entity: tuple(files) for entity, files in missed.items()},
        {entity: tuple(files) for entity, files in spurious.items()},
    )


def confusion(gold: Mapping[str, str], pred: Mapping[str, str]) -> Counter[tuple[str, str]]:
    """(gold class, predicted class) -> articles; an article the product did not fire on is ``none``."""
    return Counter((expected, pred.get(article, "none")) for article, expected in gold.items())


def fires_scores(matrix: Mapping[tuple[str, str], int]) -> PRF:
    """Did the rule fire at all, against gold != none (any novelty)."""
    tp = sum(n for (g, p), n in matrix.items() if g != "none" and p != "none")
    fp = sum(n for (g, p), n in matrix.items() if g == "none" and p != "none")
    fn = sum(n for (g, p), n in matrix.items() if g != "none" and p == "none")
    return PRF(tp, fp, fn)


def class_scores(matrix: Mapping[tuple[str, str], int], cls: str) -> PRF:
    """One novelty class as a binary decision: fired with this novelty vs labelled with it."""
    tp = matrix.get((cls, cls), 0)
    fp = sum(n for (g, p), n in matrix.items() if p == cls and g != cls)
    fn = sum(n for (g, p), n in matrix.items() if g == cls and p != cls)
    return PRF(tp, fp, fn)


def _clusters(assignment: Mapping[str, str]) -> dict[str, set[str]]:
    clusters: defaultdict[str, set[str]] = defaultdict(set)
    for item, cluster in assignment.items():
        clusters[cluster].add(item)
    return clusters


def pairwise(gold: Mapping[str, str], pred: Mapping[str, str]) -> PRF:
    """Pairs of articles put in one story: the product's pairs against the gold pairs."""

    def pairs(n: int) -> int:
        return n * (n - 1) // 2

    cells = Counter((gold[item], pred[item]) for item in gold)
    tp = sum(pairs(n) for n in cells.values())
    predicted = sum(pairs(len(members)) for members in _clusters({i: pred[i] for i in gold}).values())
    expected = sum(pairs(len(members)) for members in _clusters(gold).values())
    return PRF(tp, predicted - tp, expected - tp)


def bcubed(gold: Mapping[str, str], pred: Mapping[str, str]) -> BCubed:
    """B-cubed precision and recall: per article, the share of its predicted story that belongs to its gold
    story and the share of its gold story that its predicted story holds, averaged over articles."""
    if not gold:
        return BCubed(1.0, 1.0)
    gold_clusters = _clusters(gold)
    pred_clusters = _clusters({item: pred[item] for item in gold})
    precision = recall = 0.0
    for item in gold:
        mine, theirs = pred_clusters[pred[item]], gold_clusters[gold[item]]
        overlap = len(mine & theirs)
        precision += overlap / len(mine)
        recall += overlap / len(theirs)
    return BCubed(precision / len(gold), recall / len(gold))


def wire_copies_opening_stories(wire_of: Mapping[str, str], pred: Mapping[str, str]) -> list[str]:
    """Wire copies the product did not put in the story of the article they copy."""
    return sorted(copy for copy, original in wire_of.items() if pred[copy] != pred[original])


def group_by_entity_sets(entities: Mapping[str, frozenset[str]]) -> dict[str, str]:
    """The naive baseline: one story per identical set of entities."""
    return {article: ",".join(sorted(found)) for article, found in entities.items()}

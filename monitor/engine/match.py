"""Finding aliases and terms: one automaton pass over folded text, then checks around each hit only."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.engine.compile import Candidate, Compiled
from monitor.engine.normalize import NormalizedText, fold, fold_map, is_word_char
from monitor.engine.offsets import OffsetMap


@dataclass(frozen=True, slots=True)
class Hit:
    """A verified match in normalized coordinates, with everything it satisfies."""

    start: int
    end: int
    targets: tuple[str, ...]


def _bounded(lowered: str, start: int, end: int) -> bool:
    """True when the match neither starts nor ends inside a word (Devanagari marks count as letters)."""
    if start > 0 and is_word_char(lowered[start - 1]) and is_word_char(lowered[start]):
        return False
    return not (end < len(lowered) and is_word_char(lowered[end]) and is_word_char(lowered[end - 1]))


def _accepts(candidate: Candidate, normalized: NormalizedText, start: int, end: int) -> bool:
    if candidate.exact is None:
        return True
    source = normalized.text if candidate.case_sensitive else normalized.lowered
    return source[start:end] == candidate.exact


def find_hits(compiled: Compiled, normalized: NormalizedText, dropped: list[tuple[int, int]]) -> list[Hit]:
    """Leftmost-longest hits outside dropped lines; look-alikes (`exclude`) veto their entity."""
    if not compiled.rules and not compiled.entities:
        return []
    lowered = normalized.lowered
    folded = fold(lowered)
    to_lowered: OffsetMap | None = None
    raw: list[tuple[int, int, list[str]]] = []
    excluded: list[tuple[int, int, str]] = []
    for last, (length, candidates) in compiled.automaton.iter(folded):
        if to_lowered is None:
            to_lowered = fold_map(lowered)
        start = to_lowered.start(last + 1 - length)
        end = to_lowered.end(last + 1)
        if not _bounded(lowered, start, end):
            continue
        targets = []
        for candidate in candidates:
            if _accepts(candidate, normalized, start, end):
                if candidate.role == "exclude":
                    excluded.append((start, end, candidate.target))
                else:
                    targets.append(candidate.target)
        if targets:
            raw.append((start, end, targets))
    if not raw:
        return []
    hits: list[Hit] = []
    raw.sort(key=lambda item: (item[0], -item[1]))
    for start, end, targets in raw:
        if any(start < drop_end and drop_start < end for drop_start, drop_end in dropped):
            continue
        kept = [
            target
            for target in targets
            if not any(start < x_end and x_start < end and x_target == target for x_start, x_end, x_target in excluded)
        ]
        if not kept:
            continue
        if hits and start < hits[-1].end:
            previous = hits[-1]
            if (start, end) == (previous.start, previous.end):
                hits[-1] = Hit(start, end, tuple(dict.fromkeys((*previous.targets, *kept))))
            continue
        hits.append(Hit(start, end, tuple(dict.fromkeys(kept))))
    return hits

"""Finding aliases and terms: one automaton pass over folded text, then checks around each hit only."""

from __future__ import annotations

from bisect import bisect_right
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


def _bounded(text: str, start: int, end: int) -> bool:
    """True when the match neither starts nor ends inside a word (Devanagari marks count as letters)."""
    if start > 0 and is_word_char(text[start - 1]) and is_word_char(text[start]):
        return False
    return not (end < len(text) and is_word_char(text[end]) and is_word_char(text[end - 1]))


def _accepts(candidate: Candidate, normalized: NormalizedText, start: int, end: int) -> bool:
    if candidate.exact is None:
        return True
    source = normalized.text if candidate.case_sensitive else normalized.lowered
    return source[start:end] == candidate.exact


def _outside(dropped: list[tuple[int, int]], dropped_starts: list[int], start: int, end: int) -> bool:
    index = bisect_right(dropped_starts, start) - 1
    if index >= 0 and start < dropped[index][1]:
        return False
    return index + 1 >= len(dropped) or end <= dropped[index + 1][0]


def find_hits(compiled: Compiled, normalized: NormalizedText, dropped: list[tuple[int, int]]) -> list[Hit]:
    """Leftmost-longest hits outside dropped lines; look-alikes (`exclude`) veto their entity.

    Folding deletes only combining marks, so a hit that fails the word-boundary check in the folded
    text fails it in the normalized text too: most in-word hits are discarded before any mapping.
    """
    lowered = normalized.lowered
    folded = fold(lowered)
    dropped_starts = [start for start, _ in dropped]
    to_lowered: OffsetMap | None = None
    raw: list[tuple[int, int, list[str]]] = []
    excluded: list[tuple[int, int, str]] = []
    for last, (length, candidates) in compiled.automaton.iter(folded):
        first = last + 1 - length
        if not _bounded(folded, first, last + 1):
            continue
        if to_lowered is None:
            to_lowered = fold_map(lowered)
        start = to_lowered.start(first)
        end = to_lowered.end(last + 1)
        if not _bounded(lowered, start, end) or not _outside(dropped, dropped_starts, start, end):
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
    hits: list[Hit] = []
    raw.sort(key=lambda item: (item[0], -item[1]))
    for start, end, targets in raw:
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

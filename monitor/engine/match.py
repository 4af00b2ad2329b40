"""Finding aliases and terms: whole-word automaton passes over scan text; Python work only per real hit.

The scan text (`segment.scan_text`, which makes the keys too) is the lower-cased normalized text
with every non-word character (anything but a letter, digit or combining mark) turned into a
separator, padded with one at each end; the keys are wrapped in separators. So the automaton
reports only matches of whole words, with no boundary check, and the common hit costs one tuple
unpacking and three appends. Aliases that fold spelling variants are found by a second pass over
the folded scan text (folding deletes the aa-matra and the virama) and mapped back with a bisect
on the deletion positions. Related-article lines are blanked out of the scan text, so they are
never matched.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, compress, count, islice
from operator import itemgetter, lt, not_
from typing import Any, Protocol

from monitor.engine.compiled import COREF_PREFIX, Compiled, KeyCheck
from monitor.engine.normalize import FOLDED_SCRIPT, NormalizedText, fold, fold_with_deletions
from monitor.engine.segment import SEPARATOR, Range, scan_text


@dataclass(frozen=True, slots=True)
class Hit:
    """A verified match in normalized coordinates, with everything it satisfies."""

    start: int
    end: int
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hits:
    """All hits of an article, leftmost-longest, sorted by start, as parallel lists (no objects per hit)."""

    starts: list[int]
    ends: list[int]
    targets: list[tuple[str, ...]]
    #: the scan text (not blanked): words are the runs between separators
    scan: str

    def __iter__(self) -> Iterator[Hit]:
        return map(Hit, self.starts, self.ends, self.targets)


class _Text(Protocol):
    """What matching reads of a text: the normalized text and its lower-cased form (same length)."""

    @property
    def text(self) -> str: ...

    @property
    def lowered(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _Piece:
    """A stretch of a text matched on its own (hits relative to its start)."""

    text: str
    lowered: str


def _has_devanagari(scan: str) -> bool:
    """Whether the text has a character of `FOLDED_SCRIPT` (an ASCII text, most English articles' scan
    text, is known at once not to)."""
    return not scan.isascii() and FOLDED_SCRIPT.search(scan) is not None


def _blanked(scan: str, dropped: list[Range]) -> str:
    for start, end in dropped:
        scan = scan[:start] + SEPARATOR * (end - start) + scan[end:]
    return scan


def _checked(
    checks: tuple[KeyCheck, ...],
    normalized: _Text,
    start: int,
    end_of: Callable[[int], int],
    excluded: list[tuple[int, int, str]],
) -> list[str]:
    """Targets of the candidates that pass their checks; accepted exclusions go to `excluded`.

    `end_of(length)` is where a key of that length ends in the normalized text. A folding candidate's
    key is checked against the folded text, in either automaton (`automata.automata`).
    """
    targets = []
    for verify, length, candidate in checks:
        end = end_of(length)
        if verify is not None:
            piece = normalized.lowered[start:end]
            if (fold(piece) if candidate.exact is None else piece) != verify:
                continue
        if candidate.case_sensitive and normalized.text[start:end] != candidate.exact:
            continue
        if candidate.role == "exclude":
            excluded.append((start, end, candidate.target))
        else:
            targets.append(candidate.target)
    return targets


def _kept(fast: tuple[str, ...], accepted: list[str]) -> tuple[str, ...] | None:
    """A hit's targets: those that need no check and the checked ones that passed (`_checked`); None
    when none is left. A look-alike of one target leaves the others of the same words."""
    if accepted:
        return tuple(dict.fromkeys((*fast, *accepted)))
    return fast or None


def find_hits(compiled: Compiled, normalized: NormalizedText, dropped: list[Range]) -> Hits:
    """Leftmost-longest whole-word hits outside dropped lines; look-alikes (`exclude`) veto their entity;
    a surname alone counts only beside another alias of its entity."""
    hits = find_keys(
        compiled.exact_automaton, compiled.fold_automaton, normalized, dropped, latin_fold=compiled.latin_fold
    )
    coref = compiled.coref_targets
    # most articles have no surname alone: one C-level look over all the targets says so
    if not coref or coref.isdisjoint(chain.from_iterable(hits.targets)):
        return hits
    # the surname hits' indexes by C-level maps (no Python step per hit): usually a few
    at = list(compress(count(), map(not_, map(coref.isdisjoint, hits.targets))))
    return _resolve_coref(hits, coref, at)


def _resolve_coref(hits: Hits, coref: frozenset[str], at: list[int]) -> Hits:
    """A surname's hit (at the indexes `at`) becomes its entity's where the entity is found by another
    alias, else it goes. Only the surname hits are rebuilt (a few); the lists are copied once."""
    named = set(chain.from_iterable(hits.targets))
    starts, ends, targets = list(hits.starts), list(hits.ends), list(hits.targets)
    gone = []
    for index in at:
        kept = tuple(
            dict.fromkeys(
                target.removeprefix(COREF_PREFIX)
                for target in targets[index]
                if target not in coref or target.removeprefix(COREF_PREFIX) in named
            )
        )
        if kept:
            targets[index] = kept
        else:
            gone.append(index)
    for index in reversed(gone):
        del starts[index], ends[index], targets[index]
    return Hits(starts, ends, targets, hits.scan)


def find_keys(
    exact_keys: Any, fold_keys: Any, normalized: _Text, dropped: list[Range], scan: str = "", latin_fold: bool = False
) -> Hits:
    """`find_hits` with any pair of automata (the rules' or the cues'); `scan`: the text's scan text
    when already made (`Hits.scan` of another pass); `latin_fold`: fold Latin spellings too."""
    scan = scan or scan_text(normalized.lowered)
    blank = _blanked(scan, dropped) if dropped else scan
    starts: list[int] = []
    ends: list[int] = []
    targets: list[tuple[str, ...]] = []
    excluded: list[tuple[int, int, str]] = []
    lowered = normalized.lowered
    exact_pass = exact_keys.iter(SEPARATOR + blank + SEPARATOR) if exact_keys is not None else ()
    for last, (back, length, fast, spaces, checks) in exact_pass:
        start = last - back
        if spaces and lowered.count(" ", start, start + length) != spaces:
            continue
        if checks:
            kept = _kept(fast, _checked(checks, normalized, start, start.__add__, excluded))
            if kept is None:
                continue
            fast = kept
        starts.append(start)
        ends.append(start + length)
        targets.append(fast)
    # without Latin folding, every folding key has Devanagari (`automata`): a text without any has no match
    skip = fold_keys is None or not (latin_fold or _has_devanagari(blank))
    raw = [] if skip else _folded_hits(fold_keys, normalized, blank, latin_fold, excluded)
    if not raw and not excluded and not any(map(lt, islice(starts, 1, None), ends)):
        return Hits(starts, ends, targets, scan)
    merged = [*zip(starts, ends, targets, strict=True), *raw]
    if not excluded:
        # usually the fold pass found other words than the exact one: a C-level sort, and when
        # nothing overlaps (so no two hits start together) that is the leftmost-longest order
        merged_starts, merged_ends, merged_targets = map(list, zip(*sorted(merged), strict=True))
        if not any(map(lt, islice(merged_starts, 1, None), merged_ends)):
            return Hits(merged_starts, merged_ends, merged_targets, scan)
        # overlaps without look-alikes (a name inside a longer one: किम in किम जोंग उन)
        merged_starts, merged_ends, merged_targets = map(list, zip(*_longest_of(merged), strict=True))
        return Hits(merged_starts, merged_ends, merged_targets, scan)
    return _leftmost_longest(merged, excluded, scan)


def _folded_hits(
    fold_keys: Any, normalized: _Text, blank: str, latin_fold: bool, excluded: list[tuple[int, int, str]]
) -> list[tuple[int, int, tuple[str, ...]]]:
    """The folding automaton's hits (start, end, targets) over the folded scan text, in the text's
    coordinates; accepted look-alikes go to `excluded`."""
    lowered = normalized.lowered
    folded, deletions = fold_with_deletions(blank, latin_fold, scan=True)
    raw: list[tuple[int, int, tuple[str, ...]]] = []
    for last, (back, length, fast, spaces, checks) in fold_keys.iter(SEPARATOR + folded + SEPARATOR):
        first = last - back
        start = first + bisect_right(deletions, first)
        end = first + length + bisect_right(deletions, first + length)
        if spaces and lowered.count(" ", start, end) != spaces:
            continue
        if checks:
            accepted = _checked(
                checks,
                normalized,
                start,
                lambda key_length: first + key_length + bisect_right(deletions, first + key_length),  # noqa: B023
                excluded,
            )
            kept = _kept(fast, accepted)
            if kept is None:
                continue
            fast = kept
        raw.append((start, end, fast))
    return raw


def find_window(
    exact_keys: Any, fold_keys: Any, normalized: _Text, low: int, high: int, scan: str = ""
) -> list[tuple[int, int, tuple[str, ...]]]:
    """`find_keys` over `normalized[low:high]` alone, as if it were the whole text, with the hits (start,
    end, targets) in the text's coordinates; `scan`: the whole text's scan text when already made.

    The clause cues read a few sentences of each firing article this way: without a folding automaton
    (the shipped cues have none) one pass reads the automaton straight into the hits (overlapping ones
    resolved as `find_keys` resolves them), and only a window with a look-alike takes `find_keys`'
    general way.
    """
    window = scan[low:high] if scan else scan_text(normalized.lowered[low:high])
    if fold_keys is None:
        found = _exact_window(exact_keys, normalized, window, low)
        if found is not None:
            return found
    piece = _Piece(normalized.text[low:high], normalized.lowered[low:high])
    hits = find_keys(exact_keys, fold_keys, piece, [], window)
    pairs = zip(hits.starts, hits.ends, hits.targets, strict=True)
    return [(low + start, low + end, targets) for start, end, targets in pairs]


def unchecked_window_hits(
    keys: Any, normalized: _Text, low: int, high: int, scan: str = ""
) -> list[tuple[int, int, tuple[str, ...]]]:
    """Every occurrence (start, end, targets) of a key of the exact automaton `keys` in
    `normalized[low:high]`, unchecked and overlapping ones all kept: what `find_window` finds there
    with those keys is among these, at the same places."""
    window = scan[low:high] if scan else scan_text(normalized.lowered[low:high])
    found = []
    for last, (back, length, fast, _, checks) in keys.iter(SEPARATOR + window + SEPARATOR):
        start = low + last - back
        found.append((start, start + length, (*fast, *(check.candidate.target for check in checks))))
    return found


def _exact_window(
    exact_keys: Any, normalized: _Text, window: str, low: int
) -> list[tuple[int, int, tuple[str, ...]]] | None:
    """`find_window` by the exact automaton alone, or None where `find_keys` would apply a look-alike.
    Overlapping hits (a third of the cue windows: "दोनों" in "दोनों देशों", "हुई" in "हुई थी") are
    resolved here as `find_keys` resolves them, without a second pass of the automaton."""
    found: list[tuple[int, int, tuple[str, ...]]] = []
    if exact_keys is None:
        return found
    lowered = normalized.lowered
    excluded: list[tuple[int, int, str]] = []
    previous_end = -1
    overlapping = False
    for last, (back, length, fast, spaces, checks) in exact_keys.iter(SEPARATOR + window + SEPARATOR):
        start = low + last - back
        if spaces and lowered.count(" ", start, start + length) != spaces:
            continue
        if checks:
            kept = _kept(fast, _checked(checks, normalized, start, start.__add__, excluded))
            if kept is None:
                continue
            fast = kept
        if start < previous_end:
            overlapping = True
        previous_end = start + length
        found.append((start, previous_end, fast))
    if excluded:
        return None
    return _longest_of(found) if overlapping else found


def _longest_of(found: list[tuple[int, int, tuple[str, ...]]]) -> list[tuple[int, int, tuple[str, ...]]]:
    """What `_leftmost_longest` keeps of hits without look-alikes, some of which overlap (two hits that
    overlap in the automaton's order overlap in any order, so `find_keys` takes that way with them), as
    (start, end, targets) in order: one append a hit, where it makes three lists."""
    found.sort(key=itemgetter(1), reverse=True)
    found.sort(key=itemgetter(0))
    kept = [found[0]]
    last_end = found[0][1]
    for hit in islice(found, 1, None):
        start, end, targets = hit
        if start < last_end:
            previous = kept[-1]
            if start == previous[0] and end == previous[1]:
                kept[-1] = (start, end, tuple(dict.fromkeys((*previous[2], *targets))))
            continue
        kept.append(hit)
        last_end = end
    return kept


def _leftmost_longest(
    raw: list[tuple[int, int, tuple[str, ...]]], excluded: list[tuple[int, int, str]], scan: str
) -> Hits:
    """Drop hits vetoed by an overlapping look-alike, then keep the leftmost-longest of overlapping hits."""
    # by start, then longest first, stable: two C-level sorts instead of a Python key per hit
    raw.sort(key=itemgetter(1), reverse=True)
    raw.sort(key=itemgetter(0))
    starts: list[int] = []
    ends: list[int] = []
    targets: list[tuple[str, ...]] = []
    last_end = -1
    # look-alikes by start, so a hit meets only those that can overlap it (not all: a long article with
    # thousands of look-alikes would cost hits x look-alikes)
    excluded.sort()
    excluded_starts = [x_start for x_start, _, _ in excluded]
    longest = max((x_end - x_start for x_start, x_end, _ in excluded), default=0)
    for start, end, found in raw:
        kept = found
        if excluded:
            near = excluded[bisect_left(excluded_starts, start - longest) : bisect_left(excluded_starts, end)]
            if near:
                kept = tuple(
                    target
                    for target in found
                    if not any(
                        start < x_end and x_start < end and x_target == target.removeprefix(COREF_PREFIX)
                        for x_start, x_end, x_target in near
                    )
                )
            if not kept:
                continue
        if start < last_end:
            if start == starts[-1] and end == ends[-1]:
                targets[-1] = tuple(dict.fromkeys((*targets[-1], *kept)))
            continue
        starts.append(start)
        ends.append(end)
        targets.append(kept)
        last_end = end
    return Hits(starts, ends, targets, scan)

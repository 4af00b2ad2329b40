"""A sentence's clause cues, read once: the cue automaton over the sentence alone, each cue filed by its
kind (what `assertion.ClauseReader` weighs, where a trigger's sides must stand, the clause's shape).
"""

from __future__ import annotations

from typing import NamedTuple

from monitor.engine.asides import find_asides
from monitor.engine.compile_cues import CUES_PREFIX
from monitor.engine.compiled import CompiledCues
from monitor.engine.match import find_window
from monitor.engine.normalize import NormalizedText
from monitor.engine.segment import is_word_char
from monitor.engine.sides import Cue

#: cue kinds that say where a trigger's sides must stand (`sides.py`), not what it asserts
PLACING_KINDS = frozenset({"partner", "subordinate"})
#: cue kinds that shape the clause, not what it asserts: a relative clause set off by a comma (an
#: aside), a reported clause opening after the trigger, and look-alikes (phrases in which a cue word
#: is no cue: "not only", "without delay", "पहले चरण"; they shadow the shorter cue, leftmost-longest)
_SHAPING_KINDS = frozenset({"relative", "complement", "lookalike"})
#: cue kinds that make an act of an agreement noun (`ClauseReader.acted`): an act word anywhere in the
#: clause (signed, concluded, हस्ताक्षर, लागू), a light verb after the noun (समझौता हुआ, करार किया)
_ACT_KINDS = frozenset({"act", "light_verb"})


class SentenceCues(NamedTuple):
    """A sentence's cues as parallel lists sorted by start (no object per cue until one is needed)."""

    starts: list[int]
    ends: list[int]
    kinds: list[str]
    #: clause breaks (words and marks), sorted
    break_starts: list[int]
    break_ends: list[int]
    refer_back: list[int]
    #: where the sides must stand (`sides.py`): partner and subordinate cues, sorted
    placing: list[Cue]
    #: asides: relative clauses set off by a comma (", which never signed one,"), [start, end)
    asides: list[tuple[int, int]]
    #: starts of the reported clauses ("and said that", "कहा कि"), sorted
    complements: list[int]
    #: whether the sentence has a `report` cue ("reported", "रिपोर्ट"): only then a later denial is looked for
    reports: bool
    #: act and light-verb cues (`ClauseReader.acted`), sorted by start
    acts: list[Cue]
    #: ends of the determiners ("the", "इस"): a trigger word just after one refers back
    determiners: list[int]


#: where `read_cues` files a cue of each kind (compared by identity: a few `is` tests a hit)
_ASSERTING, _PLACING, _ACTING, _DETERMINING, _BREAKING, _REFERRING, _RELATING, _REPORTING, _SHAPING = (
    object() for _ in range(9)
)
_SLOT_OF_KIND = {
    "clause_break": _BREAKING,
    "refer_back": _REFERRING,
    **dict.fromkeys(PLACING_KINDS, _PLACING),
    "relative": _RELATING,
    "complement": _REPORTING,
    **dict.fromkeys(_ACT_KINDS, _ACTING),
    "determiner": _DETERMINING,
    **dict.fromkeys(_SHAPING_KINDS - {"relative", "complement"}, _SHAPING),
}
#: cue target (`cues:negation`) -> its kind and its slot, filled as targets are met
_FILING: dict[str, tuple[str, object]] = {}


def _filed(target: str) -> tuple[str, object]:
    """A cue target's kind and where `read_cues` files it (the first time the target is met)."""
    kind = target.removeprefix(CUES_PREFIX)
    filed = _FILING[target] = (kind, _SLOT_OF_KIND.get(kind, _ASSERTING))
    return filed


#: the cues of a sentence without any (shared: `SentenceCues` lists are never changed once made)
NO_CUES = SentenceCues([], [], [], [], [], [], [], [], [], False, [], [])


def read_cues(cues: CompiledCues, normalized: NormalizedText, low: int, high: int, scan: str = "") -> SentenceCues:
    """The cues of the sentence [low, high): the cue automaton over that stretch of the scan text only
    (`scan`: the whole text's, when made), each cue filed by its kind."""
    breaks = _marks(cues, normalized.lowered, low, high)
    found = find_window(cues.exact_automaton, cues.fold_automaton, normalized, low, high, scan)
    if not found and not breaks:
        return NO_CUES  # the usual sentence: nothing to sort out (its lists are never changed)
    starts: list[int] = []
    ends: list[int] = []
    kinds: list[str] = []
    refer_back: list[int] = []
    placing: list[Cue] = []
    relatives: list[int] = []
    complements: list[int] = []
    acts: list[Cue] = []
    determiners: list[int] = []
    filing = _FILING
    for start, end, targets in found:
        for target in targets:
            kind, slot = filing.get(target) or _filed(target)
            if slot is _ASSERTING:
                starts.append(start)
                ends.append(end)
                kinds.append(kind)
                if kind == "pluperfect":  # a finite verb of the act ("had signed", "किए थे") shadows the act word
                    acts.append(Cue(start, end, "act"))
            elif slot is _PLACING:
                placing.append(Cue(start, end, kind))
            elif slot is _ACTING:
                acts.append(Cue(start, end, kind))
            elif slot is _DETERMINING:
                determiners.append(end)
            elif slot is _BREAKING:
                breaks.append((start, end))
            elif slot is _REFERRING:
                refer_back.append(start)
            elif slot is _RELATING:
                relatives.append(start)
            elif slot is _REPORTING:
                complements.append(start)
    if breaks:
        breaks.sort()
        break_starts, break_ends = [b[0] for b in breaks], [b[1] for b in breaks]
    else:
        break_starts, break_ends = [], []
    asides = find_asides(normalized.text, relatives, high) if relatives else []
    reports = "report" in kinds
    return SentenceCues(
        starts,
        ends,
        kinds,
        break_starts,
        break_ends,
        refer_back,
        placing,
        asides,
        complements,
        reports,
        acts,
        determiners,
    )


def _marks(cues: CompiledCues, lowered: str, low: int, high: int) -> list[tuple[int, int]]:
    """The punctuation breaks in [low, high): `;`, and a comma with its conjunction (`, and`,
    `, और`: a new clause, where a bare `and` joins two names) ending at a word's end. Each
    punctuation character is looked for once; the marks it opens are compared only where it is."""
    found = []
    for lead, marks in cues.break_marks:
        at = lowered.find(lead, low, high)
        while at >= 0:
            for mark in marks:
                after = at + len(mark)
                if lowered.startswith(mark, at) and (
                    after >= len(lowered) or not (is_word_char(mark[-1]) and is_word_char(lowered[after]))
                ):
                    found.append((at, after))
                    break
            at = lowered.find(lead, at + 1, high)
    return found

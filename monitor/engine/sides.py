"""Where a trigger's sides must stand: a side named after the agreement's partner, or only in a
subordinate clause that opens after the trigger, is not a side of the act.

"North Korea signed an agreement with Belarus, Russia's closest ally": the partner is what follows
`with` (up to a comma or `PARTNER_WORDS` words); Russia, named after it, is not a party. "The deal
was signed in Moscow despite Seoul's anger at Russia's ties with North Korea": the sides named from
`despite` on (a `subordinate` cue after the trigger, to the end of the trigger's clause) are the
background of the act, not its parties. Latin-script partner cues (`with`, `between`) precede the
partner and follow the trigger; Devanagari ones (`के साथ`, `के बीच`) follow the partner and
precede the trigger, so a side named after them does not count.
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: the partner is at most this many words after its (Latin-script) cue, and the cue at most this
#: many words from the trigger
PARTNER_WORDS = 4
_WORD = re.compile(r"[^\s,;:]+")


class Cue(NamedTuple):
    """A cue found in a sentence, in normalized coordinates (a named tuple: made for each cue a verdict
    weighs, and a frozen dataclass costs twice as much to build)."""

    start: int
    end: int
    kind: str


def side_cut(text: str, placing: list[Cue], low: int, high: int, start: int, end: int) -> tuple[int, Cue] | None:
    """The position from which the sides of the trigger at [start, end) in the clause [low, high)
    do not count, with the cue that says so; None when every side counts."""
    cuts = []
    for cue in placing:
        if not low <= cue.start < high:
            continue
        if cue.kind == "subordinate" and cue.start >= end:
            cuts.append((cue.start, cue))
        elif cue.kind == "partner":
            cut = _partner_end(text, cue, high, start, end)
            if cut is not None:
                cuts.append((cut, cue))
    return min(cuts, key=_first) if cuts else None


def _partner_end(text: str, cue: Cue, high: int, start: int, end: int) -> int | None:
    """Where the partner a cue names ends, when the cue belongs to the trigger (beside it)."""
    if text[cue.start].isascii():
        if cue.start < end or text.count(" ", end, cue.start) > PARTNER_WORDS + 1:
            return None
        stretch = text[cue.end : high]
        comma = stretch.find(",")
        if comma >= 0:
            stretch = stretch[:comma]
        words = list(_WORD.finditer(stretch))[:PARTNER_WORDS]
        return cue.end + words[-1].end() if words else None
    if cue.end > start or text.count(" ", cue.end, start) > PARTNER_WORDS + 1:
        return None
    return cue.end


def _first(cut: tuple[int, Cue]) -> int:
    return cut[0]

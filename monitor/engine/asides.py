"""Asides: relative clauses set off from the main clause, whose cues speak of a name, not of the act.

"Russia, which has never signed such a pact with Japan, signed one with North Korea on Monday": the
`never` of the aside does not negate Monday's signing. An aside opens at a `relative` cue right after a
comma (or a comma and an English preposition: ", under which"), or at a Hindi relative right after a
finite verb (the main clause ends with its verb), and runs to the next comma.
"""

from __future__ import annotations

from monitor.engine.sides import Cue

#: Hindi finite verb endings of a main clause: a relative word right after one opens a relative
#: clause even without a comma ("… हस्ताक्षर किए जिसमें सैन्य पहलू नहीं है"), as Hindi puts the
#: relative clause after the main clause's verb
_HINDI_FINITE = frozenset({"किए", "किये", "किया", "है", "हैं", "था", "थे", "थी", "गया", "गए", "गई", "हुआ", "हुई", "हुए"})


def find_asides(text: str, relatives: list[int], high: int) -> list[tuple[int, int]]:
    """The relative clauses set off by a comma: from a relative cue right after a comma (or after a
    comma and an English preposition: ", under which") to the next comma (or the sentence's end).
    ", which never signed one," says something of a name, not of the main clause's act; a relative
    word without its comma restricts a noun and is left alone, except a Hindi one right after a
    finite verb (`_HINDI_FINITE`): the main clause has ended there."""
    found = []
    for start in relatives:
        before = start - 1
        while before >= 0 and text[before] == " ":
            before -= 1
        if before < 0:
            continue
        if text[before] != "," and not _after_comma(text, before, start):
            continue
        comma = text.find(",", start, high)
        found.append((start, comma if comma >= 0 else high))
    return found


def _after_comma(text: str, before: int, start: int) -> bool:
    """Whether the relative at `start`, whose previous word ends at `before`, opens an aside without
    a comma of its own: a Hindi relative after a finite verb, an English one after a comma and a
    preposition (", under which", ", in which")."""
    word_start = text.rfind(" ", 0, before + 1) + 1
    word = text[word_start : before + 1]
    if not text[start].isascii():
        return word in _HINDI_FINITE
    previous = word_start - 1
    while previous >= 0 and text[previous] == " ":
        previous -= 1
    return previous >= 0 and text[previous] == "," and word.isalpha() and len(word) <= _PREPOSITION_LETTERS


#: an English word between a comma and a relative is a preposition when it is at most this long
#: ("under which", "through which")
_PREPOSITION_LETTERS = 7


def in_other_aside(asides: list[tuple[int, int]], cue: Cue, trigger: int, veto: bool) -> bool:
    """Whether `cue` stands in an aside that does not hold the trigger at `trigger` and so does not
    bear on it: a veto there (`veto`: the cue is of a veto kind) speaks of the aside's own name
    ("Japan, which has never signed one, …"), and so does a time cue in an aside before the trigger;
    an aside after the trigger may describe the act itself ("… नई रेलवे डील का असर है, जो पिछले
    साल हुई थी": last year's deal)."""
    for low, high in asides:
        if low <= cue.start < high and not low <= trigger < high:
            return veto or low < trigger
    return False

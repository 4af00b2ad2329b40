"""Two parts of compiling the cue lists (``compile._compile_cues``): the punctuation breaks grouped by their
first character, and the small automaton of the keys that can make a sentence refer back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.engine.automata import automata
from monitor.engine.compiled import Candidate

#: the target of a clause cue's hits: `cues:negation`, `cues:past`...
CUES_PREFIX = "cues:"


def break_marks(marks: Sequence[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The marks (";", ", and") lowered, grouped by their first character, longest first in a group: each
    punctuation character is looked for once in a sentence."""
    leads: dict[str, list[str]] = {}
    for mark in sorted(dict.fromkeys(mark.lower() for mark in marks), key=len, reverse=True):
        leads.setdefault(mark[0], []).append(mark)
    return tuple((lead, tuple(group)) for lead, group in leads.items())


def refer_back_automaton(keys: dict[str, list[Candidate]]) -> Any:
    """The keys that can make a sentence refer back (refer-back cues, and the determiners before a
    trigger word) as an automaton of their own (`CompiledCues.refer_back_automaton`); None without any,
    or when one of them folds."""
    targets = {CUES_PREFIX + "refer_back", CUES_PREFIX + "determiner"}
    found = {key: chosen for key, listed in keys.items() if (chosen := [c for c in listed if c.target in targets])}
    if not found:
        return None
    exact, folding, _ = automata(found, latin_text=False)  # as `match.find_window` reads cues
    return exact if folding is None else None

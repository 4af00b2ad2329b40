"""Watchlist keys -> the whole-word pyahocorasick automata that `match.py` runs over scan text.

Shared by the rules' automaton and the clause cues' (`cues:` in the watchlist language), so a cue
word is found exactly as a term is: same normalization, paradigms and folding.
"""

from __future__ import annotations

from typing import Any

import ahocorasick

from monitor.engine.compiled import Candidate, KeyCheck, KeyValue
from monitor.engine.normalize import FOLDED_SCRIPT, lower
from monitor.engine.segment import SEPARATOR, is_word_char, scan_text


def _spaces_only(key: str) -> bool:
    """Whether the key's only non-word characters are single spaces (the separator is a space)."""
    return scan_text(key) == key and "  " not in key


def _grouped_keys(
    keys: dict[str, list[Candidate]], latin_text: bool
) -> tuple[dict[tuple[bool, str], list[tuple[int, str, Candidate]]], dict[str, int]]:
    """Candidates by (folding automaton?, wrapped scan key), each with how far back from the hit's
    last character its key starts and the key; and how many keys each target has."""
    entries: dict[tuple[bool, str], list[tuple[str, Candidate]]] = {}
    key_counts: dict[str, int] = {}
    for folded_key, candidates in keys.items():
        # a folding key without Devanagari matches the same words in the text as in the folded text,
        # unless the text's Latin is folded too: it goes with the exact keys (`automata`), and where
        # an exact key is the same words, its targets come with theirs in watchlist order, as two
        # exact aliases' do
        in_folded = latin_text or FOLDED_SCRIPT.search(folded_key) is not None
        for candidate in dict.fromkeys(candidates):
            folds = candidate.exact is None and in_folded
            key = folded_key if candidate.exact is None else lower(candidate.exact)
            entries.setdefault((folds, key), []).append((key, candidate))
            key_counts[candidate.target] = key_counts.get(candidate.target, 0) + 1
    grouped: dict[tuple[bool, str], list[tuple[int, str, Candidate]]] = {}
    for (folds, key), pairs in entries.items():
        lead = 1 if is_word_char(key[0]) else 0
        wrapped = SEPARATOR * lead + scan_text(key) + SEPARATOR * (1 if is_word_char(key[-1]) else 0)
        for _, candidate in pairs:
            grouped.setdefault((folds, wrapped), []).append((len(wrapped) - lead, key, candidate))
    return grouped, key_counts


def _key_value(found: list[tuple[int, str, Candidate]]) -> KeyValue:
    """What the automaton reports for one wrapped key: the candidates that need no check, the
    checks of the others."""
    back = found[0][0]
    keys_here = {key for _, key, _ in found}
    only_key = next(iter(keys_here)) if len(keys_here) == 1 else None
    # a key whose only non-word characters are single spaces is verified by counting the
    # spaces of the text there (a comma or a line break is a separator too, but not a space)
    spaces = only_key.count(" ") if only_key is not None and _spaces_only(only_key) else None
    fast: list[str] = []
    checks: list[KeyCheck] = []
    for _, key, candidate in found:
        verify = None if spaces is not None or SEPARATOR not in scan_text(key) else (candidate.folded or key)
        if verify is None and candidate.role == "match" and not candidate.case_sensitive:
            fast.append(candidate.target)
        else:
            checks.append(KeyCheck(verify, len(key), candidate))
    length = len(only_key) if only_key is not None else min(len(key) for key in keys_here)
    return KeyValue(back, length, tuple(dict.fromkeys(fast)), spaces or 0, tuple(checks))


def automata(keys: dict[str, list[Candidate]], *, latin_text: bool) -> tuple[Any, Any, dict[str, int]]:
    """The exact and the folding automaton over scan text (None without keys), and how many keys
    each target has. `latin_text`: the text the folding automaton runs over has its Latin folded too
    (`match.find_keys`' `latin_fold`); without it, only keys with Devanagari are folding ones, so that
    a text without Devanagari needs no folding pass (an English article: a third of the scan's time).

    A key is wrapped in separators where it starts or ends with a letter, so it matches only whole
    words of the scan text (where every non-word character is a separator): no boundary checks per
    hit. Keys with inner separators are verified against the real text (a line break or a comma is
    not the space the alias has); case-sensitive and exclusion candidates always are.
    """
    grouped, key_counts = _grouped_keys(keys, latin_text)
    automata: dict[bool, Any] = {}
    for (folds, wrapped), found in grouped.items():
        automaton = automata.get(folds)
        if automaton is None:
            automaton = automata[folds] = ahocorasick.Automaton()
        automaton.add_word(wrapped, _key_value(found))
    for automaton in automata.values():
        automaton.make_automaton()
    return automata.get(False), automata.get(True), key_counts

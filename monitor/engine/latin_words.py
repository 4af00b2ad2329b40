"""Latin spelling variants of the folding aliases, as keys of the folding automaton.

Folding Latin spellings in the text (`normalize._mark_latin`: a doubled vowel is one, `oe` is `o`, a
word-final `ng` is `n`) costs seven whole-text `str.replace` passes per article (30 µs on the bench
articles, more than the rest of the folding), though only words that fold *to a word of a folding
alias* can ever change a match, and those are few and known when compiling: each alias word with
every vowel optionally doubled (`o` also as `oe`) and a final `n` optionally `ng`, kept when it folds
back to the alias word. So the folding automaton gets every spelling of its Latin keys ("choe son
hui", "cho song hui", …), each with the key's candidates, and the text's Latin letters are left as
they are: the same matches, no pass over the text.
"""

from __future__ import annotations

import re
from dataclasses import replace
from itertools import product

from monitor.engine.compiled import Candidate
from monitor.engine.normalize import fold

#: a key with more spellings than this leaves the Latin folding to the text (none in practice)
MAX_SPELLINGS = 5000
_LATIN = re.compile("[a-z]")
_LATIN_RUN = re.compile("([a-z]+)")
#: all keys together get at most this many spellings (else the text folds Latin, as before)
MAX_TOTAL = 200_000


def _spellings(word: str, final: bool) -> list[str]:
    """The run of Latin letters and every run that folds to it (`final`: it ends a word, so a last
    `n` may be written `ng`)."""
    options: list[tuple[str, ...]] = []
    for position, char in enumerate(word):
        if char == "o":
            options.append(("o", "oo", "oe"))
        elif char in "aeiu":
            options.append((char, char + char))
        elif char == "n" and final and position == len(word) - 1:
            options.append(("n", "ng"))
        else:
            options.append((char,))
    found = {"".join(combination) for combination in product(*options)}
    return [word, *sorted(spelling for spelling in found if spelling != word and fold(spelling) == word)]


def _key_spellings(key: str) -> list[str] | None:
    """Every spelling of a folded key: its runs of Latin letters respelled, everything else (spaces,
    punctuation, other scripts) as it is; None when there would be more than `MAX_SPELLINGS`."""
    pieces = _LATIN_RUN.split(key)  # odd pieces are the Latin runs
    options: list[list[str]] = []
    count = 1
    for index, piece in enumerate(pieces):
        if index % 2:
            following = pieces[index + 1][:1] if index + 1 < len(pieces) else ""
            options.append(_spellings(piece, not (following.isalnum() or following == "_")))
            count *= len(options[-1])
            if count > MAX_SPELLINGS:
                return None
        else:
            options.append([piece])
    return ["".join(combination) for combination in product(*options)]


def with_latin_spellings(keys: dict[str, list[Candidate]]) -> tuple[dict[str, list[Candidate]], bool]:
    """The keys with every Latin spelling of the folding ones (their folding candidates), and whether
    the text still needs Latin folding (a key that could not be spelled out)."""
    extended = dict(keys)
    text_folds = False
    for key, candidates in keys.items():
        folding = [candidate for candidate in candidates if candidate.exact is None]
        if not folding or not _LATIN.search(key):
            continue
        spellings = _key_spellings(key)
        if spellings is None or len(extended) + len(spellings) > len(keys) + MAX_TOTAL:
            text_folds = True
            continue
        respelled = [replace(candidate, folded=key) for candidate in folding]
        for spelling in spellings[1:]:
            extended[spelling] = [*extended.get(spelling, []), *respelled]
    return extended, text_folds

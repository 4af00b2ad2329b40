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
from itertools import product

from monitor.engine.compiled import Candidate
from monitor.engine.normalize import fold
from monitor.engine.segment import scan_text

#: a key with more spellings than this leaves the Latin folding to the text (none in practice)
MAX_SPELLINGS = 5000
_LATIN = re.compile("[a-z]")
_LATIN_WORD = re.compile("[a-z]+")


def _spellings(word: str) -> list[str]:
    """The word and every word that folds to it."""
    options: list[tuple[str, ...]] = []
    for position, char in enumerate(word):
        if char == "o":
            options.append(("o", "oo", "oe"))
        elif char in "aeiu":
            options.append((char, char + char))
        elif char == "n" and position == len(word) - 1:
            options.append(("n", "ng"))
        else:
            options.append((char,))
    found = {"".join(combination) for combination in product(*options)}
    return [word, *sorted(spelling for spelling in found if spelling != word and fold(spelling) == word)]


def _key_spellings(key: str) -> list[str] | None:
    """Every spelling of a folded key, words joined as in the key; None when a word mixes Latin
    letters with other word characters (the text must then be folded for Latin too)."""
    words = scan_text(key).split()
    if any(_LATIN.search(word) and not _LATIN_WORD.fullmatch(word) for word in words):
        return None
    per_word = [_spellings(word) if _LATIN.search(word) else [word] for word in words]
    count = 1
    for spellings in per_word:
        count *= len(spellings)
    if count > MAX_SPELLINGS:
        return None
    lead = key[: len(key) - len(key.lstrip())]
    trail = key[len(key.rstrip()) :]
    return [lead + " ".join(combination) + trail for combination in product(*per_word)]


def with_latin_spellings(keys: dict[str, list[Candidate]]) -> tuple[dict[str, list[Candidate]], bool]:
    """The keys with every Latin spelling of the folding ones (their folding candidates), and whether
    the text still needs Latin folding (a key that could not be spelled out)."""
    extended = dict(keys)
    text_folds = False
    for key, candidates in keys.items():
        folding = [candidate for candidate in candidates if candidate.exact is None]
        if not folding or not _LATIN.search(key):
            continue
        spellings = _key_spellings(key) if scan_text(key) == key and "  " not in key.strip() else None
        if spellings is None:
            text_folds = True
            continue
        for spelling in spellings[1:]:
            extended[spelling] = [*extended.get(spelling, []), *folding]
    return extended, text_folds

"""One normalizer for article text and for every alias and term (see DESIGN.md, "Text facts").

The hot path is C-level: `str.replace` for one-to-one replacements and `re.sub` passes, each run
only when its characters occur, for the edits that change the length (their callbacks record the
edits for the offset map).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, count
from operator import add

from monitor.engine.offsets import ChainedOffsetMap, OffsetMap

_SPACE = " "
#: one-to-one replacements: spaces, hyphens and dashes, chandrabindu, candra vowels, nukta letters
_ONE_TO_ONE: dict[int, str] = {
    **{ord(char): _SPACE for char in "\t\u00a0\u2007\u202f\u200b\u3000"},
    **{code: _SPACE for code in range(0x2000, 0x200B)},
    **{ord(char): _SPACE for char in "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"},
    ord("ँ"): "ं",
    ord("ॉ"): "ो",
    ord("ॅ"): "े",
    ord("ऑ"): "ओ",
    ord("ऍ"): "ए",
    # nukta letters (precomposed) -> base letters; decomposed nuktas are deleted below
    **dict(zip(range(0x0958, 0x0960), "\u0915\u0916\u0917\u091c\u0921\u0922\u092b\u092f", strict=True)),
    0x0929: "\u0928",
    0x0931: "\u0930",
    0x0934: "\u0933",
}
_NEEDS_ONE_TO_ONE = re.compile("[" + "".join(re.escape(chr(code)) for code in _ONE_TO_ONE) + "]")

#: invisible characters and the nukta: deleted
_INVISIBLE_CHARS = "\u200c\u200d\u00ad\u2060\ufeff\u093c"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]+")
_NEWLINE = re.compile(r"\r\n?")
_SPACES = re.compile(r"  +")
#: a nasal consonant + virama before a consonant of its own class is written interchangeably with
#: an anusvara (हिन्दी/हिंदी, सम्बन्ध/संबंध)
_NASAL = re.compile(r"ङ्(?=[कखगघ])|ञ्(?=[चछजझ])|ण्(?=[टठडढ])|न्(?=[तथदध])|म्(?=[पफबभ])")
#: where `_NASAL` may match: starting with the virama, a literal, it is searched for 7x faster than
#: the alternation (tried at every position) or the five pairs
_NASAL_MAYBE = re.compile("्(?<=[ङञणनम]्)[कखगघचछजझटठडढतथदधपफबभ]")

#: spelling-variant folding for names that opt in: vowel length, ई/ए, ब/व, nasals, and dropping
#: the aa-matra and virama (वोनसान = वॉनसन = वोन्सान); `str.replace` is far faster than `translate`
_FOLD_STEPS: tuple[tuple[str, str], ...] = (
    ("ा", ""),
    ("्", ""),
    ("ी", "ि"),
    ("ू", "ु"),
    ("ै", "े"),
    ("ौ", "ो"),
    ("आ", "अ"),
    ("ई", "इ"),
    ("ए", "इ"),
    ("ऐ", "इ"),
    ("ऊ", "उ"),
    ("औ", "ओ"),
    ("ब", "व"),
    ("ं", "न"),
    ("ङ", "न"),
    ("ञ", "न"),
    ("ण", "न"),
)


#: the characters folding reads, Latin aside (`fold_with_deletions` with `latin` False changes no other):
#: a key with none of them is the same words in the folded text as in the text (but for a vowel sign or
#: virama stuck to a Latin word, `Wonsanा`, which folding deletes: no text writes that), and a text with
#: none of them holds no key that has one
FOLDED_SCRIPT = re.compile("[\u0900-\u097f\u1cd0-\u1cff\ua8e0-\ua8ff]")


#: the same for Latin transliterations (Choe Son Hui = Cho Song Hui = Choe Son-hui): a doubled vowel
#: is one, `oe` is `o`, and `ng` ending a word is `n`. Each folds by deleting a letter, marked for
#: deletion with the aa-matra (`_mark_latin`) so that the folded text keeps its way back like the marks
_LATIN_PAIRS: tuple[tuple[str, str], ...] = (
    ("aa", "aा"),
    ("ee", "eा"),
    ("ii", "iा"),
    ("oo", "oा"),
    ("oe", "oा"),
    ("uu", "uा"),
)
_LATIN_NG = re.compile(r"ng(?![^\W_])")


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """An article after normalization, with the way back to the original offsets."""

    original: str
    #: normalized, case kept (for case-sensitive aliases and sentence splitting)
    text: str
    #: normalized and case-folded, same length as `text`
    lowered: str
    to_original: ChainedOffsetMap


def _record_edits(pattern: re.Pattern[str], text: str, replacement: str) -> tuple[str, OffsetMap]:
    edits: list[tuple[int, int, int]] = []

    def substitute(match: re.Match[str]) -> str:
        edits.append((match.start(), match.end(), len(replacement)))
        return replacement

    return pattern.sub(substitute, text), OffsetMap(text, edits)


def _joins_previous(char: str) -> bool:
    """A character that NFC may compose with the one before: marks of every script (Bengali
    and Tamil vowel signs have combining class 0) and Hangul vowel and final jamo."""
    return (
        unicodedata.combining(char) != 0
        or unicodedata.category(char).startswith("M")
        or "\u1160" <= char <= "\u11ff"
        or "\ud7b0" <= char <= "\ud7ff"
    )


def _compose_nfc(text: str) -> tuple[str, OffsetMap]:
    """Slow path for the rare text that is not NFC after the other steps (decomposed accents, vowel
    signs written in two parts): composes each letter with the marks after it, recording edits."""
    parts: list[str] = []
    edits: list[tuple[int, int, int]] = []
    start = 0
    for position in range(1, len(text) + 1):
        if position < len(text) and _joins_previous(text[position]):
            continue
        cluster = text[start:position]
        composed = unicodedata.normalize("NFC", cluster)
        if composed != cluster:
            edits.append((start, position, len(composed)))
        parts.append(composed)
        start = position
    return "".join(parts), OffsetMap(text, edits)


def _delete_invisible(text: str) -> tuple[str, OffsetMap]:
    """`_INVISIBLE` deleted, with its offset map; when only one of its characters occurs (the
    nukta, usually), by splitting: C-level, where the regex scans every character."""
    present = [char for char in _INVISIBLE_CHARS if char in text]
    if len(present) > 1:
        return _record_edits(_INVISIBLE, text, "")
    (char,) = present
    pieces = text.split(char)
    if "" not in pieces[1:-1]:  # no two in a row (the usual text): each deleted alone, positions in C
        starts = list(map(add, accumulate(map(len, pieces[:-1])), count()))
        return "".join(pieces), OffsetMap.of_deleted_runs(
            starts, list(map((1).__add__, starts)), unicodedata.category(char).startswith("M")
        )
    starts = []
    ends: list[int] = []
    position = -1
    for piece in pieces[:-1]:
        position += len(piece) + 1
        if not piece and ends and ends[-1] == position:
            ends[-1] = position + 1
        else:
            starts.append(position)
            ends.append(position + 1)
    return "".join(pieces), OffsetMap.of_deleted_runs(starts, ends, unicodedata.category(char).startswith("M"))


def lower(text: str) -> str:
    """Lower case, except for the characters whose lower case is longer (offsets stay valid)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


def _one_to_one(text: str) -> str:
    for char in set(_NEEDS_ONE_TO_ONE.findall(text)):
        text = text.replace(char, _ONE_TO_ONE[ord(char)])
    return text


def normalize(original: str) -> NormalizedText:
    """Normalize an article; `to_original` maps offsets in `text`/`lowered` back to `original`.

    Each length-changing step runs only when its characters occur, and records its own offset map.
    """
    text = _one_to_one(original)
    maps: list[OffsetMap] = []
    # the newline and space steps are tested for on the text before the invisible characters are
    # deleted (a double space that only a deletion brings together stays); the nasal step after: a
    # pair that a deleted nukta or joiner brings together (ऩ्त) folds in an article as in an alias,
    # whatever other pairs the text has
    before = text
    if any(char in text for char in _INVISIBLE_CHARS):
        text, step_map = _delete_invisible(text)
        maps.append(step_map)
    maybe_nasal = _NASAL_MAYBE.search(text) is not None
    steps = (
        (_NEWLINE, "\n", "\r" in before),
        (_SPACES, " ", "  " in before),
        (_NASAL, "ं", maybe_nasal),
    )
    for pattern, replacement, needed in steps:
        if needed:
            text, step_map = _record_edits(pattern, text, replacement)
            if step_map:
                maps.append(step_map)
    # C-level quick check, correct for every script (nuktas, the usual "maybe", are already gone)
    if not unicodedata.is_normalized("NFC", text):
        text, nfc_map = _compose_nfc(text)
        maps.append(nfc_map)
    return NormalizedText(original, text, lower(text), ChainedOffsetMap(maps))


@lru_cache(maxsize=4096)
def normalize_phrase(phrase: str) -> str:
    """Normalize an alias or term exactly like article text, trimmed; case kept.

    Cached: compiling asks for an alias several times in a row (checks, then forms) and for the
    same paradigm endings for every alias.
    """
    return normalize(phrase).text.strip()


def _mark_latin(lowered: str, scan: bool = False) -> str:
    """The Latin letters that folding deletes, replaced by the aa-matra (which it deletes too); C-level
    replacements, each run only when its pair occurs. In scan text (`scan`: padded, every non-word
    character a space) a word-final `ng` is one before a space or the end: a plain replacement."""
    for old, new in _LATIN_PAIRS:
        if old in lowered:
            lowered = lowered.replace(old, new)
    if "ng" not in lowered:
        return lowered
    if scan:
        return (lowered + " ").replace("ng ", "nा ")[:-1]
    return _LATIN_NG.sub("nा", lowered)


def fold(lowered: str) -> str:
    """Spelling-variant folding, applied to the whole text and to the keys of the automaton."""
    lowered = _mark_latin(lowered)
    for old, new in _FOLD_STEPS:
        lowered = lowered.replace(old, new)
    return lowered


def fold_with_deletions(lowered: str, latin: bool = True, scan: bool = False) -> tuple[str, list[int]]:
    """`fold(lowered)` and, for each deleted mark, the folded position it was deleted before
    (`latin` False: Latin letters left as they are, when no folding alias has any; `scan`: `lowered`
    is scan text, see `_mark_latin`).

    A folded position `f` is `f + bisect_right(deletions, f)` in `lowered` (for a start) and an end
    `e` is `e + bisect_right(deletions, e)` (with the marks attached to the last letter). All C-level:
    the marks are deleted by splitting, and the piece lengths are the positions.
    """
    if latin:
        lowered = _mark_latin(lowered, scan)
    pieces = lowered.replace("्", "ा").split("ा")
    deletions = list(accumulate(map(len, pieces[:-1])))
    folded = "".join(pieces)
    for old, new in _FOLD_STEPS[2:]:
        folded = folded.replace(old, new)
    return folded, deletions

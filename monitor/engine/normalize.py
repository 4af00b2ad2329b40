"""One normalizer for article text and for every alias and term (see DESIGN.md, "Text facts").

The hot path is C-level: a `str.translate` for one-to-one replacements and `re.sub` passes for the
rare edits that change the length (their callbacks record the edits for the offset map).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

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
_INVISIBLE = re.compile("[\u200c\u200d\u00ad\u2060\ufeff\u093c]+")
#: after the invisibles are gone: CRLF and lone CR, runs of spaces, a nasal consonant + virama before
#: a consonant of its own class (written interchangeably with an anusvara)
_LAYOUT = re.compile(
    r"(?P<newline>\r\n?)|(?<= )(?P<spaces> +)|"
    r"(?P<nasal>ङ्(?=[कखगघ])|ञ्(?=[चछजझ])|ण्(?=[टठडढ])|न्(?=[तथदध])|म्(?=[पफबभ]))"
)
_COMBINING = (
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963"
)
_CLUSTER = re.compile(f"(?s).[{_COMBINING}]*")

#: spelling-variant folding for names that opt in: vowel length, ई/ए, ब/व, nasals, and dropping
#: the aa-matra and virama (वोनसान = वॉनसन = वोन्सान)
_FOLD: dict[int, str | None] = {
    ord("ा"): None,
    ord("्"): None,
    ord("ी"): "ि",
    ord("ू"): "ु",
    ord("ै"): "े",
    ord("ौ"): "ो",
    ord("आ"): "अ",
    ord("ई"): "इ",
    ord("ए"): "इ",
    ord("ऐ"): "इ",
    ord("ऊ"): "उ",
    ord("औ"): "ओ",
    ord("ब"): "व",
    ord("ं"): "न",
    ord("ङ"): "न",
    ord("ञ"): "न",
    ord("ण"): "न",
}
_FOLD_DELETED = re.compile("[ा्]")


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """An article after normalization, with the way back to the original offsets."""

    original: str
    #: normalized, case kept (for case-sensitive aliases and sentence splitting)
    text: str
    #: normalized and case-folded, same length as `text`
    lowered: str
    to_original: ChainedOffsetMap


def _record_edits(pattern: re.Pattern[str], text: str, replace: dict[str, str]) -> tuple[str, OffsetMap]:
    edits: list[tuple[int, int, int]] = []

    def substitute(match: re.Match[str]) -> str:
        replacement = replace.get(match.lastgroup or "", "")
        edits.append((match.start(), match.end(), len(replacement)))
        return replacement

    return pattern.sub(substitute, text), OffsetMap(text, edits)


def _compose_nfc(text: str) -> tuple[str, OffsetMap]:
    """Slow path for the rare text that is not NFC after the other steps (decomposed Latin accents)."""
    parts: list[str] = []
    edits: list[tuple[int, int, int]] = []
    for match in _CLUSTER.finditer(text):
        cluster = match.group()
        composed = unicodedata.normalize("NFC", cluster)
        if composed != cluster:
            edits.append((match.start(), match.end(), len(composed)))
        parts.append(composed)
    return "".join(parts), OffsetMap(text, edits)


def _lower(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


def normalize(original: str) -> NormalizedText:
    """Normalize an article; `to_original` maps offsets in `text`/`lowered` back to `original`."""
    text = original.translate(_ONE_TO_ONE) if _NEEDS_ONE_TO_ONE.search(original) else original
    maps: list[OffsetMap] = []
    if _INVISIBLE.search(text):
        text, invisible_map = _record_edits(_INVISIBLE, text, {})
        maps.append(invisible_map)
    text, layout_map = _record_edits(_LAYOUT, text, {"newline": "\n", "nasal": "ं"})
    maps.append(layout_map)
    if not unicodedata.is_normalized("NFC", text):
        text, nfc_map = _compose_nfc(text)
        maps.append(nfc_map)
    return NormalizedText(original, text, _lower(text), ChainedOffsetMap(maps))


def normalize_phrase(phrase: str) -> str:
    """Normalize an alias or term exactly like article text, trimmed; case kept."""
    return normalize(phrase).text.strip()


def fold(lowered: str) -> str:
    """Spelling-variant folding, applied to the whole text and to the keys of the automaton."""
    return lowered.translate(_FOLD)


def fold_map(lowered: str) -> OffsetMap:
    """Offsets of `fold(lowered)` back to `lowered`; built only when a text has hits."""
    return OffsetMap(lowered, ((match.start(), match.end(), 0) for match in _FOLD_DELETED.finditer(lowered)))


_WORD_CHARS: dict[str, bool] = {}


def is_word_char(char: str) -> bool:
    """Letters, digits and combining marks: a match never starts or ends next to one of these."""
    known = _WORD_CHARS.get(char)
    if known is None:
        known = char.isalnum() or unicodedata.category(char).startswith("M")
        _WORD_CHARS[char] = known
    return known

"""Sentences, paragraphs, words and dropped lines, in normalized text (never `re` `\\b`)."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from monitor.engine.normalize import normalize_phrase

_MARKS = "\u0300-\u036f\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963"
#: a word: letters, digits and combining marks (Python's \w alone misses Devanagari vowel signs)
WORD = f"(?:[^\\W_]|[{_MARKS}])+"
_WORDS = re.compile(WORD)
_TAG_ITEM = f" *{WORD}(?: {WORD}){{0,2}} *"
#: tag lines: three or more short comma-separated items and nothing else (`TRUMP, US, DONALD`)
_TAG_LINE = f"^{_TAG_ITEM}(?:,{_TAG_ITEM}){{2,}}$"
_LINE = re.compile(r"[^\n]+")
_PARAGRAPH = re.compile(r"(?:[^\n]|\n(?! *\n))+")
_TERMINATOR = re.compile(r"[।॥?!]+|\.+")

Range = tuple[int, int]


def dropped_lines_pattern(markers: Sequence[str]) -> re.Pattern[str]:
    """Lines that start with a "read also" marker (then `:`, `ः`, a dash or nothing), and tag lines."""
    alternatives = [_TAG_LINE]
    normalized = sorted({normalize_phrase(marker).lower() for marker in markers}, key=len, reverse=True)
    if normalized:
        joined = "|".join(re.escape(marker) for marker in normalized)
        alternatives.append(f"^[ *•>#]*(?:{joined})(?= *[:ः]| |$)[^\\n]*")
    return re.compile("|".join(alternatives), re.MULTILINE)


def dropped_lines(lowered: str, pattern: re.Pattern[str]) -> list[Range]:
    return [match.span() for match in pattern.finditer(lowered)]


def _trimmed(text: str, start: int, end: int) -> Range | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _ends_sentence(text: str, stop: re.Match[str]) -> bool:
    """A full stop ends a sentence unless it is a decimal point or follows an initial (`U.S.`)."""
    if stop.group()[0] != "." or len(stop.group()) > 1:
        return True
    before = text[stop.start() - 1] if stop.start() > 0 else ""
    after = text[stop.end()] if stop.end() < len(text) else ""
    if before.isdigit() and after.isdigit():
        return False
    is_initial = before.isascii() and before.isalpha()
    return not (is_initial and (stop.start() < 2 or not text[stop.start() - 2].isalnum()))


def sentences(text: str, dropped: Sequence[Range]) -> list[Range]:
    """Sentence ranges: ends at danda, double danda, ?, !, a full stop, and every line break."""
    dropped_starts = {start for start, _ in dropped}
    found: list[Range] = []
    for line in _LINE.finditer(text):
        if line.start() in dropped_starts:
            continue
        start = line.start()
        for stop in _TERMINATOR.finditer(text, line.start(), line.end()):
            if _ends_sentence(text, stop):
                if (sentence := _trimmed(text, start, stop.end())) is not None:
                    found.append(sentence)
                start = stop.end()
        if (sentence := _trimmed(text, start, line.end())) is not None:
            found.append(sentence)
    return found


def paragraphs(text: str) -> list[Range]:
    """Paragraph ranges: blocks between blank lines."""
    found = []
    for block in _PARAGRAPH.finditer(text):
        if (paragraph := _trimmed(text, block.start(), block.end())) is not None:
            found.append(paragraph)
    return found


def unit_of(units: Sequence[Range], starts: Sequence[int], position: int) -> int | None:
    """Index of the unit containing `position`, given the units' sorted starts."""
    index = bisect_right(starts, position) - 1
    if index >= 0 and position < units[index][1]:
        return index
    return None


def word_numbers(lowered: str, positions: Sequence[int]) -> list[int]:
    """For each sorted position, how many words start before it (for `near: N` scopes)."""
    numbers = []
    count = 0
    previous = 0
    for position in positions:
        count += len(_WORDS.findall(lowered, previous, position))
        numbers.append(count)
        previous = position
    return numbers

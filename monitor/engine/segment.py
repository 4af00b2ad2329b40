"""Sentences, paragraphs, words and dropped lines, in normalized text (never `re` `\\b`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.engine.normalize import normalize_phrase

_MARKS = "\u0300-\u036f\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963"
#: a word: letters, digits and combining marks (Python's \w alone misses Devanagari vowel signs)
_WORD_CHAR = f"(?:[^\\W_]|[{_MARKS}])"
#: possessive: what follows a word in a tag line is never a word character, so giving characters
#: back cannot help; without it each ordinary line is retried once per letter of its first words
_TAG_WORD = _WORD_CHAR + "++"
_TAG_ITEM = f" *{_TAG_WORD}(?: {_TAG_WORD}){{0,2}} *"
#: tag lines: three or more short comma-separated items and nothing else (`TRUMP, US, DONALD`)
_TAG_LINE = f"{_TAG_ITEM}(?:,{_TAG_ITEM}){{2,}}(?=\\n|\\Z)"
#: where sentences end: line breaks, runs of ।॥?! or of two or more full stops, and a single full stop
#: unless it is a decimal point (`3.5`) or follows an initial (`U.S.`, `A. B.`). One C-level pass: a
#: pattern that starts with a character set is searched for fast; one that starts with an
#: alternation is tried at every position, 5x slower.
SENTENCE_END = re.compile(
    r"[\n।॥?!.](?:(?<=[।॥?!])[।॥?!]*|(?<=\n)"
    r"|(?<=\.)(?:\.+|(?!\.)(?:(?<![A-Za-z\d]\.)|(?<=[^\W_][A-Za-z]\.)|(?<=\d\.)(?!\d))))"
)
#: where paragraphs end: every line break followed by a blank line
PARAGRAPH_END = re.compile(r"\n(?= *\n)")

Range = tuple[int, int]


def dropped_lines_pattern(markers: Sequence[str]) -> re.Pattern[str]:
    """Lines that start with a "read also" marker (then `:`, `ः`, a dash or nothing), and tag lines.

    Matched against the text with a line break put in front (see `dropped_lines`): a pattern that
    starts with a literal is searched for in C, where `^` with MULTILINE is tried at every position.
    """
    alternatives = [_TAG_LINE]
    normalized = sorted({normalize_phrase(marker).lower() for marker in markers}, key=len, reverse=True)
    if normalized:
        joined = "|".join(re.escape(marker) for marker in normalized)
        alternatives.append(f"[ *•>#]*(?:{joined})(?= *[:ः]| |\\n|\\Z)[^\\n]*")
    return re.compile("\n(?:" + "|".join(alternatives) + ")")


def dropped_lines(lowered: str, pattern: re.Pattern[str]) -> list[Range]:
    return [(match.start(), match.end() - 1) for match in pattern.finditer("\n" + lowered)]


def bounds(text: str, ends: re.Pattern[str]) -> list[int]:
    """Sorted positions where units (sentences, paragraphs) end; the last is the text's length.

    Unit `k` is `[bounds[k - 1], bounds[k])`, trimmed; a position is in unit `bisect_right(bounds, p)`.
    """
    found = [match.end() for match in ends.finditer(text)]
    found.append(len(text))
    return found


def trimmed_unit(text: str, unit_bounds: Sequence[int], index: int) -> Range | None:
    return _trimmed(text, unit_bounds[index - 1] if index else 0, unit_bounds[index])


def _trimmed(text: str, start: int, end: int) -> Range | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None



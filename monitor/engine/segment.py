"""Words, sentences, paragraphs and dropped lines, in normalized text (never `re` `\\b`).

A word is a run of word characters: letters, digits and combining marks (`is_word_char`, the one
definition). Aliases and article text are both turned into scan text by `scan_text`, so an alias
key and the article words it must match are made by the same function.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Sequence
from functools import cache

from monitor.engine.normalize import lower, normalize_phrase

#: what every non-word character becomes in the scan text
SEPARATOR = " "


@cache
def is_word_char(char: str) -> bool:
    """Letters, digits and combining marks of every script (Devanagari vowel signs, virama and
    nukta are part of words: Python's `\\w` and `\\b` miss them). A match never starts or ends
    next to one of these. Cached: asked about the few distinct characters of each text."""
    return char.isalnum() or unicodedata.category(char).startswith("M")


def _ranges(chars: list[str]) -> str:
    """A character-class body for sorted `chars`, consecutive runs written as ranges."""
    parts: list[str] = []
    index = 0
    while index < len(chars):
        last = index
        while last + 1 < len(chars) and ord(chars[last + 1]) == ord(chars[last]) + 1:
            last += 1
        parts.append(re.escape(chars[index]) + ("-" + re.escape(chars[last]) if last > index else ""))
        index = last + 1
    return "".join(parts)


#: where Unicode has combining marks: the first two planes and the variation selectors of plane 14
#: (`test_the_word_character_pattern_is_is_word_char` checks every code point)
_MARK_PLANES = (range(0x0300, 0x20000), range(0xE0100, min(0xE01F0, sys.maxunicode + 1)))


@cache
def word_char_pattern() -> str:
    """`is_word_char` as a regular expression: `[^\\W_]` is `str.isalnum`, then the marks.

    The marks beyond U+FFFF have their own class behind a one-range check: in one class with the
    others, `re` tries their ranges one by one on every space and comma (tag lines 1.7x slower).
    """
    marks = [chr(code) for plane in _MARK_PLANES for code in plane if unicodedata.category(chr(code)).startswith("M")]
    basic = _ranges([mark for mark in marks if mark <= "\uffff"])
    astral = _ranges([mark for mark in marks if mark > "\uffff"])
    return f"(?:[^\\W_]|[{basic}]|(?=[\U00010000-\U0010ffff])[{astral}])"


#: characters that may not be word characters: everything but the space and the ASCII and Devanagari
#: word characters; the few distinct ones found are checked with `is_word_char`. Explicit ranges, not
#: `\w`: a class with `\w` looks up Unicode categories and scans three times slower.
_KNOWN_WORD = [chr(code) for code in [*range(0x30, 0x3A), *range(0x61, 0x7B), *range(0x0900, 0x0980)]]
_MAYBE_SEPARATOR = re.compile("[^ " + _ranges([char for char in _KNOWN_WORD if is_word_char(char)]) + "]")
#: distinct characters looked for one search at a time before one `findall` takes the rest
_SEARCHES = 32


def scan_text(lowered: str) -> str:
    """`lowered` with every non-word character replaced by the separator (same length).

    The one analysis for both sides: article text (normalized, lowered) is scanned in it, and every
    alias key is made with it. A text has a handful of distinct separators but hundreds of them:
    each search resumes where the last stopped and finds the next character not yet replaced, so no
    match object is made per comma.
    """
    position = 0
    search = _MAYBE_SEPARATOR.search
    for _ in range(_SEARCHES):
        found = search(lowered, position)
        if found is None:
            return lowered
        char = found.group()
        position = found.end()
        if not is_word_char(char):
            lowered = lowered.replace(char, SEPARATOR)
    for char in set(_MAYBE_SEPARATOR.findall(lowered, position)):
        if not is_word_char(char):
            lowered = lowered.replace(char, SEPARATOR)
    return lowered


@cache
def _tag_line() -> str:
    """Tag lines: three or more short comma-separated items and nothing else (`TRUMP, US, DONALD`).

    Possessive words: what follows a word in a tag line is never a word character, so giving
    characters back cannot help; without it each ordinary line is retried once per letter of its
    first words.
    """
    word = word_char_pattern() + "++"
    item = f" *{word}(?: {word}){{0,2}} *"
    return f"{item}(?:,{item}){{2,}}(?=\\n|\\Z)"


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
    alternatives = [_tag_line()]
    normalized = sorted({lower(normalize_phrase(marker)) for marker in markers}, key=len, reverse=True)
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

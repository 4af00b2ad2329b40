"""Explicit dates written in a clause ("on 19 June 2024", "3 जनवरी को") that lie well before the article's
own date, read by dateparser.

dateparser's search costs about 10 ms a clause, so the engine finds the candidates itself: a month name
(from dateparser's own locale data, English and Hindi) with the numbers beside it; dateparser parses only
those few words (cached: the same dates recur). A clause of ordinary news with numbers ("300 soldiers",
"the 2024 treaty") never reaches it.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache, lru_cache

from monitor.engine.normalize import normalize

LANGUAGES = ("en", "hi")
#: ASCII and Devanagari digits (a character class body)
DIGITS = "0-9\u0966-\u096f"
_NUMBER = re.compile(f"^[{DIGITS}]{{1,4}}(?:st|nd|rd|th)?$")
_WORD = re.compile(r"[^\s,.;:()\[\]\"'“”‘’—–-]+")


@cache
def _month_names() -> frozenset[str]:
    """Every month name and abbreviation dateparser knows in our languages, as the engine's text writes it."""
    from dateparser.languages.loader import default_loader  # slow to import, rarely needed

    names: set[str] = set()
    for language in LANGUAGES:
        info = default_loader.get_locale(language).info
        for month in ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                      "october", "november", "december"):  # fmt: skip
            names.update(normalize(name).text.lower().rstrip("॰.") for name in info.get(month, []))
    return frozenset(name for name in names if name)


def _candidates(text: str) -> list[tuple[int, int]]:
    """(start, end) of each month name with the numbers beside it ("19 June 2024", "जनवरी 2025")."""
    months = _month_names()
    if "॰" not in text and months.isdisjoint(_WORD.findall(text.lower())):
        return []  # the usual clause: no month name (one C-level pass, no object per word)
    words = [(match.start(), match.end(), match.group().lower().rstrip("॰.")) for match in _WORD.finditer(text)]
    found = []
    for index, (_, _, word) in enumerate(words):
        if word not in months:
            continue
        first = last = index
        if index and _NUMBER.match(words[index - 1][2]):
            first = index - 1
        while last + 1 < len(words) and last - index < 2 and _NUMBER.match(words[last + 1][2]):
            last += 1
        if (first, last) != (index, index):
            found.append((words[first][0], words[last][1]))
    return found


def dates_before(text: str, published: dt.date, days: int) -> list[tuple[int, int]]:
    """(offset, length) of each date written in `text` at least `days` days before `published`."""
    old = []
    for start, end in _candidates(text):
        when = _parsed(text[start:end], published)
        if when is not None and (published - when).days >= days:
            old.append((start, end - start))
    return old


@lru_cache(maxsize=4096)
def _parsed(written: str, published: dt.date) -> dt.date | None:
    """The date `written` names, read as of `published` (a day and month without a year: the latest
    such day not after it)."""
    import dateparser  # slow to import, rarely needed

    base = dt.datetime.combine(published, dt.time())
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "REQUIRE_PARTS": ["month"]}
    when = dateparser.parse(written, languages=list(LANGUAGES), settings=settings)
    return None if when is None else when.date()

"""An article's own date: the JSON `published_at`, else a byline or dateline, else the file's time.

A time cue in an article ("last year", "2024 में") is read against this date, and stories group
articles by it. Bylines sit in the first few lines and the last ones; a date further into the body is
about an event, not the article, so only those lines are looked at. A cheap regex finds the few
date-looking pieces there and `dateparser` (English and Hindi month names, no hand-written tables)
reads them; most articles call it once or not at all.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any, Literal, NamedTuple

import dateparser

from monitor.articles import Article

DateSource = Literal["json", "dateline", "file"]

#: a byline may say a day or two past the file's time (time zones, a file copied early); further is
#: a typo or an event date, not the article's
_FUTURE_SLACK = dt.timedelta(days=2)
#: lines at the head and the tail of the article where bylines and datelines sit
_HEAD_LINES = 4
_TAIL_LINES = 2
#: a line longer than this is a paragraph: only its start can be a dateline ("MOSCOW, Jan 12 -")
_SHORT_LINE = 120
_PARAGRAPH_START = 60
#: at most this many candidates are handed to dateparser per article
_MAX_PARSES = 4

# a word of letters in any script, Devanagari vowel signs included (they are not `\w`)
_WORD = r"(?:[^\W\d_]|[\u0900-\u0963\u0971-\u097f])(?:[^\W\d_]|[\u0900-\u0963\u0971-\u097f]){1,11}\.?"
_DAY = r"(?<!\d)[0-3]?\d(?:st|nd|rd|th)?(?!\d)"
_YEAR = r"(?<!\d)(?:19|20)\d\d(?!\d)"
#: "12 Jan 2026", "12 जनवरी", "Jan 13, 2025", "January 12 2026", "2026-01-12", "12/01/2026"
_CANDIDATE = re.compile(
    rf"{_DAY}\s+{_WORD}(?:,?\s+{_YEAR})?"
    rf"|{_WORD}\s+{_DAY}(?:,?\s+{_YEAR})?"
    r"|(?<!\d)(?:19|20)\d\d-[01]\d-[0-3]\d(?!\d)"
    r"|(?<!\d)[0-3]?\d[./][01]?\d[./](?:19|20)\d\d(?!\d)"
)


class ArticleTime(NamedTuple):
    """When the article was published (timezone-aware, UTC) and which source said so."""

    when: dt.datetime
    source: DateSource
    #: the calendar day as the article wrote it (its own time zone: `2026-02-17T08:00+09:00` is the
    #: 17th, though the 16th in UTC): what a time cue in its text is read against
    day: dt.date


#: dateparser reads absolute dates only, against a fixed day (a leap year's last: every day of a
#: year-less date exists in it): its answer depends on the text alone and is cached, since a stream's
#: bylines repeat ("12 Jan 2026" all day). A year-less date takes its year from the file's time here.
_SETTINGS: dict[str, Any] = {
    "PARSERS": ["custom-formats", "absolute-time"],
    "RELATIVE_BASE": dt.datetime(2024, 12, 31),
    "PREFER_DATES_FROM": "past",
    "PREFER_DAY_OF_MONTH": "first",
    "DATE_ORDER": "DMY",
    "REQUIRE_PARTS": ["day", "month"],
    "TIMEZONE": "UTC",
    "TO_TIMEZONE": "UTC",
    "RETURN_AS_TIMEZONE_AWARE": True,
}


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _plausible(value: dt.datetime, file_time: dt.datetime | None) -> bool:
    """Not before 1990, nor past the file's time or now (a date in year 2446 is a typo or a broken clock)."""
    latest = dt.datetime.now(dt.UTC) + _FUTURE_SLACK
    return value.year >= 1990 and value <= latest and (file_time is None or value <= file_time + _FUTURE_SLACK)


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> dt.datetime | None:
    """What dateparser reads in `text` (about 0.6 ms a call: hence the cache), in UTC."""
    try:
        parsed = dateparser.parse(text, languages=["en", "hi"], settings=_SETTINGS)
    except (ValueError, OverflowError, TypeError):
        return None
    return None if parsed is None else _utc(parsed)


def _in_year(value: dt.datetime, year: int) -> dt.datetime:
    try:
        return value.replace(year=year)
    except ValueError:  # 29 February
        return value.replace(year=year, day=28)


def _parse(text: str, base: dt.datetime) -> dt.datetime | None:
    """An absolute date; one written without a year is in `base`'s year, or the year before when that
    puts it after `base` ("28 दिसंबर" read in January)."""
    parsed = _parse_text(text)
    if parsed is None or re.search(_YEAR, text):
        return parsed
    parsed = _in_year(parsed, base.year)
    return _in_year(parsed, base.year - 1) if parsed > base + _FUTURE_SLACK else parsed


def _from_json(value: str, file_time: dt.datetime | None, base: dt.datetime) -> ArticleTime | None:
    """The JSON date, ISO 8601 or anything dateparser reads as an absolute date; None if neither."""
    text = value.strip()
    if not text:
        return None
    try:
        written = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        parsed: dt.datetime | None = _utc(written)
        day: dt.date | None = written.date()
    except ValueError:
        parsed = _parse(text, base)
        day = None if parsed is None else parsed.date()
    if parsed is None or day is None or not _plausible(parsed, file_time):
        return None
    return ArticleTime(parsed, "json", day)


def byline_lines(text: str) -> list[str]:
    """Where bylines sit: the first few non-empty lines (after the title) and the last ones; of a
    long line (a paragraph) only its start."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    body = lines[1:] if len(lines) > 1 else lines
    picked = body[:_HEAD_LINES] + body[_HEAD_LINES:][-_TAIL_LINES:]
    return [line if len(line) <= _SHORT_LINE else line[:_PARAGRAPH_START] for line in picked]


def dateline_date(text: str, file_time: dt.datetime | None) -> dt.datetime | None:
    """The first date of a byline or dateline, or None."""
    base = file_time or dt.datetime.now(dt.UTC)
    parses = 0
    for line in byline_lines(text):
        for found in _CANDIDATE.finditer(line):
            if parses == _MAX_PARSES:
                return None
            parses += 1
            parsed = _parse(found.group(), base)
            if parsed is None:
                continue
            if _plausible(parsed, file_time):
                return parsed
    return None


def _file_datetime(file_time: float) -> dt.datetime:
    """The file's time, or now when it is past now (a clock set wrong, a `touch -d 2446`): it is not the
    article's date, and a story dated then would close every other."""
    now = dt.datetime.now(dt.UTC)
    try:
        when = dt.datetime.fromtimestamp(file_time, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return now
    return now if when > now + _FUTURE_SLACK else when


def article_time(article: Article, file_time: float | None) -> ArticleTime | None:
    """The article's own date: JSON `published_at`, else a dateline, else the file's time (a POSIX
    timestamp); None when none is known."""
    file_dt = None if file_time is None else _file_datetime(file_time)
    base = file_dt or dt.datetime.now(dt.UTC)
    if article.published_at is not None:
        from_json = _from_json(article.published_at, file_dt, base)
        if from_json is not None:
            return from_json
    from_text = dateline_date(article.text, file_dt)
    if from_text is not None:
        return ArticleTime(from_text, "dateline", from_text.date())
    return None if file_dt is None else ArticleTime(file_dt, "file", file_dt.date())

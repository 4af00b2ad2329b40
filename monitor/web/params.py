"""Query strings and JSON bodies -> the archive's arguments; bad values are ``BadRequest`` with a reason.

Pure logic, no I/O: the same names in the page's URL (a stable link to a search), in ``GET /api/alerts``
and in the feed, so that what an analyst sends a colleague is the whole search.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from monitor.history import AlertQuery

#: the filters of a search, as they appear in a URL
FILTERS = ("q", "rule", "severity", "novelty", "entity", "source", "lang", "since", "until", "reviewed", "story")
PAGING = ("before", "limit")
CHOICES = {
    "severity": ("low", "medium", "high", "critical"),
    "novelty": ("new", "reference", "speculative"),
    "lang": ("hi", "en", "mixed"),
}
MAX_LIMIT = 200
MAX_VALUE = 500
#: a day in a URL: exactly YYYY-MM-DD (``date.fromisoformat`` also takes 20261201 and 2026-W48-1)
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
#: a story or alert id, a rule id, an entity id: letters, digits and a few separators, never a path
ID = re.compile(r"^[\w.:@-]{1,200}$")
SNOOZE_HOURS = (1, 8, 24)


class BadRequest(ValueError):
    """A parameter the console cannot use; the message says which and why (shown to the caller)."""


class BadEventId(BadRequest):
    """A ``Last-Event-ID`` that is no sequence number: the stream treats it as absent."""


def digits(value: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes "²" and fullwidth digits, which ``int`` refuses or reads."""
    return value.isascii() and value.isdigit()


def day(name: str, value: str) -> date:
    """A strict ``YYYY-MM-DD`` day, else ``BadRequest``."""
    try:
        if not DAY.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name}: not a date (YYYY-MM-DD): {value[:40]!r}") from None


def _count(name: str, value: str, low: int, high: int) -> int:
    if not digits(value) or len(value) > 12:
        raise BadRequest(f"{name}: not a whole number: {value[:40]!r}")
    number = int(value)
    if not low <= number <= high:
        raise BadRequest(f"{name}: must be between {low} and {high}")
    return number


def _flag(name: str, value: str) -> bool:
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise BadRequest(f"{name}: must be true or false")


def ident(name: str, value: object) -> str:
    """An id from a URL or a body: a short string of id characters."""
    if not isinstance(value, str) or not ID.fullmatch(value):
        raise BadRequest(f"{name}: not a valid id")
    return value


def _choice(name: str, value: str) -> str:
    if name in CHOICES and value not in CHOICES[name]:
        raise BadRequest(f"{name}: one of {', '.join(CHOICES[name])}")
    return value


def alert_query(params: Mapping[str, str]) -> AlertQuery:
    """The search a query string describes; empty values mean no condition (an empty form field)."""
    unknown = sorted(set(params) - set(FILTERS) - set(PAGING))
    if unknown:
        raise BadRequest(f"unknown parameter: {unknown[0][:40]}")
    values = {k: v.strip() for k, v in params.items() if v.strip()}
    if any(len(v) > MAX_VALUE for v in values.values()):
        raise BadRequest(f"a parameter is longer than {MAX_VALUE} characters")
    fields: dict[str, Any] = {"text": values.get("q", "")}
    for name in ("rule", "entity", "story"):
        if name in values:
            fields[name] = ident(name, values[name])
    for name in ("severity", "novelty", "lang", "source"):
        if name in values:
            fields[name] = _choice(name, values[name])
    if "since" in values:
        fields["since"] = day("since", values["since"])
    if "until" in values:
        fields["until"] = day("until", values["until"])
    if "reviewed" in values:
        fields["reviewed"] = _flag("reviewed", values["reviewed"])
    if "before" in values:
        fields["before"] = _count("before", values["before"], 1, 2**62)
    if "limit" in values:
        fields["limit"] = _count("limit", values["limit"], 1, MAX_LIMIT)
    if "since" in fields and "until" in fields and fields["since"] > fields["until"]:
        raise BadRequest("since: after until")
    return AlertQuery(**fields)


def last_event_id(header: str | None, after: str | None) -> int | None:
    """Where an event stream resumes: ``Last-Event-ID`` (a reconnect) beats ``?after=`` (a tab that slept).

    A bad ``Last-Event-ID`` is not the caller's to fix (the browser sends back what it was given): it is
    ``BadEventId`` so the stream can log it and start live; a bad ``?after=`` is a ``BadRequest``."""
    if header and header.strip():
        try:
            return _count("Last-Event-ID", header.strip(), 0, 2**62)
        except BadRequest as exc:
            raise BadEventId(str(exc)) from None
    if after and after.strip():
        return _count("after", after.strip(), 0, 2**62)
    return None


def day_param(value: str | None) -> date:
    """``?date=`` of the digest; today (UTC) when absent."""
    return datetime.now(UTC).date() if not value else day("date", value)


def body_object(doc: object) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise BadRequest("body: a JSON object expected")
    return doc


def flag_field(doc: Mapping[str, Any], name: str, default: bool = True) -> bool:
    value = doc.get(name, default)
    if not isinstance(value, bool):
        raise BadRequest(f"{name}: true or false expected")
    return value


def snooze_until(doc: Mapping[str, Any], now: datetime) -> datetime | None:
    """``{"hours": 1 | 8 | 24}`` -> when the snooze ends; ``{"hours": 0}`` or ``null`` lifts it."""
    hours = doc.get("hours")
    if hours is None or hours == 0:
        return None
    if isinstance(hours, bool) or hours not in SNOOZE_HOURS:
        raise BadRequest(f"hours: one of {', '.join(map(str, SNOOZE_HOURS))}, or 0 to lift the snooze")
    return now + timedelta(hours=int(hours))

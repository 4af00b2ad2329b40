"""The archive's records as JSON for the API, the event stream and the page (one shape everywhere)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any

from aiohttp import web

#: an alert's deliveries that are not live alerts (a retro run's findings)
RETRO = frozenset({"retro", "retro-sent"})


def _default(value: object) -> object:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


#: fields that already hold plain JSON (an alert payload as published): passed as they are, not walked
OPAQUE = frozenset({"payload"})


def plain(record: object) -> Any:
    """A dataclass record (nested ones included) as plain JSON values; faster than ``dataclasses.asdict``,
    which deep-copies every payload (a page of 50 alerts took 10 ms)."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {
            field.name: value if field.name in OPAQUE else plain(value)
            for field in dataclasses.fields(record)
            for value in (getattr(record, field.name),)
        }
    if isinstance(record, list | tuple):
        return [plain(item) for item in record]
    if isinstance(record, dict):
        return {key: plain(value) for key, value in record.items()}
    return record


def dumps(record: object) -> str:
    return json.dumps(plain(record), default=_default, ensure_ascii=False, separators=(",", ":"))


def json_response(record: object, status: int = 200) -> web.Response:
    return web.Response(text=dumps(record), status=status, content_type="application/json")

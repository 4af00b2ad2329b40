"""The archive's records as JSON for the API, the event stream and the page (one shape everywhere)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any

from aiohttp import web

from monitor.history import AlertEntry

#: an alert's deliveries that are not live alerts (a retro run's findings)
RETRO = frozenset({"retro", "retro-sent"})


def _default(value: object) -> object:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


#: fields that already hold plain JSON (an alert payload as published): passed as they are, not walked
OPAQUE = frozenset({"payload"})
#: fields that are no part of a record's JSON (an alert's payload as text, beside the parsed one)
HIDDEN = frozenset({"payload_json"})


#: a dataclass's field names, looked up once per class (``dataclasses.fields`` per record cost half of a
#: stream event's encoding)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(field.name for field in dataclasses.fields(cls) if field.name not in HIDDEN)
    return names


def plain(record: object) -> Any:
    """A dataclass record (nested ones included) as plain JSON values; faster than ``dataclasses.asdict``,
    which deep-copies every payload (a page of 50 alerts took 10 ms)."""
    if record is None or isinstance(record, str | int | float):
        return record
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        values = {name: getattr(record, name) for name in _field_names(type(record))}
        return {name: value if name in OPAQUE else plain(value) for name, value in values.items()}
    if isinstance(record, list | tuple):
        return [plain(item) for item in record]
    if isinstance(record, dict):
        return {key: plain(value) for key, value in record.items()}
    return record


#: ``dumps``'s settings, made once (``json.dumps`` with arguments builds an encoder per call)
_ENCODER = json.JSONEncoder(default=_default, ensure_ascii=False, separators=(",", ":"))


def dumps(record: object) -> str:
    return _ENCODER.encode(plain(record))


def alert_json(entry: AlertEntry) -> str:
    """An alert as ``dumps`` has it, its payload spliced in as archived: encoding the parsed payload again
    was most of a stream event's cost (a key's place in an object carries no meaning)."""
    if not entry.payload_json:
        return dumps(entry)
    # the entry's own fields are plain values but its story's: no walk over them (``plain``)
    fields = {name: getattr(entry, name) for name in _field_names(AlertEntry) if name != "payload"}
    fields["story_now"] = plain(entry.story_now)
    text = _ENCODER.encode(fields)
    return f'{text[:-1]},"payload":{entry.payload_json}}}'


def json_response(record: object, status: int = 200) -> web.Response:
    return web.Response(text=dumps(record), status=status, content_type="application/json")

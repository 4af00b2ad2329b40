"""The documented message format of an article on the stream (any producer may publish it): the body is
the article's bytes exactly as its file holds them; headers carry what the file system knew.

- ``Nats-Msg-Id``: the content hash (sha256 of the body, hex): JetStream drops a second publish of the same
  bytes within its duplicate window, and workers skip an article the cluster processed before.
- ``Newsmon-Schema``: ``1``.
- ``Newsmon-Name``: the original name (its extension says the format: .txt, .md, .json, .html), percent-
  encoded UTF-8 (a name that is not UTF-8 keeps its bytes).
- ``Newsmon-Source-Host``: the host that read it (an outlet's scraper, an ingest daemon).
- ``Newsmon-File-Time``: the file's modification time, POSIX seconds (optional): the article's date when
  neither its JSON ``published_at`` nor a byline says one, as for a watched file.
- ``Newsmon-Published-At``: the article's publication time as its producer knows it (optional, ISO 8601
  with a time zone, e.g. ``2026-01-12T09:00:00+00:00``; a scraper that read it from the page's metadata):
  taken as the article's ``published_at`` when its body says none (a JSON body's own field wins).

Pure: no I/O, no NATS client.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, unquote_to_bytes

from monitor.articles import content_hash
from monitor.sources import RawArticle

SCHEMA = "1"
MSG_ID = "Nats-Msg-Id"
H_SCHEMA = "Newsmon-Schema"
H_NAME = "Newsmon-Name"
H_HOST = "Newsmon-Source-Host"
H_FILE_TIME = "Newsmon-File-Time"
H_PUBLISHED = "Newsmon-Published-At"


class MessageError(ValueError):
    """A message on the stream that is not an article in this format; the text says which part."""


@dataclass(frozen=True, slots=True)
class ArticleMessage:
    name: str
    data: bytes
    source_host: str
    file_time: float | None = None
    published_at: str | None = None

    @property
    def msg_id(self) -> str:
        return content_hash(self.data)

    def headers(self) -> dict[str, str]:
        headers = {
            MSG_ID: self.msg_id,
            H_SCHEMA: SCHEMA,
            H_NAME: quote(self.name.encode("utf-8", "surrogateescape"), safe="/"),
            H_HOST: quote(self.source_host, safe=""),
        }
        if self.file_time is not None:
            headers[H_FILE_TIME] = repr(self.file_time)
        if self.published_at is not None:
            headers[H_PUBLISHED] = self.published_at
        return headers

    def raw(self) -> RawArticle:
        return RawArticle(self.name, self.data, self.file_time, self.published_at)


def _file_time(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise MessageError(f"{H_FILE_TIME} is not a number of seconds: {value[:40]!r}") from None
    if not math.isfinite(seconds):
        raise MessageError(f"{H_FILE_TIME} is not a finite number: {value[:40]!r}")
    return seconds


def published(value: str | None) -> str | None:
    """An ISO 8601 time with its zone, as given; ``MessageError`` otherwise (a date without a zone is
    ambiguous by up to a day, and the story window and time cues read it)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MessageError(f"{H_PUBLISHED} is not an ISO 8601 time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise MessageError(f"{H_PUBLISHED} has no time zone: {value[:40]!r}")
    return value


def parse(headers: Mapping[str, str] | None, data: bytes) -> ArticleMessage:
    """The article a message carries, or ``MessageError``: a message of another schema, without a name, or
    whose id is not its body's hash (a producer that hashed something else would defeat de-duplication)."""
    headers = headers or {}
    schema = headers.get(H_SCHEMA)
    if schema != SCHEMA:
        raise MessageError(f"{H_SCHEMA} is {schema!r}, this daemon reads {SCHEMA!r}")
    name = headers.get(H_NAME, "")
    if not name:
        raise MessageError(f"no {H_NAME} header")
    msg_id = headers.get(MSG_ID)
    if msg_id is not None and msg_id != content_hash(data):
        raise MessageError(f"{MSG_ID} is not the sha256 of the body")
    return ArticleMessage(
        name=unquote_to_bytes(name).decode("utf-8", "surrogateescape"),
        data=data,
        source_host=unquote_to_bytes(headers.get(H_HOST, "")).decode("utf-8", "replace"),
        file_time=_file_time(headers.get(H_FILE_TIME)),
        published_at=published(headers.get(H_PUBLISHED)),
    )

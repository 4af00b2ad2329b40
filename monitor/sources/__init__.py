"""Where articles come from: the interface every source gives the pipeline.

A source hands on *article keys* (source-neutral: a folder's key is the file's path; a queue's would
be its message id). The pipeline asks the source for a key's version (cheap: is it the version already
handled?) and its bytes, tags and commits, and then tells the source how each key ended, so that the
source can forget, acknowledge or quarantine it. The pipeline, the store and the alert payload never
need to know which kind of source an article came from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

#: how a source hands on the key of an article that is ready to be read
Emit = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RawArticle:
    """An article's bytes as its source holds them."""

    #: what the article is called where it came from (a folder: the path); its extension says the format,
    #: and it is the ``article.path`` of its alerts
    name: str
    data: bytes
    #: when the source got the article (a folder: the file's modification time, POSIX seconds); the
    #: article's date when neither its JSON nor a byline says one. None: unknown
    file_time: float | None = None
    #: the publication time its producer declared beside the bytes (ISO 8601; a stream message's header):
    #: taken as the article's ``published_at`` when its body says none
    published_at: str | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """An article key that was committed as bad input, and why (a stable reason code)."""

    key: str
    reason: str


class ArticleStore(Protocol):
    """What the batch steps need of a source: versions and bytes of keys, and word of what was committed."""

    def version(self, key: str) -> str | None:
        """The cheap identity of the key's current version, without reading it (None: gone). Called on
        the store thread."""

    def read(self, key: str) -> RawArticle:
        """The article's name and bytes, or ``ArticleError`` saying why not. Called on the store thread."""

    def moved(self, key: str) -> bool:
        """True when ``key`` is gone because it lives on under another key that the source hands on (a
        folder renamed within the watched tree): not an error, unlike a real vanish. Called on the store
        thread."""

    def settled(self, rejected: Sequence[Rejected]) -> None:
        """A batch was committed durably; ``rejected`` are its bad inputs (a folder may move them aside).
        Called on the store thread, right after the commit."""


class Source(ArticleStore, Protocol):
    #: set once the source hands on everything new (a folder: watched and caught up)
    ready: asyncio.Event

    async def run(self, emit: Emit) -> None:
        """Emit keys until cancelled (or, for a finite source, until all are emitted); the same key may be
        emitted more than once: the pipeline skips a version it has handled."""

    def retry(self, keys: Sequence[str]) -> None:
        """These keys were not processed (the batch failed, or had no room): hand them on again later."""

    def status(self) -> dict[str, Any]:
        """What the source adds to the daemon's status topic (a folder: nothing; the cluster's stream: its
        depth, redeliveries and dead letters)."""

    def committed(self, keys: Sequence[str]) -> None:
        """These keys' batch was committed (an unchanged key with it): a queue acknowledges them now, a
        folder has nothing to do. Called on the event loop."""

"""Live alerts as server-sent events: ONE poller per app asks the archive for the newest sequence number
four times a second and fans new alerts out to every open page (50 pages cost one query, not 50).

The event id is the alert's ``seq``: a page that reconnects sends ``Last-Event-ID`` (or ``?after=`` after
a tab slept and its page reloaded its state) and gets what it missed from the archive, then the live feed.
A page too slow to keep up is dropped; its browser reconnects and replays from where it was.

An article that joins a story silently makes no alert, but the story's card counts its outlet: a ``story``
event (no id: it is state, not a place in the stream) carries the story as it stands now. A replayed alert
carries its story as it stands now too, so a page that reconnects is up to date for what it replays.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass

import structlog
from aiohttp import web

from monitor import events
from monitor.history import AlertEntry, History
from monitor.history_stories import StoryNow
from monitor.web.archive import Archive
from monitor.web.params import BadEventId, last_event_id
from monitor.web.security import HEADERS
from monitor.web.views import RETRO, alert_json, dumps

log = structlog.get_logger("monitor.web.sse")

POLL_S = 0.25
HEARTBEAT_S = 15.0
#: alerts one page may have waiting before it is dropped (it replays on reconnect); the encoded events are
#: shared by every page, so this is references, not copies
QUEUE = 10_000
REPLAY = 200
#: an event as the stream sends it: the alert's seq (None: a story's state) and the encoded event
Event = tuple[int | None, bytes]
#: what the browser waits before reconnecting (ms)
RETRY_MS = 1000


@dataclass(frozen=True, slots=True)
class Batch:
    """The events of one read of the archive, encoded once and joined once: what every page is handed (one
    hand-over per page per read, not one per alert: 50 pages in a flood made 100,000 queue operations)."""

    events: tuple[Event, ...]
    data: bytes
    #: the lowest and highest alert seq in it (None: story events only)
    first: int | None
    last: int | None

    @classmethod
    def of(cls, events: list[Event]) -> Batch:
        seqs = [seq for seq, _data in events if seq is not None]
        data = b"".join(data for _seq, data in events)
        return cls(tuple(events), data, min(seqs, default=None), max(seqs, default=None))

    def after(self, sent: int) -> bytes:
        """What a page that has sent up to ``sent`` still needs (all of it, but just after its replay)."""
        if self.first is None or self.first > sent:
            return self.data
        return b"".join(data for seq, data in self.events if seq is None or seq > sent)


class Page:
    """One open page's waiting batches, counted by event; a page with more than ``QUEUE`` waiting is closed
    (its browser reconnects and replays from where it was)."""

    def __init__(self) -> None:
        self.batches: deque[Batch] = deque()
        self.waiting = 0
        self.closed = False
        self.wake = asyncio.Event()

    def push(self, batch: Batch) -> bool:
        """False: the page is too far behind (closed now)."""
        if self.waiting + len(batch.events) > QUEUE:
            self.close()
            return False
        self.batches.append(batch)
        self.waiting += len(batch.events)
        self.wake.set()
        return True

    def close(self) -> None:
        self.closed = True
        self.wake.set()

    def take(self) -> list[Batch]:
        batches = list(self.batches)
        self.batches.clear()
        self.waiting = 0
        self.wake.clear()
        return batches


class Broadcaster:
    def __init__(self, archive: Archive, poll_s: float = POLL_S) -> None:
        self.archive = archive
        self.poll_s = poll_s
        self.seq = 0
        self.article_id = 0
        self.clients: set[Page] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.seq = await self.archive.call(History.last_seq)
        self.article_id = await self.archive.call(History.last_article_id)
        self._task = asyncio.create_task(self._poll(), name="console-events")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for page in list(self.clients):
            self._drop(page)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self._catch_up()
            except Exception:  # a locked or briefly unreadable database: try again at the next tick
                log.warning("console event poll failed; retrying", exc_info=True)

    async def _catch_up(self) -> None:
        last = await self.archive.call(History.last_seq)
        if not self.clients:  # nobody listens: move the marks on, read and encode nothing
            self.seq = last
            self.article_id = await self.archive.call(History.last_article_id)
            return
        while self.seq < last:
            entries = await self.archive.call(History.after, self.seq, REPLAY)
            if not entries:
                break
            self.seq = entries[-1].seq
            self._fan_out([(entry.seq, event(entry)) for entry in entries if entry.delivery not in RETRO])
        self.article_id, joined = await self.archive.call(History.silent_joins_after, self.article_id)
        self._fan_out([(None, story_event(story)) for story in joined])

    def _fan_out(self, events: list[Event]) -> None:
        """The events, encoded and joined once, to every page (whatever the number of pages)."""
        if not events:
            return
        batch = Batch.of(events)
        for page in list(self.clients):
            if not page.push(batch):
                self.clients.discard(page)

    def _drop(self, page: Page) -> None:
        self.clients.discard(page)
        page.close()  # tells the page's handler to end the stream

    def subscribe(self) -> Page:
        page = Page()
        self.clients.add(page)
        return page


def event(entry: AlertEntry) -> bytes:
    return f"id: {entry.seq}\nevent: alert\ndata: {alert_json(entry)}\n\n".encode()


def story_event(story: StoryNow) -> bytes:
    return f"event: story\ndata: {dumps(story)}\n\n".encode()


async def _replay(archive: Archive, response: web.StreamResponse, since: int, until: int) -> int:
    """The alerts after ``since`` up to the poller's position ``until``; returns the last seq sent."""
    while since < until:
        entries = await archive.call(History.after, since, REPLAY)
        if not entries:
            break
        for entry in entries:
            if entry.seq > until:
                return since
            if entry.delivery not in RETRO:
                await response.write(event(entry))
            since = entry.seq
    return since


def _resume(request: web.Request) -> int | None:
    """The seq a page resumes after; a ``Last-Event-ID`` that is no number is one log line and no resume."""
    try:
        return last_event_id(request.headers.get("Last-Event-ID"), request.query.get("after"))
    except BadEventId as exc:
        reason = f"{exc}; streaming live"
        log.warning(events.WEB_BAD_REQUEST, status=200, method="GET", path=request.path, reason=reason)
        return None


async def stream(request: web.Request, broadcaster: Broadcaster) -> web.StreamResponse:
    resume = _resume(request)
    response = web.StreamResponse(headers={**HEADERS, "Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    page = broadcaster.subscribe()  # first: nothing the poller sees from here on can be missed
    live_from = broadcaster.seq
    if resume is not None and resume > live_from:
        # the page saw seqs this archive never reached (the database was restored or reset): resuming after
        # them would hold back every alert until the archive caught up, so the page starts from now on
        resume = live_from
    try:
        await response.prepare(request)
        await response.write(f"retry: {RETRY_MS}\n: connected\n\n".encode())
        sent = live_from if resume is None else await _replay(broadcaster.archive, response, resume, live_from)
        while not page.closed:
            try:
                async with asyncio.timeout(HEARTBEAT_S):
                    await page.wake.wait()
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            batches = page.take()  # a flood: what queued up goes in one write, not one each
            data = b"".join(batch.after(sent) for batch in batches)
            if data:
                await response.write(data)
            sent = max([sent, *(b.last for b in batches if b.last is not None)])
    except ConnectionResetError:  # the page went away
        pass
    finally:
        broadcaster.clients.discard(page)
    return response

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

import structlog
from aiohttp import web

from monitor import events
from monitor.history import AlertEntry, History
from monitor.history_stories import StoryNow
from monitor.web.archive import Archive
from monitor.web.params import BadEventId, last_event_id
from monitor.web.security import HEADERS
from monitor.web.views import RETRO, dumps

log = structlog.get_logger("monitor.web.sse")

POLL_S = 0.25
HEARTBEAT_S = 15.0
#: alerts one page may have waiting before it is dropped (it replays on reconnect); the encoded events are
#: shared by every queue, so this is references, not copies
QUEUE = 10_000
REPLAY = 200
#: an event as the stream sends it: the alert's seq (None: a story's state) and the encoded event
Event = tuple[int | None, bytes]
#: what the browser waits before reconnecting (ms)
RETRY_MS = 1000


class Broadcaster:
    def __init__(self, archive: Archive, poll_s: float = POLL_S) -> None:
        self.archive = archive
        self.poll_s = poll_s
        self.seq = 0
        self.article_id = 0
        self.clients: set[asyncio.Queue[Event | None]] = set()
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
        for queue in list(self.clients):
            self._drop(queue)

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
            for entry in entries:
                if entry.delivery not in RETRO:
                    self._fan_out((entry.seq, event(entry)))
        self.article_id, joined = await self.archive.call(History.silent_joins_after, self.article_id)
        for story in joined:
            self._fan_out((None, story_event(story)))

    def _fan_out(self, encoded: Event) -> None:
        """One encoded event to every page (encoded once, whatever the number of pages)."""
        for queue in list(self.clients):
            try:
                queue.put_nowait(encoded)
            except asyncio.QueueFull:
                self._drop(queue)

    def _drop(self, queue: asyncio.Queue[Event | None]) -> None:
        self.clients.discard(queue)
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(None)  # tells the page's handler to end the stream

    def subscribe(self) -> asyncio.Queue[Event | None]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue(QUEUE)
        self.clients.add(queue)
        return queue


def event(entry: AlertEntry) -> bytes:
    return f"id: {entry.seq}\nevent: alert\ndata: {dumps(entry)}\n\n".encode()


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


def _waiting(queue: asyncio.Queue[Event | None]) -> list[Event | None]:
    items: list[Event | None] = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


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
    queue = broadcaster.subscribe()  # first: nothing the poller sees from here on can be missed
    live_from = broadcaster.seq
    if resume is not None and resume > live_from:
        # the page saw seqs this archive never reached (the database was restored or reset): resuming after
        # them would hold back every alert until the archive caught up, so the page starts from now on
        resume = live_from
    try:
        await response.prepare(request)
        await response.write(f"retry: {RETRY_MS}\n: connected\n\n".encode())
        sent = live_from if resume is None else await _replay(broadcaster.archive, response, resume, live_from)
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            items = [item, *_waiting(queue)]  # a flood: what queued up goes in one write, not one each
            fresh = [(seq, data) for seq, data in (i for i in items if i is not None) if seq is None or seq > sent]
            if fresh:
                await response.write(b"".join(data for _seq, data in fresh))
                sent = max([sent, *(seq for seq, _data in fresh if seq is not None)])
            if None in items:
                break
    except ConnectionResetError:  # the page went away
        pass
    finally:
        broadcaster.clients.discard(queue)
    return response

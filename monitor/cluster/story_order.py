"""A cluster's one order of story placements (deploy/cluster.md, "One story, one alert"): the story log, a
JetStream stream that every worker reads in full and appends to with compare-and-set on its head
(``Nats-Expected-Last-Sequence``). A worker places a batch against the head it has applied and appends the
batch's placements; JetStream refuses the append when another worker appended first, and then the batch
is undone, the log read on, and the batch placed again (``processing.Processor``). Two workers that take
two outlets of one event at the same moment so make one opening alert: the second is refused, reads the
first one's placement, and joins its story.

The processor calls in from its store thread; the NATS client lives on the daemon's event loop and is
reached with ``run_coroutine_threadsafe`` (the store thread waits, the loop never does)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import MaxPayloadError
from nats.js import JetStreamContext
from nats.js.api import Header
from nats.js.errors import APIError

from monitor import events
from monitor.cluster import jetstream
from monitor.cluster.messages import H_SCHEMA
from monitor.cluster.story_entries import SCHEMA, EntryError, decode, encode
from monitor.config import ClusterSettings
from monitor.mqtt import Backoff
from monitor.processing import StoryOrderUnavailable
from monitor.stories import StoryBook
from monitor.story_features import StoryArticle
from monitor.story_model import Placement

log = structlog.get_logger("monitor.cluster")

T = TypeVar("T")

#: JetStream's error code for an append whose expected last sequence is not the stream's
WRONG_LAST_SEQUENCE = 10071
APPEND_TIMEOUT_S = 5.0
#: how often a wait for the log's head looks whether the daemon is stopping
WAIT_STEP_S = 0.5
#: a wait for the log's entries this long is one line, and the head is asked again (its entries may have
#: expired meanwhile: nothing more will come)
BEHIND_S = 5.0
#: refused appends of one batch before it waits a little (jittered) between tries, and before one line
BACKOFF_AFTER = 3
CONTENDED_AFTER = 10


class ClusterStoryOrder:
    """The ``processing.StoryOrder`` of a cluster worker."""

    def __init__(
        self, settings: ClusterSettings, window_hours: float, loop: asyncio.AbstractEventLoop, name: str
    ) -> None:
        self.settings = settings
        self.window_hours = window_hours
        self.name = name
        self._loop = loop
        self._client: Client | None = None
        self._sub: JetStreamContext.PushSubscription | None = None
        #: entries delivered by the log's subscription and not yet taken: (sequence, body, schema)
        self._arrived: list[tuple[int, bytes, str | None]] = []
        self._arrival = threading.Condition()
        self._delivered = 0
        #: the log's head as this worker's book has it (what it applied, or appended itself)
        self._applied = 0
        self._started = False
        self._stopping = threading.Event()
        #: the last sequence of a log found holding no entries: the head once what arrived is applied
        self._emptied_at = 0
        #: appends refused in a row (another worker came first), for the backoff and the contention line
        self._refused = 0
        #: appends and refusals since start (how contended the log is)
        self.appends = 0
        self.refusals = 0

    # -- the processor's side (store thread) ---------------------------------------------------

    def catch_up(self, book: StoryBook) -> None:
        """Apply what the other workers appended since; the first call reads the whole log (a restarted
        worker's book is rebuilt from it, not from its own database)."""
        if not self._started:
            head = self._call(self._start)
            self._wait_for(head)
            self._started = True
            applied = self._apply(book)
            log.info(events.STORY_LOG_REPLAYED, placements=applied, head=head[0], stories=len(book.stories))
            return
        self._apply(book)

    def append(self, placed: Sequence[tuple[StoryArticle, Placement]]) -> bool:
        """Append a batch's placements after the head its book holds; False: another worker appended first
        (the log has been read up to the new head, for ``catch_up``)."""
        if not placed:
            return True
        body, after = encode(placed), self._applied
        seq = self._call(lambda: self._append(body, after))
        if seq is None:
            self.refusals += 1
            self._refused += 1
            if self._refused == CONTENDED_AFTER:
                log.warning(events.STORY_LOG_CONTENDED, tries=self._refused, articles=len(placed))
            self._wait_for(self._call(self._head))
            if self._refused >= BACKOFF_AFTER:  # others keep coming first: let one of them through
                time.sleep(random.uniform(0.0, 0.01 * min(self._refused, 20)))
            return False
        self.appends += 1
        self._refused = 0
        self._applied = seq
        return True

    def _apply(self, book: StoryBook) -> int:
        with self._arrival:
            arrived, self._arrived = self._arrived, []
        applied = 0
        for seq, body, schema in arrived:
            if seq <= self._applied:  # this worker's own append, or read before
                continue
            self._applied = seq
            try:
                entries = decode(body, schema)
            except EntryError as exc:
                log.error(events.STORY_LOG_BAD_ENTRY, sequence=seq, error=str(exc))
                continue
            for decided in entries:
                book.apply(decided.article, decided.story_id, decided.kind, decided.adds)
            applied += len(entries)
        self._applied = max(self._applied, self._emptied_at)
        return applied

    def _wait_for(self, head: tuple[int, int]) -> None:
        """Until the subscription has delivered the log up to its last entry. A log that holds none (they
        expired, or were purged) has nothing to deliver: the next append follows its last sequence."""
        last, held = head
        started = time.monotonic()
        told = False
        while True:
            if held == 0:
                self._emptied_at = max(self._emptied_at, last)  # what was delivered before is applied first
                return
            with self._arrival:
                if self._delivered >= last:
                    return
                self._arrival.wait(WAIT_STEP_S)
                if self._delivered >= last:
                    return
            if self._stopping.is_set():
                raise StoryOrderUnavailable("stopping before the story log was read to its head")
            if time.monotonic() - started >= BEHIND_S:  # ask again: its entries may have expired meanwhile
                if not told:
                    log.warning(events.STORY_LOG_BEHIND, head=last, delivered=self._delivered)
                    told = True
                started = time.monotonic()
                last, held = self._call(self._head)

    def _call(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """``make()`` run on the loop; while the log cannot be reached, one line for the outage and retries
        until it can be, or until the daemon stops (the batch is then not committed: its articles go back
        to the stream)."""
        backoff = Backoff(initial=0.5, cap=10.0)
        told = False
        while True:
            try:
                result = asyncio.run_coroutine_threadsafe(make(), self._loop).result()
            except MaxPayloadError as exc:  # not an outage: the same entry would be refused for ever
                log.error(events.STORY_LOG_TOO_LARGE, error=jetstream.describe(exc))
                raise StoryOrderUnavailable(f"story placements over the server's max_payload: {exc}") from None
            except (jetstream.ClusterUnavailable, NatsError, OSError, TimeoutError) as exc:
                if not told:
                    log.error(events.STORY_LOG_UNREACHABLE, reason=jetstream.describe(exc))
                    told = True
                if self._stopping.wait(backoff.next_delay()):
                    raise StoryOrderUnavailable(f"story log unreachable: {jetstream.describe(exc)}") from None
                continue
            if told:
                log.warning(events.STORY_LOG_REACHABLE)
            return result

    def stop_waiting(self) -> None:
        """A stop: a batch waiting for the log gives up (its articles are redelivered)."""
        self._stopping.set()

    # -- the event loop's side ----------------------------------------------------------------

    async def _start(self) -> tuple[int, int]:
        """Connected, the log made, its subscription from the first entry on; the log's head."""
        if self._client is None:
            self._client = await jetstream.connect(self.settings, self.name)
        js = self._client.jetstream()
        await jetstream.ensure_streams(js, [jetstream.story_log_config(self.settings, self.window_hours)])
        if self._sub is None:
            self._sub = await js.subscribe(
                jetstream.story_log_subject(self.settings),
                stream=jetstream.story_log(self.settings),
                ordered_consumer=True,
                cb=self._arrive,
            )
        return await self._head()

    async def _head(self) -> tuple[int, int]:
        """The log's last sequence and how many entries it holds."""
        assert self._client is not None
        info = await self._client.jetstream().stream_info(jetstream.story_log(self.settings))
        return int(info.state.last_seq), int(info.state.messages)

    async def _append(self, body: bytes, after: int) -> int | None:
        assert self._client is not None
        headers = {Header.EXPECTED_LAST_SEQUENCE: str(after), H_SCHEMA: SCHEMA}
        try:
            ack = await self._client.jetstream().publish(
                jetstream.story_log_subject(self.settings),
                body,
                timeout=APPEND_TIMEOUT_S,
                stream=jetstream.story_log(self.settings),
                headers=headers,
            )
        except APIError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                return None
            raise
        return int(ack.seq)

    async def _arrive(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        with self._arrival:
            self._arrived.append((seq, msg.data, (msg.headers or {}).get(H_SCHEMA)))
            self._delivered = max(self._delivered, seq)
            self._arrival.notify_all()

    async def close(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:  # first: the ordered consumer's flow-control tasks end with it
            with contextlib.suppress(NatsError, OSError, TimeoutError):
                await sub.unsubscribe()
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(NatsError, OSError):
                await client.close()

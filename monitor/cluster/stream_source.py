"""The worker's source (``[cluster] role = "worker"``): articles pulled from the JetStream work queue,
handed to the same pipeline as a folder's files, and acknowledged only once their batch is committed to
this worker's outbox. What a worker holds when it dies or stalls is redelivered to another worker after
``ack_wait``; while the pipeline has an article, the source keeps it with in-progress acks.

A key is ``nats:<content hash>``: the same bytes are one article, whichever message brought them. An
article delivered ``max_deliver`` times without being committed (it crashes or stalls whoever takes it)
is not tagged again: it is published to the dead-letter subject and committed as an error record.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from monitor import events
from monitor.articles import ArticleError
from monitor.cluster import jetstream
from monitor.cluster.messages import ArticleMessage, MessageError, parse
from monitor.config import ClusterSettings
from monitor.mqtt import Backoff
from monitor.sources import Emit, RawArticle, Rejected

log = structlog.get_logger("monitor.cluster")

KEY_PREFIX = "nats:"
#: one version per key: an article's bytes never change under its content hash
VERSION = "stream"
FETCH = 64
FETCH_WAIT_S = 1.0
#: what one worker holds at most (pulled, not acknowledged): two batches; beyond it, it pulls no more, so a
#: worker that pauses (outbox cap, full disk, a hung step) leaves the stream to the others
HOLD_MAX = 2 * FETCH
#: an article pulled this long ago and not yet read by the pipeline: it is behind or paused, so no more are
#: pulled until it reads again
STALL_S = 2.0
#: the consumer's limit of articles out unacknowledged, over all workers
MAX_ACK_PENDING = 20_000
#: a look-up in the processed bucket that takes longer is "cannot tell": the article is tagged
DONE_LOOKUP_S = 1.0
RETRY_DELAY_S = 2.0
STATS_S = 5.0


def _parsed(msg: Msg) -> tuple[ArticleMessage | None, ArticleError | None]:
    try:
        return parse(msg.headers, msg.data), None
    except MessageError as exc:
        return None, ArticleError("bad-message", str(exc))


def _cancel_requested() -> bool:
    """True once this task was cancelled, even if the NATS client swallowed the CancelledError. On Python
    3.11 ``asyncio.wait_for``, which the client uses for each request and each message of a fetch, returns
    a result that was ready when the cancel came instead of raising: a source that relied on the error
    alone pulled on for ever, and the daemon, waiting for it to stop, never exited on SIGTERM."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


@dataclass(slots=True)
class _Held:
    #: every delivery of the key's bytes this worker holds (a copy published again, a redelivery): each is
    #: kept alive and acknowledged with the key's commit
    msgs: list[Msg]
    article: ArticleMessage | None
    #: why it is not an article to tag (a malformed message, or poison sent to the dead letters)
    error: ArticleError | None = None
    #: when it was pulled (monotonic), and whether the pipeline has begun reading it
    since: float = field(default_factory=time.monotonic)
    taken: bool = False


class StreamSource:
    def __init__(self, settings: ClusterSettings, max_bytes: int, name: str) -> None:
        self.settings = settings
        self.max_bytes = max_bytes
        self.name = name
        self.ready = asyncio.Event()
        #: what a folder source watches: nothing (the daemon's start line shows the stream instead)
        self.roots: list[str] = []
        self._held: dict[str, _Held] = {}
        self._acks: set[asyncio.Task[None]] = set()
        self._js: JetStreamContext | None = None
        self._done: KeyValue | None = None
        self._closer: asyncio.Task[None] | None = None
        self._sub: JetStreamContext.PullSubscription | None = None
        self._ack_failing = False
        #: the stream as this worker last saw it (refreshed every ``STATS_S``), for the status topic
        self.stats: dict[str, int] = {}

    # -- the pipeline's side (store thread) ---------------------------------------------------

    def version(self, key: str) -> str | None:
        return VERSION if key in self._held else None

    def read(self, key: str) -> RawArticle:
        held = self._held.get(key)
        if held is None:
            raise ArticleError("vanished", "the message was redelivered elsewhere before it was read")
        held.taken = True  # from here on the pipeline commits it: kept alive, never handed back
        if held.error is not None:
            raise held.error
        assert held.article is not None
        return held.article.raw()

    def moved(self, key: str) -> bool:
        """A key no longer held was handed back (nak'ed) or acknowledged under a later delivery: the stream
        hands it on again if it still needs work, so it is no error (an error record would mark its one
        version done, and the redelivery would then be skipped)."""
        return key not in self._held

    def status(self) -> dict[str, Any]:
        return {"cluster": {"role": "worker", **self.stats, "held": self._holding()}}

    def settled(self, rejected: Sequence[Rejected]) -> None:
        """Acks wait for ``committed`` (on the event loop): nothing to do on the store thread."""

    # -- the event loop's side ----------------------------------------------------------------

    def committed(self, keys: Sequence[str]) -> None:
        for key in keys:
            held = self._held.pop(key, None)
            if held is not None:
                self._spawn(self._done_then_ack(held))

    def _holding(self) -> int:
        return sum(len(held.msgs) for held in self._held.values())

    def _waiting(self, since: float) -> list[str]:
        """Keys pulled before ``since`` that the pipeline has not begun reading, oldest first."""
        waiting = [(held.since, key) for key, held in self._held.items() if not held.taken and held.since < since]
        return [key for _since, key in sorted(waiting)]

    def _stalled(self) -> bool:
        return bool(self._waiting(time.monotonic() - STALL_S))

    async def _processed_before(self, content_hash: str) -> bool:
        if self._done is None:
            return False
        try:
            async with asyncio.timeout(DONE_LOOKUP_S):  # unlike wait_for on 3.11, never swallows a cancel
                await self._done.get(content_hash)
        except KeyNotFoundError:
            return False
        except (NatsError, TimeoutError):  # cannot tell: tag it (at worst an alert is sent twice, same id)
            return False
        return True

    async def _done_then_ack(self, held: _Held) -> None:
        """Remember the bytes as processed in the cluster, then acknowledge (in that order: a worker killed
        in between leaves a redelivery that is recognised, not an article forgotten)."""
        if held.article is not None and held.error is None and self._done is not None:  # poison: not "done"
            with contextlib.suppress(NatsError, TimeoutError):
                async with asyncio.timeout(DONE_LOOKUP_S * 5):
                    await self._done.put(held.article.msg_id, b"1")
        for msg in held.msgs:
            await self._ack(msg)

    def retry(self, keys: Sequence[str]) -> None:
        for key in keys:
            held = self._held.pop(key, None)
            if held is not None:
                for msg in held.msgs:
                    self._spawn(self._nak(msg))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._acks.add(task)
        task.add_done_callback(self._acks.discard)

    async def _ack(self, msg: Msg) -> None:
        try:
            await msg.ack_sync(timeout=5.0)
        except (NatsError, TimeoutError) as exc:  # it will be redelivered: another worker may alert it again
            if not self._ack_failing:  # one line until an ack succeeds again
                log.warning(events.CLUSTER_ACK_FAILED, error=jetstream.describe(exc))
                self._ack_failing = True
            return
        self._ack_failing = False

    async def _nak(self, msg: Msg, delay: float | None = RETRY_DELAY_S) -> None:
        with contextlib.suppress(NatsError, TimeoutError):
            await msg.nak(delay=delay)

    async def run(self, emit: Emit) -> None:
        """Pull until cancelled; a cluster that cannot be reached, or a connection that fails for good, is
        one line per outage and retried (what this worker held goes to others after ``ack_wait``)."""
        backoff = Backoff(initial=0.5, cap=10.0)
        told = False
        while True:
            client: Client | None = None
            stopping = False
            try:
                if _cancel_requested():  # a stop swallowed while connecting, closing or waiting to retry
                    raise asyncio.CancelledError
                client = await jetstream.connect(self.settings, self.name)
                if told:
                    log.warning(events.CLUSTER_REACHABLE)
                    told = False
                backoff.reset()
                await self._pull(client, emit)
            except (jetstream.ClusterUnavailable, NatsError, OSError) as exc:
                if not told:  # one line for the outage, not one per attempt
                    log.error(events.CLUSTER_UNREACHABLE, reason=jetstream.describe(exc))
                    told = True
                await asyncio.sleep(backoff.next_delay())
            except asyncio.CancelledError:
                stopping = True
                raise
            finally:
                if client is not None and stopping:
                    self._closer = asyncio.create_task(self._close_when_done(client), name="cluster-close")
                elif client is not None:
                    with contextlib.suppress(NatsError, OSError):
                        await client.close()

    async def _close_when_done(self, client: Client) -> None:
        """A stop: the daemon cancels the source first, then commits the batches in hand, whose articles
        must still be acknowledged over this connection. It stays open until the daemon's loop ends (this
        task is cancelled last); then what was never committed goes straight back to the stream for the
        other workers, and the connection closes."""
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Event().wait()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._acks, return_exceptions=True)
            if self._sub is not None:  # first: a pull still open would take the handed-back articles itself
                with contextlib.suppress(NatsError, TimeoutError):
                    await self._sub.unsubscribe()
            naks = [msg.nak() for held in self._held.values() for msg in held.msgs]
            await asyncio.gather(*naks, return_exceptions=True)
            self._held.clear()
            with contextlib.suppress(NatsError, OSError):
                await client.close()

    async def _pull(self, client: Client, emit: Emit) -> None:
        js = client.jetstream()
        self._js = js
        await jetstream.ensure_stream(js, self.settings, self.max_bytes)
        self._done = await self._processed_bucket(js)
        config = ConsumerConfig(
            durable_name=self.settings.consumer,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.settings.ack_wait_seconds,
            max_deliver=self.settings.max_deliver,
            max_ack_pending=MAX_ACK_PENDING,
        )
        await js.add_consumer(self.settings.stream, config)  # made, or brought up to these settings
        sub = self._sub = await js.pull_subscribe(
            self.settings.subject, durable=self.settings.consumer, stream=self.settings.stream
        )
        self.ready.set()
        keeper = asyncio.create_task(self._keep_alive(), name="cluster-in-progress")
        counter = asyncio.create_task(self._count(js), name="cluster-stats")
        try:
            while not _cancel_requested():
                room = HOLD_MAX - self._holding()
                if room <= 0 or self._stalled():  # the pipeline is behind or paused: the others take the stream
                    await asyncio.sleep(FETCH_WAIT_S / 4)
                    continue
                try:
                    messages = await sub.fetch(min(FETCH, room), timeout=FETCH_WAIT_S)
                except TimeoutError:
                    continue
                await self._take(js, messages, emit)
            raise asyncio.CancelledError  # the stop the client swallowed
        finally:
            keeper.cancel()
            counter.cancel()

    async def _take(self, js: JetStreamContext, messages: Sequence[Msg], emit: Emit) -> None:
        """A fetch's messages held and emitted in order, unless a stop comes in between. Their look-ups in
        the processed bucket are in flight together (one after the other, a round trip each, they bounded
        a worker to a few hundred articles a second)."""
        parsed = [_parsed(msg) for msg in messages]
        try:
            before = await asyncio.gather(*(self._processed_before(a.msg_id) for a, _error in parsed if a))
        except asyncio.CancelledError:
            for unread in messages:
                self._spawn(self._nak(unread, delay=None))
            raise
        done = iter(before)
        for index, (msg, (article, error)) in enumerate(zip(messages, parsed, strict=True)):
            if _cancel_requested():  # a stop swallowed while holding the ones before: the rest go back now
                for unread in messages[index:]:
                    self._spawn(self._nak(unread, delay=None))
                raise asyncio.CancelledError
            key = await self._hold(js, msg, article, error, article is not None and next(done))
            if key is not None:
                await emit(key)

    async def _hold(
        self, js: JetStreamContext, msg: Msg, article: ArticleMessage | None, error: ArticleError | None, seen: bool
    ) -> str | None:
        """The key the pipeline gets for this message; None: the cluster processed its bytes before."""
        if article is not None and seen:
            log.info(events.CLUSTER_PROCESSED_BEFORE, path=KEY_PREFIX + article.msg_id)
            await self._ack(msg)
            return None
        key = KEY_PREFIX + (article.msg_id if article else f"seq-{msg.metadata.sequence.stream}")
        deliveries = msg.metadata.num_delivered
        log.debug(events.CLUSTER_RECEIVED, path=key, deliveries=deliveries)
        if error is None and len(msg.data) > self.max_bytes:
            error = ArticleError("too-large", f"{len(msg.data)} bytes is over the limit of {self.max_bytes}")
        if error is None and deliveries >= self.settings.max_deliver:
            error = await self._dead_letter(js, msg, deliveries)
        held = self._held.get(key)
        if held is not None:  # the same bytes again while held: acknowledged with the key's commit
            held.msgs.append(msg)
        else:
            self._held[key] = _Held([msg], article, error)
        return key

    async def _processed_bucket(self, js: JetStreamContext) -> KeyValue | None:
        """The processed bucket, or None (a worker works without it: at worst it tags a copy again)."""
        try:
            async with asyncio.timeout(DONE_LOOKUP_S * 5):
                return await jetstream.processed_bucket(js, self.settings)
        except (NatsError, TimeoutError) as exc:
            log.warning(events.CLUSTER_BUCKET_UNAVAILABLE, error=jetstream.describe(exc))
            return None

    async def _dead_letter(self, js: JetStreamContext, msg: Msg, deliveries: int) -> ArticleError:
        """The last delivery of an article no worker committed: to the dead letters, not to tagging."""
        subject = self.settings.dead_letters_subject
        stream = jetstream.dead_letters(self.settings)
        await js.publish(subject, msg.data, headers=dict(msg.headers or {}), stream=stream)
        log.error(events.CLUSTER_DEAD_LETTER, deliveries=deliveries, subject=subject)
        return ArticleError("poison", f"delivered {deliveries} times without being committed; sent to {subject}")

    async def _count(self, js: JetStreamContext) -> None:
        """The stream's depth for this worker's consumer (what waits, what is out unacknowledged, how often
        articles were redelivered) and the dead letters, every ``STATS_S``."""
        while True:
            with contextlib.suppress(NatsError, TimeoutError):
                consumer = await js.consumer_info(self.settings.stream, self.settings.consumer)
                dead = await js.stream_info(jetstream.dead_letters(self.settings))
                self.stats = {
                    "waiting": consumer.num_pending or 0,
                    "unacknowledged": consumer.num_ack_pending or 0,
                    "redelivered": consumer.num_redelivered or 0,
                    "dead_letters": dead.state.messages,
                }
            await asyncio.sleep(STATS_S)

    async def _keep_alive(self) -> None:
        """In-progress acks for what the pipeline holds, well within ``ack_wait``; what has waited that long
        without the pipeline reading it (its intake is paused: the outbox is full, the disk too) goes back
        to the stream for the other workers (the key, when the pipeline reaches it, is moved: skipped)."""
        while True:
            await asyncio.sleep(self.settings.ack_wait_seconds / 3)
            # all but the oldest: that one stays (kept alive) as the sign for resuming, and nothing more is
            # pulled until the pipeline reads it; what goes back is pulled once more, by whoever has room
            waiting = self._waiting(time.monotonic() - self.settings.ack_wait_seconds)[1:]
            if waiting:
                log.info(events.CLUSTER_HANDED_BACK, articles=len(waiting))
                self.retry(waiting)
            for msg in [msg for held in self._held.values() for msg in held.msgs]:
                with contextlib.suppress(NatsError, TimeoutError):
                    await msg.in_progress()

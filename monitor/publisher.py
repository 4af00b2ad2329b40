"""The broker connection: drains the outbox in order with QoS 1, reconnecting with capped, jittered backoff.

A fresh aiomqtt client per connection (aiomqtt 2.x cannot re-enter one). ``online`` is published
retained on connect, ``offline`` is the Last Will and is published on a clean stop. A message is
removed from the outbox only after its PUBACK. A connection lost while idle is seen at once, not at the
next publish. MQTT v5 by default; a broker that speaks only 3.1.1 gets 3.1.1 (said once).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import aiomqtt
import structlog

from monitor import events
from monitor.config import MqttSettings
from monitor.mqtt import (
    Backoff,
    BrokerClient,
    Protocol,
    PublishRefused,
    default_client_id,
    describe_error,
    make_client,
    protocol_unsupported,
    reason_text,
)
from monitor.state import Acknowledged, DiskWatch
from monitor.store import PendingMessage, Store, StoreThread
from monitor.topics import status_topic

log = structlog.get_logger("monitor.publisher")

BATCH = 200
PUBLISH_TIMEOUT_S = 15.0
#: how long an empty outbox waits for a wakeup before looking again
IDLE_WAIT_S = 5.0


class RefusedAlerts:
    """Alerts the broker refused (ACL, quota), set aside so that the rest of the outbox goes on.

    A topic the ACL denies must not hold up every other rule: its alerts stay in the outbox, are
    passed over, and are retried together after a growing pause. Each refusal (topic and reason)
    is logged once, not on every retry.
    """

    def __init__(self) -> None:
        self._seqs: set[int] = set()
        self._reported: set[str] = set()
        self._retry_at = 0.0
        self._backoff = Backoff()

    def to_skip(self) -> frozenset[int]:
        """The outbox entries the next batch passes over: none once the retry pause is over."""
        if self._seqs and time.monotonic() >= self._retry_at:
            return frozenset()
        return frozenset(self._seqs)

    def idle_wait(self, longest: float) -> float:
        """How long an outbox with nothing else to send may wait: no later than the next retry."""
        if not self._seqs:
            return longest
        return min(longest, max(0.05, self._retry_at - time.monotonic()))

    def set_aside(self, refusals: Iterable[tuple[PendingMessage, PublishRefused]]) -> None:
        for message, exc in refusals:
            self._seqs.add(message.seq)
            self._report(exc)
        self._retry_at = time.monotonic() + self._backoff.next_delay()

    def delivered(self, seqs: Iterable[int]) -> None:
        """Forget delivered alerts; when none is left refused, the pause starts short again."""
        if not self._seqs:
            return
        self._seqs.difference_update(seqs)
        if self._seqs:
            return
        self._backoff.reset()
        if self._reported:
            log.warning(events.REFUSED_ALERTS_ACCEPTED, refusals=len(self._reported))
            self._reported.clear()

    def _report(self, exc: PublishRefused) -> None:
        if str(exc) in self._reported:
            return
        self._reported.add(str(exc))
        log.error(
            events.ALERT_REFUSED,
            topic=exc.topic,
            reason=reason_text(exc.rc),
            hint="check the broker's ACL for this client's user",
        )


class Publisher:
    def __init__(
        self,
        settings: MqttSettings,
        store: StoreThread,
        status_fields: Callable[[], dict[str, Any]],
        *,
        announce: bool = True,
        client_id: str | None = None,
        disk: DiskWatch | None = None,
    ) -> None:
        self.settings = settings
        #: publish online/offline on the status topic (off for `monitor backfill`: it is not the daemon)
        self.announce = announce
        self.store = store
        self.status_fields = status_fields
        self.status_topic = status_topic(settings.topic_prefix)
        self.client_id = client_id or settings.client_id or default_client_id()
        self.wakeup = asyncio.Event()
        self.connected = asyncio.Event()
        #: set after the first connection attempt, whatever its result (the daemon is then connected or queuing)
        self.attempted = asyncio.Event()
        self.published = 0
        self.publish_failures = 0
        self.on_published: Callable[[list[PendingMessage]], None] = lambda messages: None
        self._stopping = False
        self._flush_deadline = 0.0
        self._stop_event = asyncio.Event()
        self._down_since: float | None = None
        self._down_reason = ""
        self._client: aiomqtt.Client | None = None
        self._late_cutoff = 0.0
        self._late = 0
        self._refused = RefusedAlerts()
        self._acknowledged = Acknowledged(store, disk or DiskWatch.of(store))

    def status_payload(self, state: str, **extra: Any) -> bytes:
        return json.dumps({"state": state, **self.status_fields(), **extra}, ensure_ascii=False).encode()

    def _will(self) -> aiomqtt.Will:
        return aiomqtt.Will(
            self.status_topic, self.status_payload("offline", reason="connection lost"), qos=1, retain=True
        )

    async def run(self) -> None:
        """Connect, drain, reconnect, until ``stop`` is called; then publish ``offline`` and return."""
        backoff = Backoff()
        protocol: Protocol = self.settings.protocol
        while True:
            try:
                await self._connection(protocol, backoff)
                return
            except aiomqtt.MqttError as exc:
                if protocol == "5" and protocol_unsupported(exc):
                    protocol = "3.1.1"
                    log.warning(
                        "the broker does not speak MQTT 5; using 3.1.1, under which a publish it refuses goes unseen",
                        host=self.settings.host,
                        port=self.settings.port,
                    )
                    continue
                self._mark_down(describe_error(exc))
            except (OSError, ValueError) as exc:  # a TLS file or password file that became unreadable
                self._mark_down(f"cannot set up the connection: {exc}")
            finally:
                self._client = None
                self.connected.clear()
            if self._flush_expired():
                return
            delay = backoff.next_delay()
            log.debug("broker reconnect scheduled", delay_s=round(delay, 2), attempt=backoff.attempt)
            await self._sleep_unless_stopped(delay)

    async def _connection(self, protocol: Protocol, backoff: Backoff) -> None:
        """One connection: announce, drain until stopped (then say offline), or raise when it is lost."""
        will = self._will() if self.announce else None
        client = make_client(self.settings, client_id=self.client_id, will=will, protocol=protocol)
        client.pending_calls_threshold = BATCH + 10  # a batch in flight is by design, not a warning
        async with client:
            self._client = client
            if self.announce:
                await self._publish_state(client, "online")
            self._mark_up()
            backoff.reached()
            await self._drain(client)
            if self.announce:
                await self._publish_state(client, "offline", reason="stopped")

    async def publish_status(self, state: str = "online", **extra: Any) -> None:
        """Refresh the retained status (reload results, counters); skipped while disconnected."""
        client = self._client
        if client is None or not self.announce:
            return
        try:
            await self._publish_state(client, state, **extra)
        except aiomqtt.MqttError as exc:
            log.debug("status publish failed", error=describe_error(exc))

    async def _publish_state(self, client: aiomqtt.Client, state: str, **extra: Any) -> None:
        await client.publish(self.status_topic, self.status_payload(state, **extra), qos=1, retain=True)

    def stop(self, flush_timeout: float) -> None:
        """Finish: keep delivering for up to ``flush_timeout`` seconds, then say offline and return."""
        self._stopping = True
        self._flush_deadline = time.monotonic() + flush_timeout
        self._stop_event.set()
        self.wakeup.set()

    def _flush_left(self) -> float | None:
        """Seconds a stop still leaves for delivery (None: not stopping); the one reading of the deadline."""
        if not self._stopping:
            return None
        return max(0.0, self._flush_deadline - time.monotonic())

    def _flush_expired(self) -> bool:
        left = self._flush_left()
        return left is not None and left <= 0.0

    async def _sleep_unless_stopped(self, delay: float) -> None:
        """Back off; a stop request cuts the pause short, but once stopping, pauses are real (else retries spin)."""
        left = self._flush_left()
        if left is not None:
            await asyncio.sleep(min(delay, left))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), timeout=delay)

    async def _drain(self, client: BrokerClient) -> None:
        """Publish the outbox batch by batch until a stop; returns when stopped, raises when the connection is lost."""
        while True:
            self.wakeup.clear()
            batch = await self.store.call(_next_batch, self._refused.to_skip() | self._acknowledged.to_skip())
            if not batch:
                if self._stopping:
                    await self._acknowledged.delete()  # a last try; refused alerts stay for the next run
                    return
                idle = self._refused.idle_wait(self._acknowledged.idle_wait(IDLE_WAIT_S))
                await client.wait_unless_lost(self.wakeup.wait(), idle)
                await self._acknowledged.delete()  # what a full disk kept in the outbox, if it has room now
                continue
            if self._flush_expired():
                return
            await self._publish_batch(client, batch)

    async def _publish_batch(self, client: aiomqtt.Client, batch: list[PendingMessage]) -> None:
        """Publish a batch at once, then sort the results: acknowledged, refused, or the connection lost (raised)."""
        results = await asyncio.gather(
            *(client.publish(m.topic, m.payload, qos=self.settings.qos, timeout=PUBLISH_TIMEOUT_S) for m in batch),
            return_exceptions=True,
        )
        acked = [m for m, result in zip(batch, results, strict=True) if result is None]
        refused = [(m, r) for m, r in zip(batch, results, strict=True) if isinstance(r, PublishRefused)]
        if acked:
            await self._acknowledge(acked)
        if refused:
            self.publish_failures += 1
            self._refused.set_aside(refused)
        lost = next((r for r in results if isinstance(r, BaseException) and not isinstance(r, PublishRefused)), None)
        if lost is not None:
            self.publish_failures += 1
            raise lost

    async def _acknowledge(self, acked: list[PendingMessage]) -> None:
        """Only now do they leave the outbox: the broker has them (on a full disk: remembered as delivered)."""
        await self._acknowledged.delete(m.seq for m in acked)
        self.published += len(acked)
        self._count_late([m.created_at for m in acked])
        self.on_published(acked)
        self._refused.delivered(m.seq for m in acked)

    def _mark_up(self) -> None:
        self.connected.set()
        self.attempted.set()
        if self._down_since is None:
            log.info(
                events.BROKER_CONNECTED, host=self.settings.host, port=self.settings.port, client_id=self.client_id
            )
            return
        log.warning(
            events.BROKER_REACHABLE_AGAIN,
            host=self.settings.host,
            port=self.settings.port,
            outage_s=round(time.time() - self._down_since, 1),
        )
        self._down_since = None
        self._late_cutoff = time.time()
        self._late = 0

    def _count_late(self, created: list[float]) -> None:
        """After an outage, count what was delivered late and log it once the backlog is through."""
        if not self._late_cutoff:
            return
        late = sum(1 for at in created if at < self._late_cutoff)
        self._late += late
        if late < len(created) or len(created) < BATCH:
            if self._late:
                log.info(events.BACKLOG_DELIVERED, delivered_late=self._late)
            self._late_cutoff = 0.0

    def _mark_down(self, reason: str) -> None:
        """Log an outage when it starts (or its reason changes), not on every retry."""
        self.attempted.set()
        if self._down_since is not None and reason == self._down_reason:
            return
        log.error(
            events.BROKER_UNREACHABLE,
            host=self.settings.host,
            port=self.settings.port,
            reason=reason,
        )
        self._down_since = self._down_since or time.time()
        self._down_reason = reason


def _next_batch(store: Store, skip: frozenset[int]) -> list[PendingMessage]:
    """The oldest waiting messages, passing over those set aside as refused (on the store thread)."""
    batch: list[PendingMessage] = []
    after = 0
    while len(batch) < BATCH:
        page = store.pending(BATCH, after_seq=after)
        if not page:
            break
        batch.extend(m for m in page if m.seq not in skip)
        after = page[-1].seq
    return batch[:BATCH]

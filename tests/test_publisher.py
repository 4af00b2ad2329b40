"""The publisher in process: a real SQLite outbox, a private Mosquitto, the publisher on the test's event loop.

What the daemon's delivery promises, pinned without a daemon: order and QoS 1, an alert leaves the
outbox only once the broker has it, the retained status and its Last Will, the flush on stop and its
deadline, and alerts the broker's ACL refuses set aside without holding up the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import structlog

from harness.processes import Collector, Mosquitto
from monitor import events
from monitor.config import MqttSettings
from monitor.publisher import BATCH, Publisher
from monitor.store import OutboxMessage, ProcessedArticle, Store, StoreThread
from monitor.topics import alert_topic, status_topic
from tests.support import ALLOW_ALL, PASSWORD, USER, SecureBroker, secure_broker, wait_until_async

PREFIX = "newsmon"
PACT = alert_topic(PREFIX, "pact")
MEETING = alert_topic(PREFIX, "meeting")
TREATY = alert_topic(PREFIX, "treaty")
STATUS = status_topic(PREFIX)


class Outbox:
    """The store the publisher drains, as the daemon hands it over: its own connection on its own thread."""

    def __init__(self, state: Path) -> None:
        self.thread = StoreThread(Store.in_dir(state))
        #: the processor's side, a second connection as in the daemon: it queues, and sees what is on disk
        self._processor = Store.in_dir(state)
        self._articles = itertools.count()

    def queue(self, messages: Sequence[tuple[str, int]]) -> None:
        """(topic, n) pairs become outbox messages with payload ``{"n": n}``, committed as the processor does."""
        article = next(self._articles)
        outbox = [
            OutboxMessage(f"alert-{article}-{i}", topic, json.dumps({"n": n}).encode())
            for i, (topic, n) in enumerate(messages)
        ]
        self._processor.commit([ProcessedArticle(f"article-{article}.txt", "1:1:1", f"sha-{article}", (), outbox)], [])

    def depth(self) -> int:
        return self._processor.outbox_depth()

    def close(self) -> None:
        self.thread.close()
        self._processor.close()


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "state")
    yield box
    box.close()


@pytest.fixture
def collectors() -> Iterator[list[Collector]]:
    """Stops whatever subscribers a test started."""
    started: list[Collector] = []
    yield started
    for collector in started:
        collector.stop()


async def subscribe(collectors: list[Collector], port: int, topics: str, client_id: str = "collector") -> Collector:
    """A real subscriber (QoS 1, persistent session), started off the loop the publisher runs on."""
    collector = await asyncio.to_thread(Collector(port, topics, client_id).start)
    collectors.append(collector)
    return collector


def settings(port: int, **extra: Any) -> MqttSettings:
    return MqttSettings(host="127.0.0.1", port=port, client_id="publisher-under-test", **extra)


@contextlib.asynccontextmanager
async def running(publisher: Publisher) -> AsyncIterator[asyncio.Task[None]]:
    """``run`` as a task on the test's loop; stopped at the end if the test did not stop it itself."""
    task = asyncio.create_task(publisher.run(), name="publisher")
    try:
        yield task
    finally:
        if not task.done():
            publisher.stop(0)
        await asyncio.wait_for(task, 10)


def numbers(collector: Collector, topic: str) -> list[int]:
    """The ``n`` of each message on exactly this topic, in arrival order."""
    return [int(json.loads(p)["n"]) for t, p, _ in list(collector.messages) if t == topic]


def states(collector: Collector) -> list[dict[str, Any]]:
    return collector.payloads(STATUS)


async def test_the_outbox_is_published_in_order_with_qos_1_and_then_emptied(
    broker: Mosquitto, outbox: Outbox, collectors: list[Collector]
) -> None:
    collector = await subscribe(collectors, broker.port, f"{PREFIX}/alerts/#")
    count = BATCH + 50  # more than one batch
    outbox.queue([(PACT, n) for n in range(count)])
    publisher = Publisher(settings(broker.port), outbox.thread, dict)
    handed_on: list[int] = []
    publisher.on_published = lambda messages: handed_on.extend(json.loads(m.payload)["n"] for m in messages)
    async with running(publisher):
        await wait_until_async(lambda: len(collector.messages) == count, 10, what="every alert")
        await wait_until_async(lambda: outbox.depth() == 0, 5, what="an empty outbox")
    assert numbers(collector, PACT) == list(range(count))
    assert set(collector.qos) == {1}
    assert handed_on == list(range(count))
    assert (publisher.published, publisher.publish_failures) == (count, 0)


async def test_an_alert_stays_in_the_outbox_while_the_broker_is_down_and_leaves_it_once_delivered(
    broker: Mosquitto, outbox: Outbox, collectors: list[Collector]
) -> None:
    collector = await subscribe(collectors, broker.port, f"{PREFIX}/alerts/#")  # its session outlives the restart
    publisher = Publisher(settings(broker.port), outbox.thread, dict)
    async with running(publisher):
        await asyncio.wait_for(publisher.connected.wait(), 10)
        await asyncio.to_thread(broker.stop)
        await asyncio.sleep(0.2)  # the closed connection is seen before the alert comes
        outbox.queue([(PACT, 1)])
        publisher.wakeup.set()
        await wait_until_async(lambda: not publisher.connected.is_set(), 10, what="the lost connection")
        await asyncio.sleep(0.3)
        assert outbox.depth() == 1
        # seen while idle, so no publish went to a dead connection and none failed
        assert (publisher.published, publisher.publish_failures) == (0, 0)
        await asyncio.to_thread(broker.start)
        await wait_until_async(lambda: outbox.depth() == 0, 15, what="delivery after the restart")
        await wait_until_async(lambda: bool(collector.messages), 10, what="the alert at the subscriber")
    assert numbers(collector, PACT) == [1]
    assert publisher.published == 1


async def test_online_is_retained_while_running_and_offline_after_a_clean_stop(
    broker: Mosquitto, outbox: Outbox, collectors: list[Collector]
) -> None:
    publisher = Publisher(settings(broker.port), outbox.thread, lambda: {"pid": 4321})
    async with running(publisher) as task:
        await asyncio.wait_for(publisher.connected.wait(), 10)
        newcomer = await subscribe(collectors, broker.port, STATUS, "newcomer")
        await wait_until_async(lambda: bool(newcomer.messages), 5, what="the retained status")
        publisher.stop(5)
        await asyncio.wait_for(task, 10)
    later = await subscribe(collectors, broker.port, STATUS, "later")
    await wait_until_async(lambda: bool(later.messages), 5, what="the retained status after the stop")
    assert newcomer.messages[0][2], "retained"
    assert json.loads(newcomer.messages[0][1]) == {"state": "online", "pid": 4321}
    assert later.messages[0][2], "retained"
    assert json.loads(later.messages[0][1]) == {"state": "offline", "pid": 4321, "reason": "stopped"}


class Relay:
    """A TCP hop between publisher and broker. ``cut`` loses the connection as a network does (no MQTT
    DISCONNECT) and refuses new ones."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        self._writers += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()


async def test_the_last_will_says_offline_when_the_connection_is_lost(
    broker: Mosquitto, outbox: Outbox, collectors: list[Collector]
) -> None:
    relay = Relay(broker.port)
    publisher = Publisher(settings(await relay.start()), outbox.thread, dict)
    watcher = await subscribe(collectors, broker.port, STATUS)
    async with running(publisher):
        await wait_until_async(lambda: [s["state"] for s in states(watcher)] == ["online"], 10, what="online")
        relay.cut()
        await wait_until_async(lambda: len(states(watcher)) == 2, 10, what="the Last Will")
        newcomer = await subscribe(collectors, broker.port, STATUS, "newcomer")
        await wait_until_async(lambda: bool(newcomer.messages), 5, what="the retained Last Will")
    assert states(watcher)[1] == {"state": "offline", "reason": "connection lost"}
    assert newcomer.messages[0][2], "retained"
    assert json.loads(newcomer.messages[0][1]) == {"state": "offline", "reason": "connection lost"}


async def test_a_stop_delivers_what_is_queued_before_saying_offline(
    broker: Mosquitto, outbox: Outbox, collectors: list[Collector]
) -> None:
    watcher = await subscribe(collectors, broker.port, f"{PREFIX}/#")
    outbox.queue([(PACT, n) for n in range(30)])
    publisher = Publisher(settings(broker.port), outbox.thread, dict)
    async with running(publisher) as task:
        publisher.stop(5)  # before it even connected
        await asyncio.wait_for(task, 10)
    await wait_until_async(lambda: len(watcher.messages) == 32, 5, what="online, 30 alerts, offline")
    assert watcher.topics_seen() == [STATUS, *[PACT] * 30, STATUS]
    assert [s["state"] for s in states(watcher)] == ["online", "offline"]
    assert numbers(watcher, PACT) == list(range(30))
    assert outbox.depth() == 0


async def test_a_stop_keeps_trying_until_the_flush_deadline_then_gives_up_with_the_alerts_kept(
    broker: Mosquitto, outbox: Outbox
) -> None:
    await asyncio.to_thread(broker.stop)
    outbox.queue([(PACT, 1)])
    publisher = Publisher(settings(broker.port), outbox.thread, dict)
    async with running(publisher) as task:
        await asyncio.wait_for(publisher.attempted.wait(), 5)
        started = time.monotonic()
        publisher.stop(0.5)
        await asyncio.wait_for(task, 5)
        took = time.monotonic() - started
    assert took >= 0.45, "it kept trying until the deadline"  # and gave up then: the task ended (wait_for above)
    assert outbox.depth() == 1
    assert publisher.published == 0


async def test_a_stop_still_delivers_when_the_broker_returns_before_the_flush_deadline(
    broker: Mosquitto, outbox: Outbox
) -> None:
    await asyncio.to_thread(broker.stop)
    outbox.queue([(PACT, 1)])
    publisher = Publisher(settings(broker.port), outbox.thread, dict)
    async with running(publisher) as task:
        await asyncio.wait_for(publisher.attempted.wait(), 5)
        publisher.stop(10)
        await asyncio.to_thread(broker.start)
        await asyncio.wait_for(task, 10)
    assert outbox.depth() == 0
    assert publisher.published == 1


@pytest.fixture
def acl_broker(tmp_path: Path) -> Iterator[SecureBroker]:
    """A broker whose ACL lets the publisher's user write the status and the pact alerts, nothing else."""
    acl = f"topic read {PREFIX}/#\n\nuser {USER}\ntopic readwrite {STATUS}\ntopic readwrite {PACT}\n"
    secured = secure_broker(tmp_path / "acl-broker", acl=acl)
    yield secured
    secured.server.stop()


async def test_refused_alerts_are_set_aside_reported_once_per_topic_and_delivered_once_allowed(
    acl_broker: SecureBroker, outbox: Outbox, collectors: list[Collector]
) -> None:
    port = acl_broker.server.port
    watcher = await subscribe(collectors, port, f"{PREFIX}/alerts/#")
    refused = BATCH + 10  # more than a batch: the allowed alerts behind them must not wait
    outbox.queue([(MEETING, n) for n in range(refused)] + [(PACT, 0), (TREATY, 0), (PACT, 1)])
    publisher = Publisher(settings(port, username=USER, password=PASSWORD), outbox.thread, dict)
    with structlog.testing.capture_logs() as logs:
        async with running(publisher):
            await wait_until_async(lambda: numbers(watcher, PACT) == [0, 1], 10, what="the allowed alerts")
            await wait_until_async(lambda: publisher.publish_failures >= 2, 10, what="a retry, refused again")
            assert outbox.depth() == refused + 1
            reported = [e for e in logs if e["event"] == events.ALERT_REFUSED]
            assert sorted(e["topic"] for e in reported) == [MEETING, TREATY]
            assert {e["reason"] for e in reported} == {"Not authorized (reason code 0x87)"}
            acl_broker.set_acl(ALLOW_ALL)
            await wait_until_async(lambda: outbox.depth() == 0, 15, what="the refused alerts once allowed")
            await wait_until_async(lambda: len(watcher.messages) == refused + 3, 5, what="all at the subscriber")
    assert numbers(watcher, MEETING) == list(range(refused))
    assert numbers(watcher, TREATY) == [0]
    assert [e["event"] for e in logs].count(events.REFUSED_ALERTS_ACCEPTED) == 1

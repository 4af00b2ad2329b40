"""The worker's stream source against a real NATS server (one node, JetStream): what it holds is what the
pipeline may read; a key acknowledged or handed back is no longer held and counts as moved (the stream hands
it on again if it needs work), never as a vanished file; a failed batch's articles come back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from monitor.articles import ArticleError, content_hash
from monitor.cluster import jetstream
from monitor.cluster.messages import ArticleMessage
from monitor.cluster.stream_source import VERSION, StreamSource
from monitor.config import ClusterSettings
from tests.support import nats_cluster

pytestmark = pytest.mark.e2e

TEXT = b"Russia and North Korea signed a rail agreement in Khabarovsk on Friday.\n"


@pytest.fixture
async def settings(tmp_path: Path) -> AsyncIterator[ClusterSettings]:
    server = nats_cluster(tmp_path / "nats", 1)
    await asyncio.to_thread(server.start)
    yield ClusterSettings(servers=server.urls, replicas=1, ack_wait_seconds=2)
    await asyncio.to_thread(server.stop)


async def submitted(settings: ClusterSettings, data: bytes) -> None:
    client = await jetstream.connect(settings, "test-producer")
    try:
        js = client.jetstream()
        await jetstream.ensure_stream(js, settings, 1_000_000)
        await jetstream.publish(js, settings, ArticleMessage("east/pact.txt", data, "test", 1.0))
    finally:
        await client.close()


async def running(source: StreamSource) -> tuple[asyncio.Task[None], asyncio.Queue[str]]:
    keys: asyncio.Queue[str] = asyncio.Queue()

    async def emit(key: str) -> None:
        await keys.put(key)

    task = asyncio.create_task(source.run(emit))
    await asyncio.wait_for(source.ready.wait(), 30)
    return task, keys


async def stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_a_held_article_reads_back_and_once_acknowledged_is_moved_not_vanished(
    settings: ClusterSettings,
) -> None:
    source = StreamSource(settings, 1_000_000, "test-worker")
    task, keys = await running(source)
    try:
        await submitted(settings, TEXT)
        key = await asyncio.wait_for(keys.get(), 10)
        assert key == f"nats:{content_hash(TEXT)}"
        assert source.version(key) == VERSION and not source.moved(key)
        raw = source.read(key)
        assert (raw.name, raw.data, raw.file_time) == ("east/pact.txt", TEXT, 1.0)
        source.committed([key])
        assert source.version(key) is None and source.moved(key)  # the pipeline skips it, records nothing
        with pytest.raises(ArticleError, match="vanished"):
            source.read(key)
        await asyncio.sleep(float(settings.ack_wait_seconds) * 2)
        assert keys.empty(), "acknowledged: not delivered again"
    finally:
        await stopped(task)


async def test_a_failed_batchs_article_is_handed_on_again(settings: ClusterSettings) -> None:
    source = StreamSource(settings, 1_000_000, "test-worker")
    task, keys = await running(source)
    try:
        await submitted(settings, TEXT)
        key = await asyncio.wait_for(keys.get(), 10)
        source.retry([key])  # nak'ed: back on the stream, after the retry delay
        assert source.moved(key)
        again = await asyncio.wait_for(keys.get(), 10)
        assert again == key and source.version(key) == VERSION
        source.committed([key])
    finally:
        await stopped(task)


async def test_a_stop_acknowledges_what_is_committed_after_it_and_hands_back_the_rest_at_once(
    settings: ClusterSettings,
) -> None:
    """As the daemon stops: the source is cancelled first, the batches in hand are committed after, and the
    loop's end cancels what is left."""
    source = StreamSource(settings, 1_000_000, "test-worker")
    task, keys = await running(source)
    other = TEXT.replace(b"Friday", b"Monday")
    await submitted(settings, TEXT)
    await submitted(settings, other)
    committed, uncommitted = await asyncio.wait_for(keys.get(), 10), await asyncio.wait_for(keys.get(), 10)
    await stopped(task)  # the stop: no more pulls
    source.committed([committed])  # a batch in hand, committed after the source stopped
    assert source._closer is not None
    await asyncio.sleep(0.5)
    source._closer.cancel()  # the loop's end (asyncio.run cancels what is left)
    with contextlib.suppress(asyncio.CancelledError):
        await source._closer
    successor = StreamSource(settings, 1_000_000, "next-worker")
    task, keys = await running(successor)
    try:  # the uncommitted one comes back at once (handed back), the committed one never (acknowledged)
        again = await asyncio.wait_for(keys.get(), settings.ack_wait_seconds / 2)
        assert again == uncommitted
        await asyncio.sleep(settings.ack_wait_seconds * 1.5)
        assert keys.empty()
    finally:
        await stopped(task)


async def test_a_stop_the_nats_client_swallowed_still_stops_the_source_and_hands_back_what_it_pulled(
    settings: ClusterSettings,
) -> None:
    """On Python 3.11 the client's ``asyncio.wait_for`` returns a reply that was ready when the cancel came
    instead of raising it: the daemon's stop was lost and a worker under load ignored SIGTERM. Here the
    cancel lands in the first article's emit and is swallowed there just as the client swallows it."""
    other = TEXT.replace(b"Friday", b"Monday")
    await submitted(settings, TEXT)
    await submitted(settings, other)  # both in the stream: one fetch pulls them together
    source = StreamSource(settings, 1_000_000, "test-worker")
    emitted: list[str] = []

    async def emit_swallowing_the_stop(key: str) -> None:
        emitted.append(key)
        if len(emitted) == 1:
            task.cancel()  # the daemon's stop, while the source works
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0)

    task = asyncio.create_task(source.run(emit_swallowing_the_stop))
    done, _pending = await asyncio.wait({task}, timeout=10)
    assert task in done and task.cancelled(), "the source pulls on after the stop"
    assert emitted == [f"nats:{content_hash(TEXT)}"], "nothing is emitted once the stop is requested"
    assert source._closer is not None
    source._closer.cancel()  # the loop's end: the held one goes back too
    with contextlib.suppress(asyncio.CancelledError):
        await source._closer
    successor = StreamSource(settings, 1_000_000, "next-worker")
    task, keys = await running(successor)
    try:  # both come back at once, not after ack_wait
        again = {await asyncio.wait_for(keys.get(), settings.ack_wait_seconds / 2) for _ in range(2)}
        assert again == {f"nats:{content_hash(TEXT)}", f"nats:{content_hash(other)}"}
    finally:
        await stopped(task)


async def test_a_body_over_max_bytes_is_too_large_and_the_consumer_follows_the_settings(
    settings: ClusterSettings,
) -> None:
    source = StreamSource(settings, 40, "test-worker")  # another producer's limit was higher
    task, keys = await running(source)
    try:
        await submitted(settings, TEXT)
        key = await asyncio.wait_for(keys.get(), 10)
        with pytest.raises(ArticleError, match="too-large"):
            source.read(key)
        source.committed([key])
    finally:
        await stopped(task)
    changed = settings.model_copy(update={"ack_wait_seconds": 7.0, "max_deliver": 9})
    task, _keys = await running(StreamSource(changed, 1_000_000, "test-worker"))
    try:
        client = await jetstream.connect(settings, "test-reader")
        try:
            info = await client.jetstream().consumer_info(settings.stream, settings.consumer)
        finally:
            await client.close()
        assert (info.config.ack_wait, info.config.max_deliver) == (7.0, 9)
    finally:
        await stopped(task)


def test_the_dead_letters_cannot_share_the_articles_subject() -> None:
    with pytest.raises(ValueError, match="dead_letter_subject must differ"):
        ClusterSettings(subject="news.in", dead_letter_subject="news.in")
    assert ClusterSettings(subject="news.in").dead_letters_subject == "news.in.dead"

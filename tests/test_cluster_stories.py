"""One story, one alert across a cluster's workers, against a real NATS server (one node, JetStream): two
workers that place two outlets' copies of one event after the same head of the story log make one opening
(the second append is refused, and the copy joins the first one's story once the log is read on); a
worker started later rebuilds the stories from the log; a worker that takes over an article another
placed and did not commit makes the same alerts; an unreachable log is one line, and a stop ends the wait."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import structlog

from harness.processes import WATCHLISTS, free_port
from monitor import events
from monitor.cluster import jetstream
from monitor.cluster.story_order import ClusterStoryOrder
from monitor.config import ClusterSettings
from monitor.engine import Engine, load_engine
from monitor.processing import StoryOrderUnavailable
from monitor.stories import StoryBook
from monitor.story_features import StoryArticle
from monitor.story_model import Placement, Story
from tests.support import BatchRunner, running_nats
from tests.test_stories import DAY0, SIGNING_EN, WIRE_COPY, features
from tests.test_stories_e2e import COPY, ORIGINAL

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def engine() -> Engine:
    return load_engine([WATCHLISTS])


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[ClusterSettings]:
    with running_nats(tmp_path / "nats", 1) as server:
        yield ClusterSettings(servers=server.urls, replicas=1, connect_timeout_seconds=2)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """The daemon's event loop, where the NATS client lives; the processor calls in from another thread."""
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(5)
    running.close()


@pytest.fixture
def orders(settings: ClusterSettings, loop: asyncio.AbstractEventLoop) -> Iterator[list[ClusterStoryOrder]]:
    """Three workers' orders on one story log."""
    made = [ClusterStoryOrder(settings, 72.0, loop, f"worker-{n}") for n in range(3)]
    yield made
    for order in made:
        asyncio.run_coroutine_threadsafe(order.close(), loop).result(10)


def test_a_copy_placed_after_the_same_head_is_refused_and_then_joins_the_story_the_first_worker_opened(
    engine: Engine, orders: list[ClusterStoryOrder]
) -> None:
    one, two, _ = orders
    book_one, book_two = StoryBook(), StoryBook()
    one.catch_up(book_one)
    two.catch_up(book_two)  # both workers at the same head: neither has seen the other's article
    original = features(engine, SIGNING_EN, DAY0, "wire/a.txt")
    copy = features(engine, WIRE_COPY, DAY0 + timedelta(hours=2), "courier/b.txt")

    opened = book_one.place(original, book_one.mark())
    assert opened is not None and opened.kind == "new"
    assert one.append([(original, opened)])

    mark = book_two.mark()
    alone = book_two.place(copy, mark)
    assert alone is not None and alone.kind == "new", "its own book alone would open the story again"
    assert not two.append([(copy, alone)]), "refused: the other worker appended after the head it placed on"
    assert (two.refusals, two.appends) == (1, 0)
    book_two.rollback(mark)
    two.catch_up(book_two)
    joined = book_two.place(copy, book_two.mark())
    assert joined is not None and joined.story.id == opened.story.id and joined.kind != "new"
    assert two.append([(copy, joined)])

    one.catch_up(book_one)  # and the first worker's book has the copy in the same story
    assert book_one.members[copy.key][0] == opened.story.id


def test_a_worker_started_later_rebuilds_the_stories_and_their_decisions_from_the_log(
    engine: Engine, orders: list[ClusterStoryOrder]
) -> None:
    one, _, later = orders
    book = StoryBook()
    one.catch_up(book)
    original = features(engine, SIGNING_EN, DAY0, "wire/a.txt")
    opened = book.place(original, book.mark())
    assert opened is not None
    assert one.append([(original, opened)])

    rebuilt = StoryBook()
    later.catch_up(rebuilt)
    assert set(rebuilt.stories) == {opened.story.id}
    decided = rebuilt.decided(original.key)
    assert decided is not None and decided.kind == "new" and decided.story.id == opened.story.id
    copy = features(engine, WIRE_COPY, DAY0 + timedelta(hours=2), "courier/b.txt")
    joined = rebuilt.place(copy, rebuilt.mark())
    assert joined is not None and joined.story.id == opened.story.id and joined.kind != "new"


def test_two_workers_alert_one_event_once_and_a_takeover_of_an_uncommitted_article_alerts_it_again(
    tmp_path: Path, engine: Engine, orders: list[ClusterStoryOrder]
) -> None:
    one, two, three = orders
    with (
        BatchRunner(tmp_path / "one", engine, stories=True, order=one) as first,
        BatchRunner(tmp_path / "two", engine, stories=True, order=two) as second,
    ):
        (first.inbox / "original.json").write_bytes(ORIGINAL)
        (second.inbox / "copy.json").write_bytes(COPY)
        [opening] = first.process(first.all_keys())
        [copy] = second.process(second.all_keys())
    assert opening.result == "alerted" and opening.alert_ids
    assert copy.result == "silent", "the copy joined the story the other worker opened: no second opening"

    # worker one died after it appended the opening and before it committed: another worker takes it over
    with BatchRunner(tmp_path / "three", engine, stories=True, order=three) as taker:
        (taker.inbox / "original.json").write_bytes(ORIGINAL)
        [again] = taker.process(taker.all_keys())
        payloads = [json.loads(m.payload) for m in taker.store.pending(100)]
    assert again.result == "alerted" and again.alert_ids == opening.alert_ids
    assert {p["story"]["kind"] for p in payloads} == {"new"}


def test_an_unreachable_story_log_is_one_line_and_a_stop_ends_the_wait(loop: asyncio.AbstractEventLoop) -> None:
    dead = ClusterSettings(servers=[f"nats://127.0.0.1:{free_port()}"], replicas=1, connect_timeout_seconds=0.5)
    order = ClusterStoryOrder(dead, 72.0, loop, "worker-cut-off")
    timer = threading.Timer(3.0, order.stop_waiting)
    timer.start()
    with structlog.testing.capture_logs() as logs, pytest.raises(StoryOrderUnavailable):
        order.catch_up(StoryBook())
    timer.cancel()
    said = [line["event"] for line in logs]
    assert said.count(events.STORY_LOG_UNREACHABLE) == 1
    asyncio.run_coroutine_threadsafe(order.close(), loop).result(10)


def test_a_worker_that_starts_on_a_log_whose_entries_all_expired_places_at_once_after_its_last_sequence(
    engine: Engine, settings: ClusterSettings, orders: list[ClusterStoryOrder], loop: asyncio.AbstractEventLoop
) -> None:
    one, later, _ = orders
    book = StoryBook()
    one.catch_up(book)
    original = features(engine, SIGNING_EN, DAY0, "wire/a.txt")
    opened = book.place(original, book.mark())
    assert opened is not None and one.append([(original, opened)])

    async def purge() -> None:  # what max_age does to a quiet log
        client = await jetstream.connect(settings, "test-purge")
        await client.jetstream().purge_stream(jetstream.story_log(settings))
        await client.close()

    asyncio.run_coroutine_threadsafe(purge(), loop).result(10)
    fresh = StoryBook()
    reading = threading.Thread(target=later.catch_up, args=(fresh,), daemon=True)
    reading.start()
    reading.join(10)  # nothing to deliver: it must not wait for the purged entry
    later.stop_waiting()  # (a worker that waited would wait until its daemon stopped)
    assert not reading.is_alive() and fresh.stories == {}
    copy = features(engine, WIRE_COPY, DAY0 + timedelta(hours=2), "courier/b.txt")
    placed = fresh.place(copy, fresh.mark())
    assert placed is not None and later.append([(copy, placed)]), "its first append follows the last sequence"


def test_placements_over_the_servers_max_payload_are_one_line_and_no_endless_retry(
    orders: list[ClusterStoryOrder],
) -> None:
    order, _, _ = orders
    order.catch_up(StoryBook())
    words = frozenset(secrets.token_urlsafe(48) for _ in range(200_000))  # ~10 MB after compression
    huge = StoryArticle("k" * 64, DAY0, "wire", frozenset({"russia"}), (("r", "new"),), frozenset(), b"", words)
    placement = Placement(Story("s1", DAY0, DAY0, DAY0), "new", "opened")
    with structlog.testing.capture_logs() as logs, pytest.raises(StoryOrderUnavailable, match="max_payload"):
        order.append([(huge, placement)])
    assert [line["event"] for line in logs].count(events.STORY_LOG_TOO_LARGE) == 1

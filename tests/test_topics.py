"""The topic layout under a prefix, formed in monitor/topics.py and nowhere else."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from paho.mqtt.client import topic_matches_sub

from harness.processes import Collector, Mosquitto
from monitor import topics
from monitor.analysis import Publishing
from monitor.config import Settings
from monitor.engine import load_engine
from monitor.processing import Processor
from monitor.publisher import Publisher
from monitor.sources.files import FolderFiles
from monitor.store import Store, StoreThread
from monitor.workers import TaggingPool
from tests.support import wait_until_async

PREFIX = "desk/eu"
WATCHLIST = """
entities:
  - id: mars
    name: Mars
    kind: place
    aliases:
      en: [Mars]
rules:
  - id: mars-seen
    title: Mars is mentioned
    severity: info
    all:
      - entities: [mars]
  - id: mars-filed
    title: Mars, filed under space
    severity: low
    all:
      - entities: [mars]
    topic: space/planets
"""


def test_a_custom_prefix_puts_alerts_errors_and_status_under_it() -> None:
    assert topics.alert_topic(PREFIX, "pact") == "desk/eu/alerts/pact"
    assert topics.alert_topic(PREFIX, "pact", "asia/korea") == "desk/eu/alerts/pact/asia/korea"
    assert topics.error_topic(PREFIX) == "desk/eu/errors"
    assert topics.status_topic(PREFIX) == "desk/eu/status"


def test_the_alerts_filter_takes_every_alert_and_nothing_else() -> None:
    wanted = topics.alerts_filter(PREFIX)
    assert topic_matches_sub(wanted, topics.alert_topic(PREFIX, "pact"))
    assert topic_matches_sub(wanted, topics.alert_topic(PREFIX, "pact", "asia/korea"))
    assert not topic_matches_sub(wanted, topics.error_topic(PREFIX))
    assert not topic_matches_sub(wanted, topics.status_topic(PREFIX))
    assert not topic_matches_sub(wanted, topics.alert_topic("desk", "pact"))


@pytest.mark.parametrize("prefix", ["", "news/#", "news/+/x", "/news", "news/", "nul\0"])
def test_a_prefix_with_wildcards_or_empty_ends_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="non-empty topic levels"):
        topics.check_prefix(prefix)


def test_a_plain_multi_level_prefix_is_kept_as_it_is() -> None:
    assert topics.check_prefix(PREFIX) == PREFIX


async def test_the_alerts_errors_and_status_published_under_a_custom_prefix_are_the_topics_formed_here(
    tmp_path: Path, broker: Mosquitto
) -> None:
    (tmp_path / "watchlists").mkdir()
    (tmp_path / "watchlists" / "mars.yaml").write_text(WATCHLIST)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "good.txt").write_text("Mars tonight\n\nMars is bright in the sky tonight.\n")
    (inbox / "bad.txt").write_bytes("Café crème".encode("latin-1"))  # invalid UTF-8: an error record
    settings = Settings(
        watch={"paths": [str(inbox)]},
        state={"dir": str(tmp_path / "state")},
        mqtt={"port": broker.port, "topic_prefix": PREFIX, "client_id": "publisher-under-test"},
    )
    engine = load_engine([tmp_path / "watchlists"])
    source = FolderFiles(settings.watch)
    store = Store.in_dir(settings.state.dir)
    processor = Processor(store, source, Publishing(PREFIX, settings.mqtt.max_payload_bytes))
    pool = TaggingPool(0, Publishing(PREFIX, settings.mqtt.max_payload_bytes))
    prepared = processor.prepare([str(path) for path in sorted(inbox.iterdir())], engine)
    outcomes = processor.finish(prepared, await pool.tag(engine, prepared.jobs))
    await pool.close()
    assert sorted(o.result for o in outcomes) == ["alerted", "error"]
    collector = await asyncio.to_thread(Collector(broker.port, f"{PREFIX}/#").start)
    outbox = StoreThread(store)
    publisher = Publisher(settings.mqtt, outbox, dict)
    task = asyncio.create_task(publisher.run())
    try:
        await wait_until_async(lambda: len(collector.messages) == 4, 10, what="two alerts, an error and the status")
    finally:
        publisher.stop(0)
        await asyncio.wait_for(task, 10)
        collector.stop()
        outbox.close()
    assert set(collector.topics_seen()) == {
        topics.alert_topic(PREFIX, "mars-seen"),
        topics.alert_topic(PREFIX, "mars-filed", "space/planets"),
        topics.error_topic(PREFIX),
        topics.status_topic(PREFIX),
    }

"""Stories across a real three-node NATS cluster and two worker daemons (a real Mosquitto for the alerts):
every event arrives from two outlets at once, and the two copies of many events are tagged by the two
workers at the same moment; each event still opens its story once, and a copy that joins it alerts
nothing."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from harness.articles import dated_stream, write_articles
from harness.nats import NatsCluster
from harness.processes import Collector, DaemonProcess, Mosquitto, wait_until
from tests.test_cluster_workers import cluster_env, submit

pytestmark = pytest.mark.e2e


def story_worker(tmp_path: Path, name: str, broker: Mosquitto, servers: list[str]) -> DaemonProcess:
    env = cluster_env(servers)
    return DaemonProcess(tmp_path / name, broker.port, extra_env=env, client_id=f"story-{name}", stories=True)


def test_two_workers_given_two_outlets_of_each_event_at_once_open_each_story_once(
    tmp_path: Path, cluster: NatsCluster, broker: Mosquitto
) -> None:
    articles, copies = dated_stream(120, seed=61, copy_every=1)  # every event in two outlets' copies
    by_name = dict(articles)
    originals = [name for name, _ in articles if name not in copies]
    # all originals, then all copies: the two workers pull them in batches at the same time, so the two
    # copies of most events are placed by different workers at the same moment
    order = originals + [f"copy-{name}" for name in originals]
    files = write_articles(tmp_path / "articles", [(name, by_name[name]) for name in order])
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="cluster-stories").start()
    one = story_worker(tmp_path, "one", broker, cluster.urls)
    two = story_worker(tmp_path, "two", broker, cluster.urls[::-1])
    try:
        for daemon in (one, two):
            daemon.start()
            daemon.wait_ready()
        submit(files, cluster.urls)
        wait_until(
            lambda: len(one.events("article processed")) + len(two.events("article processed")) >= len(files),
            120,
            what="every article processed",
        )
    finally:
        assert one.stop() == 0
        assert two.stop() == 0
        collector.stop()
    assert one.events("article processed") and two.events("article processed"), "both workers took articles"
    opened: dict[str, set[str]] = defaultdict(set)  # story id -> the articles that opened it
    titles: dict[str, set[str]] = defaultdict(set)  # event (its title) -> its stories
    for alert in collector.payloads("newsmon/alerts/"):
        story = alert["story"]
        titles[alert["article"]["title"]].add(story["id"])
        if story["kind"] == "new":
            opened[story["id"]].add(alert["article"]["sha256"])
    assert titles, "the events alerted"
    assert {title: len(ids) for title, ids in titles.items() if len(ids) > 1} == {}, "one story per event"
    assert {sid: arts for sid, arts in opened.items() if len(arts) > 1} == {}, "each opened by one article"
    assert set(opened) == {sid for ids in titles.values() for sid in ids}

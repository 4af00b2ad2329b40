"""Workers on a real three-node NATS cluster (started here on free loopback ports) with a real Mosquitto:
articles submitted to the stream are tagged by whichever worker pulls them and alert exactly as
`monitor tag` predicts; a worker killed with -9 while it holds articles loses none (they are redelivered
to the other); a malformed message is an error record, not a stuck stream; a worker started before the
cluster waits with one clear line."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import pytest

from harness.articles import stream_articles, tagged_alerts, write_articles
from harness.nats import NatsCluster
from harness.processes import Collector, DaemonProcess, Mosquitto, free_port, monitor_cli, wait_until
from monitor import events
from monitor.articles import content_hash
from tests.support import nats_cluster

pytestmark = pytest.mark.e2e

#: an outage's length a test can wait for without a worker giving up on its articles
ACK_WAIT = "3"


def cluster_env(servers: list[str]) -> dict[str, str]:
    return {
        "MONITOR_CLUSTER__SERVERS": json.dumps(servers),
        "MONITOR_CLUSTER__ACK_WAIT_SECONDS": ACK_WAIT,
        "MONITOR_CLUSTER__CONNECT_TIMEOUT_SECONDS": "2",
    }


def worker(tmp_path: Path, name: str, broker: Mosquitto, servers: list[str]) -> DaemonProcess:
    return DaemonProcess(tmp_path / name, broker.port, extra_env=cluster_env(servers), client_id=f"worker-{name}")


def submit(files: list[Path], servers: list[str], env: dict[str, str] | None = None) -> None:
    for start in range(0, len(files), 200):
        done = monitor_cli("submit", *map(str, files[start : start + 200]), env={**cluster_env(servers), **(env or {})})
        assert done.returncode == 0, done.stderr
        assert not done.stdout.startswith("duplicate"), done.stdout


def received(collector: Collector) -> list[str]:
    return [a["id"] for a in collector.payloads("newsmon/alerts/")]


def test_a_worker_killed_while_it_holds_articles_loses_none_of_them(
    tmp_path: Path, cluster: NatsCluster, broker: Mosquitto
) -> None:
    files = write_articles(tmp_path / "articles", stream_articles(300, seed=41))
    expected = set(tagged_alerts(files))
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="cluster-sub").start()
    one, two = worker(tmp_path, "one", broker, cluster.urls), worker(tmp_path, "two", broker, cluster.urls[::-1])
    try:
        one.start()
        two.start()
        one.wait_ready()
        two.wait_ready()
        submit(files, cluster.urls)
        wait_until(lambda: len(one.events("article processed")) >= 20, 60, what="worker one at work")
        one.kill()  # -9: what it fetched and did not acknowledge goes to worker two after ack_wait
        # restarted as systemd would: what it had committed (and acknowledged) but not yet sent to the
        # broker waits in its own outbox, and goes now
        one.start()
        one.wait_ready()
        wait_until(lambda: expected <= set(received(collector)), 90, what="every alert")
        time.sleep(1.0)
    finally:
        assert one.stop() == 0
        assert two.stop() == 0
        collector.stop()
    counts = Counter(received(collector))
    assert set(counts) == expected, "nothing lost, nothing that tagging did not predict"
    assert two.events("article processed"), "the other worker took over"
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= 64 * 2, f"duplicates bounded by what one worker held uncommitted: {duplicates}"


def test_a_worker_whose_intake_is_paused_hands_its_articles_back_to_the_others(
    tmp_path: Path, cluster: NatsCluster, broker: Mosquitto
) -> None:
    files = write_articles(tmp_path / "articles", stream_articles(300, seed=51))
    expected = tagged_alerts(files)
    key_of = {f.name: f"nats:{content_hash(f.read_bytes())}" for f in files}
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="cluster-paused").start()
    # worker one's broker is down and its outbox holds 5 alerts at most: its intake pauses at once
    paused = DaemonProcess(tmp_path / "paused", free_port(), extra_env=cluster_env(cluster.urls), client_id="w-p")
    paused.extra_env["MONITOR_STATE__OUTBOX_MAX"] = "5"
    healthy = worker(tmp_path, "healthy", broker, cluster.urls)
    try:
        # all in the stream before worker one starts: it pulls full fetches, its pipeline reads two batches
        # and pauses on the first commit, and what it pulled next waits unread (a worker started first
        # could pull articles one by one as they were published, and pause holding a single one)
        submit(files, cluster.urls)
        paused.start()
        paused.wait_ready()
        wait_until(lambda: len(paused.events("article processed")) >= 5, 60, what="worker one paused")
        healthy.start()
        healthy.wait_ready()

        def outstanding() -> set[str]:
            """Articles whose alerts have not arrived, but for those in worker one's outbox."""
            kept = {e["path"] for e in paused.events("article processed")}
            got = set(received(collector))
            return {key_of[name] for alert, (_rule, name) in expected.items() if alert not in got} - kept

        # one article stays with worker one, kept alive, as its sign for resuming once its outbox drains
        wait_until(lambda: len(outstanding()) <= 1, 90, what="what worker one held, tagged by worker two")
    finally:
        assert healthy.stop() == 0
        assert paused.stop() == 0
        collector.stop()
    assert paused.events(events.CLUSTER_HANDED_BACK)
    assert paused.events(events.CLUSTER_DEAD_LETTER) == healthy.events(events.CLUSTER_DEAD_LETTER) == []


async def stream_leader(servers: list[str], stream: str = "NEWSMON_ARTICLES") -> str:
    client = await nats.connect(servers)
    try:
        info = await client.jetstream().stream_info(stream)
        assert info.cluster is not None and info.cluster.leader
        return info.cluster.leader
    finally:
        await client.close()


def test_the_stream_leader_killed_mid_stream_loses_nothing(
    tmp_path: Path, cluster: NatsCluster, broker: Mosquitto
) -> None:
    files = write_articles(tmp_path / "articles", stream_articles(200, seed=45))
    expected = set(tagged_alerts(files))
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="cluster-leader").start()
    daemon = worker(tmp_path, "one", broker, cluster.urls)
    try:
        daemon.start()
        daemon.wait_ready()
        submit(files[:100], cluster.urls)
        leader = asyncio.run(stream_leader(cluster.urls))
        [node] = [n for n in cluster.nodes if n.name == leader]
        node.kill()  # -9, mid-stream: the other two elect a new leader and keep the stream
        survivors = [n.url for n in cluster.nodes if n is not node]
        submit(files[100:], survivors)
        wait_until(lambda: expected <= set(received(collector)), 90, what="every alert")
        assert asyncio.run(stream_leader(survivors)) != leader
    finally:
        assert daemon.stop() == 0
        collector.stop()
    assert set(received(collector)) == expected


def test_an_article_no_worker_commits_ends_in_the_dead_letters_and_the_others_alert(
    tmp_path: Path, cluster: NatsCluster, broker: Mosquitto
) -> None:
    poison, *others = write_articles(tmp_path / "articles", stream_articles(6, seed=46))
    expected = set(tagged_alerts(others))
    key = f"nats:{content_hash(poison.read_bytes())}"
    collector = Collector(broker.port, "newsmon/#", client_id="cluster-poison").start()
    daemon = worker(tmp_path, "one", broker, cluster.urls)
    daemon.extra_env["MONITOR_CLUSTER__MAX_DELIVER"] = "3"
    daemon.extra_env["MONITOR_MQTT__STATUS_INTERVAL_SECONDS"] = "1"
    try:
        daemon.start()
        daemon.wait_ready()  # the shared consumer exists
        daemon.stop()
        submit([poison], cluster.urls)
        # two workers that take the article and die before committing it (deliveries 1 and 2)
        assert asyncio.run(take_without_ack(cluster.urls, 2)) == [1, 2]
        daemon.start()  # delivery 3 = max_deliver: not tagged, to the dead letters
        daemon.wait_ready()
        submit(others, cluster.urls)
        wait_until(lambda: expected <= set(received(collector)), 60, what="the other articles' alerts")
        wait_until(lambda: bool(collector.payloads("newsmon/errors")), 60, what="the poison's error record")
        dead = asyncio.run(dead_letters(cluster.urls))
        # the status topic tells operators: one dead letter, nothing waiting
        wait_until(lambda: cluster_status(collector).get("dead_letters") == 1, 30, what="the dead letter in the status")
        status = cluster_status(collector)
    finally:
        assert daemon.stop() == 0
        collector.stop()
    [error] = collector.payloads("newsmon/errors")
    assert (error["path"], error["reason"]) == (key, "poison")
    assert dead == [poison.read_bytes()]
    assert status["role"] == "worker" and status["waiting"] == 0 and status["unacknowledged"] == 0
    assert len(daemon.events(events.CLUSTER_DEAD_LETTER)) == 1
    assert not any(e.get("path") == key for e in daemon.events("article processed"))


async def take_without_ack(servers: list[str], times: int) -> list[int]:
    """Fetch from the workers' shared consumer as a worker that dies would: never acknowledge; the next
    fetch gets the same article again once ``ack_wait`` ran out. Returns its delivery counts."""
    client = await nats.connect(servers)
    try:
        sub = await client.jetstream().pull_subscribe("newsmon.articles", durable="newsmon-workers")
        counts = []
        for _ in range(times):
            [msg] = await sub.fetch(1, timeout=float(ACK_WAIT) * 4)
            counts.append(msg.metadata.num_delivered)
        return counts
    finally:
        await client.close()


def cluster_status(collector: Collector) -> dict[str, Any]:
    """The cluster part of the newest status message."""
    statuses = collector.payloads("newsmon/status")
    return dict(statuses[-1].get("cluster") or {}) if statuses else {}


async def dead_letters(servers: list[str]) -> list[bytes]:
    client = await nats.connect(servers)
    try:
        js = client.jetstream()
        info = await js.stream_info("NEWSMON_ARTICLES_DEAD")
        return [
            (await js.get_msg("NEWSMON_ARTICLES_DEAD", seq)).data or b""
            for seq in range(info.state.first_seq, info.state.last_seq + 1)
        ]
    finally:
        await client.close()


def test_an_article_processed_anywhere_in_the_cluster_is_not_tagged_again_after_a_restart(
    tmp_path: Path, cluster: NatsCluster, broker: Mosquitto
) -> None:
    [article] = write_articles(tmp_path / "articles", stream_articles(1, seed=50))
    [expected] = set(tagged_alerts([article]))
    window = {"MONITOR_CLUSTER__DUPLICATE_WINDOW_SECONDS": "1"}  # the stream itself forgets the copy at once
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="cluster-again").start()
    first, second = worker(tmp_path, "first", broker, cluster.urls), worker(tmp_path, "second", broker, cluster.urls)
    first.extra_env.update(window)
    second.extra_env.update(window)
    try:
        first.start()
        first.wait_ready()
        submit([article], cluster.urls, window)
        wait_until(lambda: expected in received(collector), 60, what="the first alert")
        assert first.stop() == 0
        time.sleep(1.5)
        second.start()  # another worker, its own state: only the cluster knows the article was processed
        second.wait_ready()
        submit([article], cluster.urls, window)
        wait_until(lambda: bool(second.events(events.CLUSTER_PROCESSED_BEFORE)), 60, what="the copy recognised")
        time.sleep(1.0)
    finally:
        assert second.stop() == 0
        collector.stop()
    assert received(collector) == [expected]
    assert second.events("article processed") == []


def ingest(tmp_path: Path, name: str, broker: Mosquitto, servers: list[str]) -> DaemonProcess:
    env = {**cluster_env(servers), "MONITOR_CLUSTER__ROLE": "ingest"}
    return DaemonProcess(tmp_path / name, broker.port, extra_env=env, client_id=f"ingest-{name}")


@dataclass
class IngestSetup:
    """An ingest host and a worker around a cluster not started yet, the articles and their alerts."""

    cluster: NatsCluster
    feeder: DaemonProcess
    tagger: DaemonProcess
    collector: Collector
    articles: list[tuple[str, str]]
    expected: set[str]


@pytest.fixture
def ingest_setup(tmp_path: Path, broker: Mosquitto, request: pytest.FixtureRequest) -> Iterator[IngestSetup]:
    cluster = nats_cluster(tmp_path / "nats", 3)
    articles = stream_articles(request.param, seed=47 + request.param)
    expected = set(tagged_alerts(write_articles(tmp_path / "reference", articles)))
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="cluster-ingest").start()
    setup = IngestSetup(
        cluster,
        ingest(tmp_path, "feeder", broker, cluster.urls),
        worker(tmp_path, "tagger", broker, cluster.urls),
        collector,
        articles,
        expected,
    )
    yield setup
    collector.stop()
    cluster.stop()


@pytest.mark.parametrize("ingest_setup", [40], indirect=True)
def test_an_ingest_host_hands_its_folders_files_to_the_workers_and_waits_out_an_outage(
    ingest_setup: IngestSetup,
) -> None:
    setup = ingest_setup
    try:
        setup.feeder.start()
        setup.feeder.wait_ready()
        for name, text in setup.articles[:20]:
            setup.feeder.drop(name, text)  # the cluster is not up yet: the files wait in the inbox
        wait_until(lambda: bool(setup.feeder.events(events.CLUSTER_UNREACHABLE)), 30, what="the unreachable line")
        time.sleep(2.0)
        assert setup.feeder.events("article processed") == [], "nothing is done before the stream has it"
        setup.cluster.start()
        setup.tagger.start()
        for name, text in setup.articles[20:]:
            setup.feeder.drop(name, text)
        wait_until(lambda: setup.expected <= set(received(setup.collector)), 90, what="every alert, through the stream")
    finally:
        assert setup.feeder.stop() == 0
        assert setup.tagger.stop() == 0
    assert set(received(setup.collector)) == setup.expected
    handed = setup.feeder.events("article processed")
    assert {e["result"] for e in handed} == {"submitted"} and len(handed) == len(setup.articles)
    assert len(setup.feeder.events(events.CLUSTER_UNREACHABLE)) == 1
    assert len(setup.tagger.events("article processed")) == len(setup.articles)


@pytest.mark.parametrize("ingest_setup", [5], indirect=True)
def test_an_ingest_host_stopped_during_an_outage_stops_at_once_and_sends_the_files_on_its_next_start(
    ingest_setup: IngestSetup,
) -> None:
    setup = ingest_setup
    try:
        setup.feeder.start()
        setup.feeder.wait_ready()
        for name, text in setup.articles:
            setup.feeder.drop(name, text)
        wait_until(lambda: bool(setup.feeder.events(events.CLUSTER_UNREACHABLE)), 30, what="the unreachable line")
        assert setup.feeder.stop(timeout=10) == 0, "a stop does not wait for the setup.cluster"
        setup.cluster.start()
        setup.tagger.start()
        setup.feeder.start()
        wait_until(lambda: setup.expected <= set(received(setup.collector)), 90, what="every alert after the restart")
    finally:
        assert setup.feeder.stop() == 0
        assert setup.tagger.stop() == 0
    assert {e["result"] for e in setup.feeder.events("article processed")} == {"submitted"}


def test_a_malformed_message_is_an_error_record_and_the_next_articles_one_of_3_mb_still_alert(
    tmp_path: Path, cluster: NatsCluster, broker: Mosquitto
) -> None:
    async def publish_junk() -> None:
        client = await nats.connect(cluster.urls)
        try:
            await client.jetstream().publish("newsmon.articles", b"no headers at all")
        finally:
            await client.close()

    [good] = write_articles(tmp_path / "articles", stream_articles(1, seed=43))
    big = tmp_path / "articles" / "big.txt"  # over NATS's default 1 MB message, under [watch] max_bytes
    filler = "A quiet market day in Vladivostok with little news. " * 60_000
    big.write_text(f"Big report\n\n{filler}\nRussia and North Korea signed a new port agreement on Friday.\n")
    assert big.stat().st_size > 3_000_000
    expected = set(tagged_alerts([good, big]))
    assert len(expected) == 2
    daemon = worker(tmp_path, "one", broker, cluster.urls)
    collector = Collector(broker.port, "newsmon/#", client_id="cluster-junk").start()
    try:
        daemon.start()
        daemon.wait_ready()
        asyncio.run(publish_junk())
        submit([good, big], cluster.urls)
        wait_until(lambda: expected <= set(received(collector)), 60, what="the good articles' alerts")
        wait_until(lambda: bool(collector.payloads("newsmon/errors")), 30, what="the error record")
        errors = collector.payloads("newsmon/errors")
    finally:
        assert daemon.stop() == 0
        collector.stop()
    [error] = errors
    assert error["reason"] == "bad-message" and error["path"].startswith("nats:seq-")


def test_a_worker_started_before_the_cluster_waits_with_one_line_and_then_works(
    tmp_path: Path, broker: Mosquitto
) -> None:
    cluster = nats_cluster(tmp_path / "nats", 3)
    daemon = worker(tmp_path, "early", broker, cluster.urls)
    [article] = write_articles(tmp_path / "articles", stream_articles(1, seed=44))
    expected = set(tagged_alerts([article]))
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="cluster-early").start()
    try:
        daemon.start()
        wait_until(lambda: bool(daemon.events(events.CLUSTER_UNREACHABLE)), 30, what="the unreachable line")
        time.sleep(3.0)  # retries meanwhile: still one line
        assert len(daemon.events(events.CLUSTER_UNREACHABLE)) == 1
        cluster.start()
        daemon.wait_ready(60)
        submit([article], cluster.urls)
        wait_until(lambda: expected <= set(received(collector)), 60, what="the alert")
    finally:
        assert daemon.stop() == 0
        collector.stop()
        cluster.stop()
    assert len(daemon.events(events.CLUSTER_REACHABLE)) == 1

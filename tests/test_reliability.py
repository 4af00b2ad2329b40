"""Fault injection with real processes: kill -9, broker restarts and outages, floods, bad files."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import stat
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from harness.articles import stream_articles, tagged_alerts, write_articles
from harness.processes import Collector, DaemonProcess, Mosquitto, wait_until
from monitor import events
from monitor.mqtt import RECONNECT_CAP_S, Backoff
from tests.support import AGREEMENT_ARTICLE, running_daemon

pytestmark = pytest.mark.e2e


def received_ids(collector: Collector) -> list[str]:
    return [a["id"] for a in collector.payloads("newsmon/alerts/")]


def assert_all_delivered(expected: set[str], collector: Collector, timeout: float = 60) -> Counter[str]:
    wait_until(lambda: expected <= set(received_ids(collector)), timeout, what="every expected alert")
    counts = Counter(received_ids(collector))
    missing = expected - set(counts)
    assert not missing, f"lost {len(missing)} alerts"
    assert set(counts) == expected, "no alert that tagging did not predict"
    duplicates = sum(n - 1 for n in counts.values())
    print(f"articles, alerts expected {len(expected)}, delivered {len(counts)}, lost 0, duplicates {duplicates}")
    return counts


def test_kill_9_at_random_moments_loses_no_alert(tmp_path: Path, broker: Mosquitto) -> None:
    articles = stream_articles(160, seed=1)
    expected = set(tagged_alerts(write_articles(tmp_path / "reference", articles)))
    assert len(expected) > 60
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="kill9").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    daemon.start()
    rng = random.Random(4)
    chunks = [articles[i : i + 40] for i in range(0, len(articles), 40)]
    for chunk in chunks:
        for name, text in chunk:
            daemon.drop(name, text)
        time.sleep(rng.uniform(0.05, 0.8))
        daemon.kill()
        daemon.start()
    try:
        assert_all_delivered(expected, collector)
    finally:
        assert daemon.stop() == 0
        collector.stop()


def test_broker_restarted_mid_stream_loses_nothing(tmp_path: Path, broker: Mosquitto) -> None:
    articles = stream_articles(80, seed=2)
    expected = set(tagged_alerts(write_articles(tmp_path / "reference", articles)))
    with (
        Collector(broker.port, "newsmon/alerts/#", client_id="restart") as collector,
        running_daemon(tmp_path / "d", broker.port) as daemon,
    ):
        for name, text in articles[:40]:
            daemon.drop(name, text)
        time.sleep(0.3)
        broker.stop()
        for name, text in articles[40:]:
            daemon.drop(name, text)
        time.sleep(1.0)
        broker.start()
        assert_all_delivered(expected, collector)
    assert "Future exception was never retrieved" not in daemon.log_path.read_text()  # the lost connection, once


@pytest.mark.e2e
def test_an_idle_daemon_sees_the_broker_go_and_is_back_within_capped_backoff_steps_without_asyncio_noise(
    tmp_path: Path, broker: Mosquitto
) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="idle").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    daemon.start()
    try:
        daemon.wait_ready()
        broker.stop()
        # nothing to publish: the daemon must see the lost connection itself, not at its next alert
        wait_until(lambda: bool(daemon.events("broker unreachable; alerts stay queued in the outbox")), 10,
                   what="the outage seen by an idle daemon")  # fmt: skip
        wait_until(lambda: len(daemon.events("broker reconnect scheduled")) >= 3, 20, what="three failed attempts")
        daemon.drop("pact.txt", AGREEMENT_ARTICLE)
        wait_until(lambda: bool(daemon.events("alert queued")), 10, what="the alert queued during the outage")
        broker.start()
        steps_before_return = len(daemon.events("broker reconnect scheduled"))
        wait_until(lambda: len(received_ids(collector)) == 1, 20, what="the alert after the outage")
        assert daemon.events("broker reachable again")
    finally:
        assert daemon.stop() == 0
        collector.stop()
    steps = daemon.events("broker reconnect scheduled")
    assert max(step["delay_s"] for step in steps) <= RECONNECT_CAP_S  # however long the outage
    assert len(steps) - steps_before_return <= 1  # back at the first attempt once the broker is (or the next)
    log = daemon.log_path.read_text()
    assert "Future exception was never retrieved" not in log
    assert "Unexpected disconnection" not in log


def test_once_the_broker_was_reached_no_reconnect_pause_exceeds_the_cap() -> None:
    backoff = Backoff(rng=random.Random(1))
    before = [backoff.next_delay() for _ in range(12)]
    assert max(before) > RECONNECT_CAP_S  # a broker never reached (misconfigured) is not hammered
    backoff.reached()
    after = [backoff.next_delay() for _ in range(50)]
    assert after[0] <= 0.5  # starts short again
    assert max(after) <= RECONNECT_CAP_S
    backoff.reached()
    assert backoff.next_delay() <= 0.5


def test_broker_down_at_start_then_everything_arrives_in_order_per_rule(tmp_path: Path, broker: Mosquitto) -> None:
    articles = stream_articles(60, seed=3)
    expected = tagged_alerts(write_articles(tmp_path / "reference", articles))
    Collector(broker.port, "newsmon/alerts/#", client_id="order").start().stop()  # persistent session
    broker.stop()
    with running_daemon(tmp_path / "d", broker.port) as daemon:
        for name, text in articles:
            daemon.drop(name, text)

        def processed() -> list[dict[str, Any]]:
            return daemon.events(events.ARTICLE_PROCESSED)

        wait_until(lambda: len(processed()) >= len(articles), 60, what="all articles processed offline")
        time.sleep(2.0)
        broker.start()
        collector = Collector(broker.port, "newsmon/alerts/#", client_id="order").start()
        assert_all_delivered(set(expected), collector)
    order_processed = [Path(e["path"]).name for e in processed()]
    received = list(dict.fromkeys(received_ids(collector)))
    for rule in {r for r, _ in expected.values()}:
        got = [expected[i][1] for i in received if expected[i][0] == rule]
        want = [name for name in order_processed if (rule, name) in set(expected.values())]
        assert got == want, f"order of {rule}"
    collector.stop()


def test_five_thousand_files_in_nested_folders_are_each_processed_once(tmp_path: Path, broker: Mosquitto) -> None:
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    db = daemon.state / "monitor.sqlite3"

    def done() -> int:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT count(*) FROM articles WHERE status = 'done'").fetchone()[0])

    with running_daemon(daemon, ready=False):
        wait_until(lambda: bool(daemon.events(events.DAEMON_STARTING)), 30, what="start")
        articles = stream_articles(5000, seed=4)
        for index, (name, text) in enumerate(articles):
            folder = daemon.inbox / f"batch{index % 10}" / f"part{index % 7}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")  # written in place, folders created on the fly
        wait_until(lambda: done() >= 5000, 240, interval=0.5, what="5,000 files processed")
        assert daemon.proc is not None
        status = Path(f"/proc/{daemon.proc.pid}/status").read_text()
        peak_kib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
        print(f"peak RSS {peak_kib / 1024:.0f} MiB for 5,000 files")
        assert peak_kib < 500 * 1024
    per_path = Counter(e["path"] for e in daemon.events(events.ARTICLE_PROCESSED))
    assert len(per_path) == 5000
    assert max(per_path.values()) == 1


def test_daemon_killed_while_writing_its_database_restarts_cleanly(tmp_path: Path, broker: Mosquitto) -> None:
    articles = stream_articles(600, seed=5)
    expected = set(tagged_alerts(write_articles(tmp_path / "reference", articles)))
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="dbkill").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    write_articles(daemon.inbox, articles)
    daemon.start()
    db = daemon.state / "monitor.sqlite3"
    wait_until(lambda: db.exists() and db.stat().st_size > 0, 30, what="database created")
    wait_until(lambda: bool(daemon.events(events.ARTICLE_PROCESSED)), 30, what="commits")
    daemon.kill()  # mid catch-up: batches are being committed
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    daemon.start()
    try:
        assert_all_delivered(expected, collector)
    finally:
        assert daemon.stop() == 0
        collector.stop()


# -- bad input: a clear error, the next good file still alerts ---------------------------------


def _make_unreadable(inbox: Path) -> None:
    path = inbox / "secret.txt"
    path.write_text(AGREEMENT_ARTICLE + "unreadable\n")
    path.chmod(0)


BAD_INPUTS = {
    "empty": lambda inbox: (inbox / "empty.txt").write_bytes(b""),
    "binary": lambda inbox: (inbox / "binary.txt").write_bytes(b"\x7fELF\x00\x00\x01binary"),
    "invalid-encoding": lambda inbox: (inbox / "latin1.txt").write_bytes("Café crème à Moscou".encode("latin-1")),
    "too-large": lambda inbox: (inbox / "huge.txt").write_bytes(b"Russia " * 2000),
    "malformed-json": lambda inbox: (inbox / "broken.json").write_text('{"title": "x", '),
    "json-without-body": lambda inbox: (inbox / "nobody.json").write_text('{"title": "Only a title"}'),
    "html-without-main-text": lambda inbox: (inbox / "empty.html").write_text(
        "<html><body><nav>Home</nav></body></html>"
    ),
    "fifo": lambda inbox: os.mkfifo(inbox / "pipe.txt"),
    "device-node": lambda inbox: os.mknod(inbox / "null.txt", stat.S_IFCHR | 0o600, os.makedev(1, 3)),
    "symlink-loop": lambda inbox: (inbox / "loop.txt").symlink_to(inbox / "loop.txt"),
    "symlink-outside": lambda inbox: (inbox / "passwd.txt").symlink_to("/etc/hostname"),
    "unreadable": _make_unreadable,
}
EXPECTED_REASON = {
    "json-without-body": "malformed-json",
    "html-without-main-text": "no-main-text",
    "fifo": "not-a-regular-file",
    "device-node": "not-a-regular-file",
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_reported_and_the_next_good_file_alerts(tmp_path: Path, broker: Mosquitto, case: str) -> None:
    if case == "device-node" and os.geteuid() != 0:
        pytest.skip("creating a device node needs root")
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env={"MONITOR_WATCH__MAX_BYTES": "4096"})
    daemon.workdir.mkdir(parents=True)
    daemon.inbox.mkdir()
    if case == "unreadable" and os.geteuid() == 0:
        # root reads anything: drop the capabilities that bypass file permissions
        daemon.wrapper = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    BAD_INPUTS[case](daemon.inbox)
    with (
        Collector(broker.port, ["newsmon/alerts/#", "newsmon/errors"], client_id=f"bad-{case}") as collector,
        running_daemon(daemon),
    ):
        daemon.drop("good.txt", AGREEMENT_ARTICLE)
        wait_until(lambda: bool(collector.payloads("newsmon/alerts/")), 30, what="alert for the good file")
        wait_until(lambda: bool(collector.payloads("newsmon/errors")), 30, what="error record")
    [error] = collector.payloads("newsmon/errors")
    assert error["reason"] == EXPECTED_REASON.get(case, case)
    assert error["message"]
    logged = daemon.events(events.BAD_INPUT_FILE)
    assert len(logged) == 1, "logged once, even across rescans"
    with sqlite3.connect(daemon.state / "monitor.sqlite3") as conn:
        reasons = [r for (r,) in conn.execute("SELECT reason FROM errors")]
    assert reasons == [EXPECTED_REASON.get(case, case)]
    assert collector.payloads("newsmon/alerts/")[0]["article"]["path"].endswith("good.txt")


def test_topic_characters_in_names_and_content_never_reach_a_topic(tmp_path: Path, broker: Mosquitto) -> None:
    body = AGREEMENT_ARTICLE.split("\n\n")[1] + " extra"
    with (
        Collector(broker.port, "#", client_id="topics") as collector,
        running_daemon(tmp_path / "d", broker.port) as daemon,
    ):
        daemon.drop("evil+#name.txt", AGREEMENT_ARTICLE)
        daemon.drop("evil.json", json.dumps({"title": "a/b/#/+", "body": body, "source": "x/#", "url": "+/+"}))
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) >= 2, 30, what="both alerts")
    topics = set(collector.topics_seen("newsmon/alerts/"))
    assert topics == {"newsmon/alerts/russia-dprk-agreement"}
    paths = {a["article"]["path"].rsplit("/", 1)[1] for a in collector.payloads("newsmon/alerts/")}
    assert paths == {"evil+#name.txt", "evil.json"}


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.update(int(child) for child in children)
    return found


def test_kill_9_with_tagging_workers_loses_nothing_and_leaves_no_worker_behind(
    tmp_path: Path, broker: Mosquitto
) -> None:
    articles = stream_articles(120, seed=6)
    expected = set(tagged_alerts(write_articles(tmp_path / "reference", articles)))
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="workers").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env={"MONITOR_PROCESSING__WORKERS": "2"})
    daemon.start()
    try:
        for name, text in articles[:60]:
            daemon.drop(name, text)
        assert daemon.proc is not None
        pid = daemon.proc.pid
        wait_until(lambda: len(_children(pid)) >= 2, 30, what="tagging workers started")
        workers = _children(pid)
        daemon.kill()
        wait_until(lambda: not any(Path(f"/proc/{w}").exists() for w in workers), 20, what="orphaned workers to exit")
        daemon.start()
        for name, text in articles[60:]:
            daemon.drop(name, text)
        assert_all_delivered(expected, collector)
    finally:
        assert daemon.stop() == 0
        collector.stop()


def test_a_file_made_readable_after_a_failed_read_is_processed(tmp_path: Path, broker: Mosquitto) -> None:
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    if os.geteuid() == 0:
        daemon.wrapper = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    daemon.workdir.mkdir(parents=True)
    daemon.inbox.mkdir()
    _make_unreadable(daemon.inbox)
    with (
        Collector(broker.port, ["newsmon/alerts/#", "newsmon/errors"], client_id="chmod") as collector,
        running_daemon(daemon),
    ):
        wait_until(lambda: bool(collector.payloads("newsmon/errors")), 30, what="the unreadable file reported")
        (daemon.inbox / "secret.txt").chmod(0o644)  # the writer fixes the mode: mtime stays, ctime moves
        wait_until(lambda: bool(collector.payloads("newsmon/alerts/")), 30, what="alert once readable")
    assert collector.payloads("newsmon/alerts/")[0]["article"]["path"].endswith("secret.txt")

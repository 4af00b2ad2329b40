"""What the inbox can throw at intake: names that are not UTF-8, one key that fails, hard links, a huge
article, folders renamed or the inbox deleted under the daemon. Each costs the file concerned only."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from harness.articles import stream_articles, tagged_alerts, write_articles
from harness.processes import WATCHLISTS, Collector, DaemonProcess, Mosquitto, wait_until
from monitor import events
from monitor.analysis import Publishing
from monitor.config import WatchSettings
from monitor.engine import load_engine
from monitor.processing import Processor
from monitor.sources import RawArticle
from monitor.sources.backend import folder_source
from monitor.sources.files import FolderFiles
from monitor.store import Store
from monitor.workers import TaggingPool
from tests.support import BatchRunner, wait_until_async

GOOD = "Pact signed\n\nRussia and North Korea signed a new agreement in Moscow today.\n"


def raw_name(folder: Path, name: bytes) -> Path:
    """A path whose last part is ``name``, bytes as Linux allows them (Python holds it with surrogates)."""
    return Path(os.fsdecode(os.fsencode(folder) + b"/" + name))


@pytest.mark.e2e
def test_a_file_name_that_is_not_utf8_costs_nothing_and_is_shown_escaped(tmp_path: Path, broker: Mosquitto) -> None:
    articles = stream_articles(30, seed=21)
    expected = set(tagged_alerts(write_articles(tmp_path / "reference", articles)))
    collector = Collector(broker.port, ["newsmon/alerts/#", "newsmon/errors"], client_id="names").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    write_articles(daemon.inbox, articles)
    raw_name(daemon.inbox, b"h\xffbad.txt").write_bytes(b"x\n\ny\n")  # the poison file
    raw_name(daemon.inbox, b"good-\xe9.txt").write_text(GOOD.replace("today", "in Paris"))
    raw_name(daemon.inbox, b"empty-\xfe.txt").write_bytes(b"")
    daemon.start()
    try:
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) >= len(expected) + 1, 60, what="every alert")
        wait_until(lambda: bool(collector.payloads("newsmon/errors")), 30, what="the error record")
    finally:
        assert daemon.stop() == 0
        collector.stop()
    alerts = collector.payloads("newsmon/alerts/")
    assert expected <= {a["id"] for a in alerts}
    assert str(daemon.inbox / "good-\\xe9.txt") in {a["article"]["path"] for a in alerts}
    [error] = collector.payloads("newsmon/errors")
    assert (error["path"], error["reason"]) == (str(daemon.inbox / "empty-\\xfe.txt"), "empty")
    assert not daemon.events(events.READING_BATCH_FAILED)
    logged = {e["path"] for e in daemon.events("article processed")}
    assert str(daemon.inbox / "h\\xffbad.txt") in logged
    with sqlite3.connect(daemon.state / "monitor.sqlite3") as db:
        keys = {key for (key,) in db.execute("SELECT article_key FROM articles WHERE typeof(article_key) = 'blob'")}
    assert os.fsencode(daemon.inbox) + b"/h\xffbad.txt" in keys, "the name is stored as the bytes it is"


class FilesWithABug(FolderFiles):
    """The folder source, except that reading one name fails unexpectedly: stands in for a bug we do not
    know yet (ours or a library's) on one key."""

    def read(self, key: str) -> RawArticle:
        if key.endswith("bug.txt"):
            raise RuntimeError("simulated reader bug")
        return super().read(key)


def test_an_unexpected_failure_on_one_key_costs_that_key_only_with_an_error_record(tmp_path: Path) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        run.processor.source = FilesWithABug(WatchSettings(paths=[run.inbox]))
        (run.inbox / "before.txt").write_text(GOOD)
        (run.inbox / "bug.txt").write_text(GOOD.replace("today", "at noon"))
        (run.inbox / "after.txt").write_text(GOOD.replace("today", "on Friday"))
        outcomes = run.process(run.all_keys())
        assert {Path(o.key).name: o.result for o in outcomes} == {
            "after.txt": "alerted",
            "before.txt": "alerted",
            "bug.txt": "error",
        }
        assert run.store.errors() == [
            (str(run.inbox / "bug.txt"), "internal-error", "RuntimeError: simulated reader bug")
        ]
        topics = [m.topic for m in run.store.pending(10)]
        assert topics.count("newsmon/errors") == 1, "the failure is published like any bad input"
        assert run.process(run.all_keys()) == [], "and it is not retried until the file changes"


@pytest.mark.e2e
@pytest.mark.parametrize("workers", [0, 2])
def test_small_articles_dropped_after_a_huge_one_are_committed_before_it(
    tmp_path: Path, broker: Mosquitto, workers: int
) -> None:
    huge = "Pact after pact\n\n" + "Russia and North Korea signed a new agreement in Moscow today. " * 10_000
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env={"MONITOR_PROCESSING__WORKERS": str(workers)})
    daemon.start()
    try:
        daemon.wait_ready()
        daemon.drop("huge.txt", huge)  # tens of thousands of passages of evidence: seconds of tagging
        daemon.drop("small.txt", GOOD)
        wait_until(lambda: len(daemon.events("article processed")) == 2, 60, what="both articles")
    finally:
        assert daemon.stop() == 0
    assert [Path(e["path"]).name for e in daemon.events("article processed")] == ["small.txt", "huge.txt"]


async def test_files_of_a_folder_renamed_before_they_are_read_are_no_error_and_arrive_under_the_new_name(
    tmp_path: Path, backend: str
) -> None:
    inbox = tmp_path / "inbox"
    write_articles(inbox / "desk", [(f"{i}.txt", GOOD.replace("today", f"on day {i}")) for i in range(3)])
    source = folder_source(WatchSettings(paths=[inbox], settle_ms=0, rescan_seconds=0, backend=backend))
    keys: list[str] = []

    async def emit(key: str) -> None:
        keys.append(key)

    watching = asyncio.create_task(source.run(emit))
    store = Store.in_dir(tmp_path / "state")
    pool = TaggingPool(0, Publishing("newsmon", 262144))
    try:
        await asyncio.wait_for(source.ready.wait(), 10)
        (inbox / "desk").rename(inbox / "archive")  # queued, not read yet: the pipeline is behind
        await wait_until_async(lambda: len(keys) == 6, 10, what="the new paths handed on")
        engine = load_engine([WATCHLISTS])
        processor = Processor(store, source, Publishing("newsmon", 262144))
        prepared = processor.prepare(keys, engine)
        outcomes = processor.finish(prepared, await pool.tag(engine, prepared.jobs))
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await pool.close()
    assert store.errors() == [], "no false 'vanished' records for the old paths"
    assert sorted(Path(o.key).relative_to(inbox).as_posix() for o in outcomes) == [
        "archive/0.txt",
        "archive/1.txt",
        "archive/2.txt",
    ]
    assert {o.result for o in outcomes} == {"alerted"}
    store.close()


@pytest.mark.e2e
def test_a_deleted_and_recreated_inbox_is_watched_again_at_once_without_rescans(
    tmp_path: Path, broker: Mosquitto, backend: str
) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="recreate-now").start()
    env = {"MONITOR_WATCH__RESCAN_SECONDS": "0", "MONITOR_WATCH__BACKEND": backend}
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env=env)
    daemon.start()
    try:
        daemon.drop("first.txt", GOOD)
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 1, 30, what="first alert")
        shutil.rmtree(daemon.inbox)
        time.sleep(0.3)  # the daemon sees the inbox gone before it is back
        daemon.inbox.mkdir()
        daemon.drop("second.txt", GOOD.replace("today", "again"))
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 2, 30, what="alert in the recreated inbox")
        daemon.inbox.rename(tmp_path / "old-inbox")  # moved away, and a filled one moved into its place
        (tmp_path / "staging").mkdir()
        (tmp_path / "staging" / "third.txt").write_text(GOOD.replace("today", "a third time"))
        (tmp_path / "staging").rename(daemon.inbox)
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 3, 30, what="alert in the moved-in inbox")
    finally:
        assert daemon.stop() == 0
        collector.stop()


@pytest.mark.e2e
def test_a_hard_link_to_a_file_outside_the_inbox_is_refused_without_reading_it(
    tmp_path: Path, broker: Mosquitto
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET TITLE\n\n" + GOOD)  # same file system as the inbox, not under it
    collector = Collector(broker.port, ["newsmon/alerts/#", "newsmon/errors"], client_id="hardlink").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    daemon.inbox.mkdir(parents=True)
    os.link(secret, daemon.inbox / "linked.txt")
    daemon.start()
    try:
        daemon.drop("good.txt", GOOD.replace("today", "later"))
        wait_until(lambda: bool(collector.payloads("newsmon/alerts/")), 30, what="the good file's alert")
        wait_until(lambda: bool(collector.payloads("newsmon/errors")), 30, what="the error record")
    finally:
        assert daemon.stop() == 0
        collector.stop()
    assert [a["article"]["title"] for a in collector.payloads("newsmon/alerts/")] == ["Pact signed"]
    [error] = collector.payloads("newsmon/errors")
    assert (Path(error["path"]).name, error["reason"]) == ("linked.txt", "hard-link")
    assert "SECRET" not in daemon.log_path.read_text()


def test_hard_links_are_read_when_the_operator_allows_them(tmp_path: Path) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        (tmp_path / "staging.txt").write_text(GOOD)
        os.link(tmp_path / "staging.txt", run.inbox / "published.txt")  # a writer that publishes by link
        run.processor.source = FolderFiles(WatchSettings(paths=[run.inbox], hardlinks=True))
        assert [o.result for o in run.process(run.all_keys())] == ["alerted"]

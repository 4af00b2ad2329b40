"""The state folder under attack: a full disk, a corrupt or emptied database, a deleted lock file.

A full disk is a real 2 MB tmpfs mounted over the state folder, filled with a ballast file and freed by
deleting it; where mounting is not permitted, a file-size limit on the daemon process stands in for it
(lowered to fill, lifted to free)."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.articles import stream_articles, tagged_alerts, write_articles
from harness.processes import WATCHLISTS, Collector, DaemonProcess, Mosquitto, free_port, monitor_cli, wait_until
from monitor.publisher import BATCH
from monitor.store import DB_NAME, Store
from tests.support import fill_disk, fill_state, mount_tmpfs

DISK_FULL = "state disk full; intake paused, files wait in the watched folders"
DISK_RECOVERED = "state disk writable again; intake resumed"
CORRUPT = "state database is corrupt; move it aside or restore it"
EMPTIED = "state database is empty or missing where one was; restore it, or start with --rebuild-state"
FOLDER_FULL = "state folder is full; free space in it and start again"
PACT = "Pact {n}\n\nRussia and North Korea signed a new agreement, number {n}, in Moscow.\n"


@dataclass
class SmallDisk:
    """The state folder's disk, filled and freed on demand."""

    folder: Path
    #: "tmpfs" (a 2 MB tmpfs over the folder) or "file-size-limit" (RLIMIT_FSIZE on the daemon)
    kind: str

    @property
    def ballast(self) -> Path:
        return self.folder / "ballast"

    def fill(self, daemon: DaemonProcess | None = None) -> None:
        """No room for one more page; with a file-size limit, for files the daemon writes after this."""
        if self.kind == "tmpfs":
            fill_disk(self.ballast)
            return
        assert daemon is not None and daemon.proc is not None
        largest = max(path.stat().st_size for path in self.folder.iterdir())
        resource.prlimit(daemon.proc.pid, resource.RLIMIT_FSIZE, (largest, resource.RLIM_INFINITY))

    def free(self, daemon: DaemonProcess | None = None) -> None:
        if self.kind == "tmpfs":
            self.ballast.unlink()
            return
        assert daemon is not None and daemon.proc is not None
        resource.prlimit(daemon.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    def daemon(self, workdir: Path, port: int) -> DaemonProcess:
        """A daemon on this folder (its ``state``); under a file-size limit, with no limit yet."""
        assert workdir / "state" == self.folder
        limit = None if self.kind == "tmpfs" else resource.RLIM_INFINITY
        return DaemonProcess(workdir, port, file_size_limit=limit)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A real tmpfs as the state folder where one can be mounted; elsewhere a file-size limit stands in
    (the same test runs either way). 16 MB: once the ballast is gone, the state of every article the test
    drops (archived text, search index, write-ahead log) must fit, or the disk is rightly full again."""
    folder = tmp_path / "d" / "state"
    folder.mkdir(parents=True)
    if mount_tmpfs(folder, size="16m") is not None:
        yield SmallDisk(folder, "file-size-limit")
        return
    try:
        yield SmallDisk(folder, "tmpfs")
    finally:
        for _ in range(50):  # a daemon's last file may still be closing
            if subprocess.run(["umount", str(folder)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)


def received_ids(collector: Collector) -> list[str]:
    return [a["id"] for a in collector.payloads("newsmon/alerts/")]


def tracebacks(daemon: DaemonProcess) -> list[str]:
    return [e["event"] for e in daemon.log_events() if "exception" in e or "Traceback" in str(e.get("error", ""))]


@pytest.mark.e2e
def test_a_full_state_disk_pauses_intake_and_every_alert_arrives_once_space_is_freed(
    tmp_path: Path, small_disk: SmallDisk
) -> None:
    articles = stream_articles(160, seed=21)
    first, rest = articles[:60], articles[60:]
    reference = write_articles(tmp_path / "reference", articles)
    expected = set(tagged_alerts(reference))
    expected_first = set(tagged_alerts(reference[:60]))
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    Collector(broker.port, "newsmon/alerts/#", client_id="full-disk").start().stop()  # a persistent session
    broker.stop()  # the broker is down: alerts pile up in the outbox, on the small disk
    daemon = small_disk.daemon(tmp_path / "d", broker.port)
    daemon.start()
    collector: Collector | None = None
    try:
        daemon.wait_ready()
        for name, text in first:
            daemon.drop(name, text)
        wait_until(lambda: len(daemon.events("article processed")) == len(first), 60, what="the first articles")

        small_disk.fill(daemon)
        for name, text in rest:
            daemon.drop(name, text)
        wait_until(lambda: bool(daemon.events(DISK_FULL)), 30, what="the disk-full line")
        time.sleep(1.0)  # rescans and retries meanwhile: still one line, nothing marked done
        assert len(daemon.events("article processed")) == len(first), "intake paused: the files wait in the inbox"

        broker.start()  # back while the disk is still full: delivered alerts cannot be deleted from the outbox
        collector = Collector(broker.port, "newsmon/alerts/#", client_id="full-disk").start()
        wait_until(lambda: expected_first <= set(received_ids(collector)), 60, what="the backlog delivered")
        time.sleep(2.0)  # the publisher goes round its outbox meanwhile: what it delivered, it does not send again
        assert max(Counter(received_ids(collector)).values()) == 1
        assert daemon.proc is not None and daemon.proc.poll() is None, "the daemon keeps running"

        small_disk.free(daemon)
        wait_until(lambda: expected <= set(received_ids(collector)), 60, what="every alert")
        wait_until(lambda: bool(daemon.events(DISK_RECOVERED)), 30, what="the recovered line")
    finally:
        code = daemon.stop()
        if collector is not None:
            collector.stop()
        broker.stop()
    assert code == 0
    counts = Counter(received_ids(collector))
    assert set(counts) == expected, "nothing lost, nothing that tagging did not predict"
    assert sum(n - 1 for n in counts.values()) <= BATCH, "duplicates bounded by one batch"
    assert len(daemon.events(DISK_FULL)) == 1
    assert len(daemon.events(DISK_RECOVERED)) == 1
    assert tracebacks(daemon) == []
    assert Counter(e["path"] for e in daemon.events("article processed")).most_common(1)[0][1] == 1


@pytest.mark.e2e
def test_a_daemon_started_on_a_full_state_disk_says_so_in_one_line_and_exits_2(
    tmp_path: Path, small_disk: SmallDisk
) -> None:
    Store.in_dir(small_disk.folder).close()  # the state of an earlier run
    if small_disk.kind == "tmpfs":
        small_disk.fill()
        daemon = DaemonProcess(tmp_path / "d", free_port())
    else:
        daemon = DaemonProcess(tmp_path / "d", free_port(), file_size_limit=4096)  # no file may grow past a page
    daemon.start()
    assert daemon.wait_exit() == 2
    errors = [e for e in daemon.log_events() if e.get("level") in ("error", "critical")]
    assert [e["event"] for e in errors] == [FOLDER_FULL]
    assert errors[0]["path"] == str(small_disk.folder)
    assert "Traceback" not in daemon.log_path.read_text()


# -- a corrupt or emptied state database ----------------------------------------------------


def _state_of_an_earlier_run(folder: Path, broker: Mosquitto, count: int = 3) -> Path:
    """The state a daemon left after processing ``count`` articles that are still in its inbox."""
    daemon = DaemonProcess(folder, broker.port)
    for n in range(count):
        daemon.drop(f"pact-{n}.txt", PACT.format(n=n))
    daemon.start()
    wait_until(lambda: len(daemon.events("article processed")) == count, 60, what="the earlier run")
    assert daemon.stop() == 0
    daemon.log_path.unlink()  # the next daemon's log starts here
    return daemon.state / DB_NAME


def _truncate(db: Path) -> None:
    os.truncate(db, db.stat().st_size // 2)


def _overwrite(db: Path) -> None:
    with db.open("r+b") as out:
        out.write(os.urandom(4096))


@pytest.mark.e2e
@pytest.mark.parametrize("damage", [_truncate, _overwrite], ids=["truncated", "overwritten"])
def test_a_corrupt_state_database_is_named_in_one_line_and_the_daemon_exits_2(
    tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    db = fill_state(tmp_path / "d" / "state")
    damage(db)
    daemon = DaemonProcess(tmp_path / "d", free_port())
    daemon.start()
    assert daemon.wait_exit() == 2
    errors = [e for e in daemon.log_events() if e.get("level") in ("error", "critical")]
    assert [e["event"] for e in errors] == [CORRUPT]
    assert errors[0]["path"] == str(db)
    assert not daemon.events("daemon ready")
    assert "Traceback" not in daemon.log_path.read_text()


@pytest.mark.e2e
def test_backfill_on_a_corrupt_state_database_names_it(tmp_path: Path) -> None:
    db = fill_state(tmp_path / "state")
    _truncate(db)
    archive = tmp_path / "archive"
    write_articles(archive, [("a.txt", PACT.format(n=1))])
    conf = tmp_path / "backfill.toml"
    conf.write_text(f'[state]\ndir = "{db.parent}"\n\n[watchlists]\npaths = ["{WATCHLISTS}"]\n')
    for mode in ([], ["--publish"]):
        done = monitor_cli("backfill", *mode, "--config", str(conf), str(archive))
        assert done.returncode == 2, done.stderr
        assert f"state database {db} is corrupt; move it aside or restore it" in done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.e2e
def test_an_emptied_state_database_does_not_alert_the_inbox_again_until_asked(
    tmp_path: Path, broker: Mosquitto
) -> None:
    db = _state_of_an_earlier_run(tmp_path / "d", broker)
    os.truncate(db, 0)
    refused = DaemonProcess(tmp_path / "d", broker.port)
    refused.start()
    assert refused.wait_exit() == 2
    [line] = refused.events(EMPTIED)
    assert line["path"] == str(db)
    assert not refused.events("article processed")

    rebuilt = DaemonProcess(tmp_path / "d", broker.port, run_args=["--rebuild-state"])
    rebuilt.start()
    wait_until(lambda: len(rebuilt.events("article processed")) == 3, 60, what="the inbox processed afresh")
    assert rebuilt.stop() == 0
    [aside] = rebuilt.events("state database set aside; starting with an empty state")
    assert Path(aside["moved_to"]).stat().st_size == 0, "the emptied database is kept, not deleted"


@pytest.mark.e2e
def test_deleting_the_lock_file_does_not_let_a_second_daemon_in(tmp_path: Path, broker: Mosquitto) -> None:
    first = DaemonProcess(tmp_path / "d", broker.port)
    first.start()
    try:
        first.wait_ready()
        for leftover in first.state.iterdir():
            if not leftover.name.startswith(DB_NAME):
                leftover.unlink()  # monitor.lock, or whatever else is not the database
        second = DaemonProcess(tmp_path / "d", broker.port)
        second.start()
        assert second.wait_exit() == 2
        assert second.events("another monitor process uses this state folder")
    finally:
        assert first.stop() == 0

"""How files are picked up by a running daemon: renames, in-place writes, corrections, copies, recreated
folders, each against both folder-watching backends (``backend``: inotify and watchfiles, forced through
``MONITOR_WATCH__BACKEND``; the folder source alone, in process: test_folder_source.py)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from harness.processes import Collector, DaemonProcess, Mosquitto, free_port, wait_until
from monitor import events
from monitor.sources.tree import NameFilter
from tests.support import AGREEMENT_ARTICLE, running_daemon

pytestmark = pytest.mark.e2e

#: rescans every half second (the harness's daemon rescans every 2 s): a test that waits for rescans waits less
QUICK_RESCANS = {"MONITOR_WATCH__RESCAN_SECONDS": "0.5"}

GOOD = AGREEMENT_ARTICLE


def on(backend: str, **env: str) -> dict[str, str]:
    """The daemon's environment with the folder-watching backend forced (and ``env``)."""
    return {"MONITOR_WATCH__BACKEND": backend, **env}


def processed_paths(daemon: DaemonProcess) -> list[str]:
    return [Path(e["path"]).name for e in daemon.events(events.ARTICLE_PROCESSED)]


def test_a_file_written_in_place_slowly_is_read_once_complete(tmp_path: Path, broker: Mosquitto, backend: str) -> None:
    cut = AGREEMENT_ARTICLE.index("signed a new")  # the first half names no agreement yet
    with (
        Collector(broker.port, "newsmon/alerts/#", client_id="slow") as collector,
        running_daemon(tmp_path / "d", broker.port, extra_env=on(backend, MONITOR_WATCH__SETTLE_MS="1000")) as daemon,
    ):
        with (daemon.inbox / "slow.txt").open("w", encoding="utf-8") as handle:
            handle.write(AGREEMENT_ARTICLE[:cut])
            handle.flush()
            time.sleep(0.3)  # well under the settle time: the half-written file must not be read
            handle.write(AGREEMENT_ARTICLE[cut:])
        wait_until(lambda: bool(collector.payloads("newsmon/alerts/")), 30, what="alert")
        time.sleep(0.5)
    assert processed_paths(daemon) == ["slow.txt"]
    [alert] = collector.payloads("newsmon/alerts/")
    assert "agreement" in alert["evidence"][0]["text"]


def test_a_corrected_article_is_tagged_again_and_supersedes_the_first_alert(
    tmp_path: Path, broker: Mosquitto, backend: str
) -> None:
    with (
        Collector(broker.port, "newsmon/alerts/#", client_id="fix") as collector,
        running_daemon(tmp_path / "d", broker.port, extra_env=on(backend)) as daemon,
    ):
        daemon.drop("story.txt", AGREEMENT_ARTICLE)
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 1, 30, what="first alert")
        daemon.drop("story.txt", AGREEMENT_ARTICLE.replace("today", "on Friday, officials said"))
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 2, 30, what="corrected alert")
    first, second = collector.payloads("newsmon/alerts/")
    assert second["id"] != first["id"]
    assert second["supersedes"] == first["id"]
    assert first["supersedes"] is None


def test_the_same_content_under_another_name_is_not_alerted_again(
    tmp_path: Path, broker: Mosquitto, backend: str
) -> None:
    with (
        Collector(broker.port, "newsmon/alerts/#", client_id="copy") as collector,
        running_daemon(tmp_path / "d", broker.port, extra_env=on(backend, **QUICK_RESCANS)) as daemon,
    ):
        daemon.drop("original.txt", AGREEMENT_ARTICLE)
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 1, 30, what="first alert")
        daemon.drop("copy.txt", AGREEMENT_ARTICLE)
        daemon.drop("sub/another-copy.txt", AGREEMENT_ARTICLE)
        wait_until(lambda: processed_paths(daemon).count("another-copy.txt") == 1, 30, what="copies seen")
        time.sleep(1.0)  # two periodic rescans later, still nothing new
    assert len(collector.payloads("newsmon/alerts/")) == 1
    results = {Path(e["path"]).name: e["result"] for e in daemon.events(events.ARTICLE_PROCESSED)}
    assert results == {"original.txt": "alerted", "copy.txt": "duplicate", "another-copy.txt": "duplicate"}


def test_a_watched_folder_deleted_and_recreated_is_watched_again(
    tmp_path: Path, broker: Mosquitto, backend: str
) -> None:
    with (
        Collector(broker.port, "newsmon/alerts/#", client_id="recreate") as collector,
        running_daemon(tmp_path / "d", broker.port, extra_env=on(backend)) as daemon,
    ):
        daemon.drop("first.txt", AGREEMENT_ARTICLE)
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 1, 30, what="first alert")
        shutil.rmtree(daemon.inbox)
        time.sleep(0.2)
        daemon.drop("second.txt", AGREEMENT_ARTICLE.replace("today", "again"))
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 2, 30, what="alert after recreation")
        daemon.drop("third.txt", AGREEMENT_ARTICLE.replace("today", "a third time"))
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 3, 30, what="watched again")


def test_a_folder_moved_in_already_filled_is_scanned(tmp_path: Path, broker: Mosquitto, backend: str) -> None:
    staging = tmp_path / "staging" / "batch"
    (staging / "deeper").mkdir(parents=True)
    (staging / "a.txt").write_text(AGREEMENT_ARTICLE)
    (staging / "deeper" / "b.txt").write_text(AGREEMENT_ARTICLE.replace("today", "yesterday"))
    with (
        Collector(broker.port, "newsmon/alerts/#", client_id="movein") as collector,
        running_daemon(tmp_path / "d", broker.port, extra_env=on(backend, MONITOR_WATCH__RESCAN_SECONDS="0")) as daemon,
    ):
        staging.rename(daemon.inbox / "batch")
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 2, 30, what="both alerts without rescans")


def test_editor_temp_and_hidden_files_are_ignored(tmp_path: Path, broker: Mosquitto, backend: str) -> None:
    with running_daemon(tmp_path / "d", broker.port, extra_env=on(backend, **QUICK_RESCANS)) as daemon:
        for name in (".hidden.txt", "draft.txt~", "upload.txt.part", "x.tmp", ".x.swp", "notes.pdf"):
            (daemon.inbox / name).write_text(AGREEMENT_ARTICLE)
        daemon.drop("real.txt", AGREEMENT_ARTICLE)
        wait_until(lambda: "real.txt" in processed_paths(daemon), 30, what="the real article")
        time.sleep(1.0)  # two periodic rescans later, still only the real one
    assert processed_paths(daemon) == ["real.txt"]


def test_periodic_rescans_hand_on_only_files_that_changed(tmp_path: Path, broker: Mosquitto, backend: str) -> None:
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env=on(backend, **QUICK_RESCANS))
    for index in range(20):
        daemon.drop(f"old-{index}.txt", AGREEMENT_ARTICLE.replace("today", f"on day {index}"))

    def periodic() -> list[dict[str, object]]:
        return [e for e in daemon.events(events.FOLDERS_SCANNED) if e.get("why") == "periodic"]

    with running_daemon(daemon):
        wait_until(lambda: len(processed_paths(daemon)) == 20, 30, what="catch-up")
        wait_until(lambda: len(periodic()) >= 2, 30, what="two periodic rescans")
    scans = periodic()
    assert all(scan["files"] == 20 for scan in scans)
    assert all(scan["handed_on"] == 0 for scan in scans)


def test_a_watched_folder_renamed_within_the_inbox_keeps_delivering_under_its_new_name(
    tmp_path: Path, broker: Mosquitto, backend: str
) -> None:
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env=on(backend, MONITOR_WATCH__RESCAN_SECONDS="0"))
    daemon.drop("desk/deeper/first.txt", AGREEMENT_ARTICLE)
    with Collector(broker.port, "newsmon/alerts/#", client_id="rename") as collector, running_daemon(daemon):
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 1, 30, what="first alert")
        (daemon.inbox / "desk").rename(daemon.inbox / "archive")
        daemon.drop("archive/deeper/second.txt", AGREEMENT_ARTICLE.replace("today", "after the rename"))
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 2, 30, what="alert from the renamed folder")
    assert collector.payloads("newsmon/alerts/")[1]["article"]["path"] == str(
        daemon.inbox / "archive/deeper/second.txt"
    )
    assert not daemon.events(events.BAD_INPUT_FILE)


def test_a_folder_swapped_for_a_symlink_never_leads_outside(tmp_path: Path, broker: Mosquitto, backend: str) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env=on(backend, MONITOR_WATCH__RESCAN_SECONDS="0"))
    (daemon.inbox / "sub").mkdir(parents=True)
    with (
        Collector(broker.port, ["newsmon/alerts/#", "newsmon/errors"], client_id="swap") as collector,
        running_daemon(daemon),
    ):
        (daemon.inbox / "sub").rename(tmp_path / "moved-out")  # the watched folder leaves the tree
        (daemon.inbox / "sub").symlink_to(secret)  # and a symlink to elsewhere takes its name
        (tmp_path / "moved-out" / "leak.txt").write_text("SECRET TITLE\n\n" + AGREEMENT_ARTICLE)
        (secret / "leak.txt").write_text("SECRET TITLE\n\n" + AGREEMENT_ARTICLE)
        daemon.drop("good.txt", AGREEMENT_ARTICLE.replace("today", "later"))
        wait_until(lambda: bool(collector.payloads("newsmon/alerts/")), 30, what="the good file's alert")
        time.sleep(1.0)
    titles = [a["article"]["title"] for a in collector.payloads("newsmon/alerts/")]
    assert titles == ["Pact signed"]


@pytest.mark.e2e
def test_an_upper_case_name_is_taken_and_a_name_not_taken_is_one_debug_line(tmp_path: Path, backend: str) -> None:
    daemon = DaemonProcess(
        tmp_path / "d", free_port(), extra_env=on(backend)
    )  # no broker needed: alerts wait in the outbox
    daemon.start()
    daemon.wait_ready()
    try:
        daemon.drop("UPPER.TXT", GOOD)
        (daemon.inbox / "report.pdf").write_bytes(b"%PDF-1.4 not an article")  # written in place
        daemon.drop("notes.doc", b"a moved-in file that is not taken either")
        wait_until(lambda: processed_paths(daemon) == ["UPPER.TXT"], 30, what="UPPER.TXT processed")
        wait_until(lambda: len(daemon.events("file not taken")) >= 2, 30, what="the debug lines")
        time.sleep(0.5)  # any late duplicate line would show by now
    finally:
        assert daemon.stop() == 0
    not_taken = {Path(e["path"]).name: e["reason"] for e in daemon.events("file not taken")}
    assert not_taken == {"report.pdf": "not matched by watch.include", "notes.doc": "not matched by watch.include"}
    assert len(daemon.events("file not taken")) == 2  # one line per file, however many events it made


def test_include_and_ignore_patterns_match_regardless_of_case_unless_configured() -> None:
    names = NameFilter(("*.txt",), ("*.tmp",))
    assert names.accepts_file("UPPER.TXT") and names.accepts_file("a.Txt")
    assert names.why_not("X.TMP.TXT") is None and names.why_not("a.TXT.TMP") == "matched by watch.ignore"
    assert names.why_not("report.pdf") == "not matched by watch.include"
    strict = NameFilter(("*.txt",), ("*.tmp",), case_sensitive=True)
    assert not strict.accepts_file("UPPER.TXT") and strict.accepts_file("lower.txt")

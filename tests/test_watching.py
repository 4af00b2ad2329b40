"""How files are picked up: renames, in-place writes, corrections, copies, recreated folders."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from harness.processes import Collector, DaemonProcess, Mosquitto, wait_until

GOOD = "Pact signed\n\nRussia and North Korea signed a new agreement in Moscow today.\n"


def processed_paths(daemon: DaemonProcess) -> list[str]:
    return [Path(e["path"]).name for e in daemon.log_events() if e.get("event") == "article processed"]


def test_a_file_written_in_place_slowly_is_read_once_complete(tmp_path: Path, broker: Mosquitto) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="slow").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env={"MONITOR_WATCH__SETTLE_MS": "1000"})
    daemon.start()
    daemon.wait_ready()
    try:
        with (daemon.inbox / "slow.txt").open("w", encoding="utf-8") as handle:
            handle.write("Pact signed\n\nRussia and North Korea ")
            handle.flush()
            time.sleep(0.3)  # well under the settle time: the half-written file must not be read
            handle.write("signed a new agreement in Moscow today.\n")
        wait_until(lambda: bool(collector.payloads("newsmon/alerts/")), 30, what="alert")
        time.sleep(0.5)
    finally:
        assert daemon.stop() == 0
        collector.stop()
    assert processed_paths(daemon) == ["slow.txt"]
    [alert] = collector.payloads("newsmon/alerts/")
    assert "agreement" in alert["evidence"][0]["text"]


def test_a_corrected_article_is_tagged_again_and_supersedes_the_first_alert(tmp_path: Path, broker: Mosquitto) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="fix").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    daemon.start()
    try:
        daemon.drop("story.txt", GOOD)
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 1, 30, what="first alert")
        daemon.drop("story.txt", GOOD.replace("today", "on Friday, officials said"))
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 2, 30, what="corrected alert")
    finally:
        assert daemon.stop() == 0
        collector.stop()
    first, second = collector.payloads("newsmon/alerts/")
    assert second["id"] != first["id"]
    assert second["supersedes"] == first["id"]
    assert first["supersedes"] is None


def test_the_same_content_under_another_name_is_not_alerted_again(tmp_path: Path, broker: Mosquitto) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="copy").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    daemon.start()
    try:
        daemon.drop("original.txt", GOOD)
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 1, 30, what="first alert")
        daemon.drop("copy.txt", GOOD)
        daemon.drop("sub/another-copy.txt", GOOD)
        wait_until(lambda: processed_paths(daemon).count("another-copy.txt") == 1, 30, what="copies seen")
        time.sleep(2.5)  # one periodic rescan later, still nothing new
    finally:
        assert daemon.stop() == 0
        collector.stop()
    assert len(collector.payloads("newsmon/alerts/")) == 1
    results = {Path(e["path"]).name: e["result"] for e in daemon.log_events() if e.get("event") == "article processed"}
    assert results == {"original.txt": "alerted", "copy.txt": "duplicate", "another-copy.txt": "duplicate"}


def test_a_watched_folder_deleted_and_recreated_is_watched_again(tmp_path: Path, broker: Mosquitto) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="recreate").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    daemon.start()
    try:
        daemon.drop("first.txt", GOOD)
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 1, 30, what="first alert")
        shutil.rmtree(daemon.inbox)
        time.sleep(0.2)
        daemon.drop("second.txt", GOOD.replace("today", "again"))
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 2, 30, what="alert after recreation")
        daemon.drop("third.txt", GOOD.replace("today", "a third time"))
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 3, 30, what="watched again")
    finally:
        assert daemon.stop() == 0
        collector.stop()


def test_a_folder_moved_in_already_filled_is_scanned(tmp_path: Path, broker: Mosquitto) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="movein").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env={"MONITOR_WATCH__RESCAN_SECONDS": "0"})
    daemon.start()
    staging = tmp_path / "staging" / "batch"
    (staging / "deeper").mkdir(parents=True)
    (staging / "a.txt").write_text(GOOD)
    (staging / "deeper" / "b.txt").write_text(GOOD.replace("today", "yesterday"))
    try:
        daemon.wait_ready()
        staging.rename(daemon.inbox / "batch")
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 2, 30, what="both alerts without rescans")
    finally:
        assert daemon.stop() == 0
        collector.stop()


def test_editor_temp_and_hidden_files_are_ignored(tmp_path: Path, broker: Mosquitto) -> None:
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    daemon.start()
    try:
        daemon.wait_ready()
        for name in (".hidden.txt", "draft.txt~", "upload.txt.part", "x.tmp", ".x.swp", "notes.pdf"):
            (daemon.inbox / name).write_text(GOOD)
        daemon.drop("real.txt", GOOD)
        wait_until(lambda: "real.txt" in processed_paths(daemon), 30, what="the real article")
        time.sleep(2.5)
    finally:
        assert daemon.stop() == 0
    assert processed_paths(daemon) == ["real.txt"]


def test_periodic_rescans_hand_on_only_files_that_changed(tmp_path: Path, broker: Mosquitto) -> None:
    daemon = DaemonProcess(tmp_path / "d", broker.port)
    for index in range(20):
        daemon.drop(f"old-{index}.txt", GOOD.replace("today", f"on day {index}"))
    daemon.start()
    try:
        wait_until(lambda: len(processed_paths(daemon)) == 20, 30, what="catch-up")

        def periodic() -> list[dict[str, object]]:
            return [e for e in daemon.log_events() if e.get("why") == "periodic"]

        wait_until(lambda: len(periodic()) >= 2, 30, what="two periodic rescans")
    finally:
        assert daemon.stop() == 0
    scans = periodic()
    assert all(scan["files"] == 20 for scan in scans)
    assert all(scan["handed_on"] == 0 for scan in scans)


def test_a_watched_folder_renamed_within_the_inbox_keeps_delivering_under_its_new_name(
    tmp_path: Path, broker: Mosquitto
) -> None:
    collector = Collector(broker.port, "newsmon/alerts/#", client_id="rename").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env={"MONITOR_WATCH__RESCAN_SECONDS": "0"})
    daemon.drop("desk/deeper/first.txt", GOOD)
    daemon.start()
    try:
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 1, 30, what="first alert")
        (daemon.inbox / "desk").rename(daemon.inbox / "archive")
        daemon.drop("archive/deeper/second.txt", GOOD.replace("today", "after the rename"))
        wait_until(lambda: len(collector.payloads("newsmon/alerts/")) == 2, 30, what="alert from the renamed folder")
    finally:
        assert daemon.stop() == 0
        collector.stop()
    assert collector.payloads("newsmon/alerts/")[1]["article"]["path"] == str(
        daemon.inbox / "archive/deeper/second.txt"
    )
    assert not daemon.events("bad input file")


def test_a_folder_swapped_for_a_symlink_never_leads_outside(tmp_path: Path, broker: Mosquitto) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    collector = Collector(broker.port, ["newsmon/alerts/#", "newsmon/errors"], client_id="swap").start()
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env={"MONITOR_WATCH__RESCAN_SECONDS": "0"})
    (daemon.inbox / "sub").mkdir(parents=True)
    daemon.start()
    try:
        daemon.wait_ready()
        (daemon.inbox / "sub").rename(tmp_path / "moved-out")  # the watched folder leaves the tree
        (daemon.inbox / "sub").symlink_to(secret)  # and a symlink to elsewhere takes its name
        (tmp_path / "moved-out" / "leak.txt").write_text("SECRET TITLE\n\n" + GOOD)
        (secret / "leak.txt").write_text("SECRET TITLE\n\n" + GOOD)
        daemon.drop("good.txt", GOOD.replace("today", "later"))
        wait_until(lambda: bool(collector.payloads("newsmon/alerts/")), 30, what="the good file's alert")
        time.sleep(1.0)
    finally:
        assert daemon.stop() == 0
        collector.stop()
    titles = [a["article"]["title"] for a in collector.payloads("newsmon/alerts/")]
    assert titles == ["Pact signed"]

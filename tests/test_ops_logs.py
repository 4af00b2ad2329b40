"""Logs: library loggers rendered like ours, the article path and alert id bound per article, no secret."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from harness.processes import REPO, WATCHLISTS, DaemonProcess, free_port, wait_until
from monitor import events, logs
from monitor.engine import load_engine
from tests.support import AGREEMENT_ARTICLE, BatchRunner

PACT = AGREEMENT_ARTICLE


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    logs.configure("debug", "json", stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def logged(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_library_loggers_come_out_as_the_same_json_lines(captured: io.StringIO) -> None:
    logging.getLogger("aiomqtt").warning("connection %s lost", "x")
    structlog.get_logger("monitor.test").warning("ours")
    theirs, ours = logged(captured)
    assert theirs["event"] == "connection x lost" and theirs["logger"] == "aiomqtt"
    assert set(ours) == set(theirs)  # event, level, logger, timestamp: same shape


def test_secrets_are_masked_whatever_the_caller_passes(captured: io.StringIO) -> None:
    structlog.get_logger("monitor.test").info("connecting", password="hunter2", key="k", api_token="t", host="h")
    [event] = logged(captured)
    assert "hunter2" not in captured.getvalue()
    assert event["password"] == event["key"] == event["api_token"] == "***"
    assert event["host"] == "h"


def test_lines_about_an_article_carry_its_path_and_alert_id_as_the_readme_says(
    captured: io.StringIO, tmp_path: Path
) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [(path_key, alert_key)] = re.findall(
        r"every line about an article carries its path \(`(\w+)`\), alert lines their `(\w+)`", readme
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "pact.txt").write_text(AGREEMENT_ARTICLE)
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        [outcome] = run.process([str(inbox / "pact.txt")])
    assert outcome.result == "alerted"
    queued = [e for e in logged(captured) if e["event"] == events.ALERT_QUEUED]
    assert queued and all(e[path_key] == str(inbox / "pact.txt") for e in queued)
    assert all(len(e[alert_key]) == 32 for e in queued)
    structlog.get_logger("monitor.test").info("after")
    assert path_key not in logged(captured)[-1]  # unbound once the article is done


def journal_env(path: Path) -> dict[str, str]:
    status = path.stat()
    return {"JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"}


def test_on_the_journal_each_line_starts_with_its_syslog_priority(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_file = tmp_path / "stderr"
    with log_file.open("w") as stream:
        monkeypatch.setenv("JOURNAL_STREAM", journal_env(log_file)["JOURNAL_STREAM"])
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        try:
            logs.configure("debug", "json", stream=stream)
            log = structlog.get_logger("monitor.test")
            log.debug("d")
            log.info("i")
            log.warning("w")
            log.error("e")
            logging.getLogger("aiomqtt").critical("c")
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
            structlog.reset_defaults()
    lines = log_file.read_text().splitlines()
    assert [line[:3] for line in lines] == ["<7>", "<6>", "<4>", "<3>", "<2>"]
    assert [json.loads(line[3:])["event"] for line in lines] == ["d", "i", "w", "e", "c"]


def test_a_stream_that_is_not_the_journal_gets_no_prefix(tmp_path: Path) -> None:
    """A child started from the service with its stderr in a file inherits JOURNAL_STREAM: no prefix there."""
    other = tmp_path / "other"
    other.write_text("")
    with (tmp_path / "stderr").open("w") as stream:
        assert not logs.is_journal(stream, journal_env(other))
        assert logs.is_journal(stream, journal_env(tmp_path / "stderr"))
        assert not logs.is_journal(stream, {"JOURNAL_STREAM": "garbage"})
        assert not logs.is_journal(stream, {})


@pytest.mark.e2e
def test_the_daemon_on_the_journal_logs_errors_and_warnings_at_their_priority(tmp_path: Path) -> None:
    """What `journalctl -p warning` relies on: the daemon's own lines carry `<4>`, `<3>` (broker down here)."""
    daemon = DaemonProcess(tmp_path / "d", free_port())
    daemon.workdir.mkdir(parents=True)
    daemon.log_path.write_text("")
    daemon.extra_env.update(journal_env(daemon.log_path))
    daemon.start()
    try:
        wait_until(lambda: "daemon ready" in daemon.log_path.read_text(), 30, what="daemon ready")
    finally:
        assert daemon.stop() == 0
    by_priority: dict[str, set[str]] = {}
    for line in daemon.log_path.read_text().splitlines():
        assert line[:1] == "<" and line[2:3] == ">", line
        by_priority.setdefault(line[:3], set()).add(json.loads(line[3:])["level"])
    assert by_priority["<6>"] == {"info"} and by_priority["<7>"] == {"debug"}
    assert by_priority.get("<4>", {"warning"}) == {"warning"} and by_priority.get("<3>", {"error"}) == {"error"}
    assert "<4>" in by_priority or "<3>" in by_priority  # the unreachable broker is reported above info

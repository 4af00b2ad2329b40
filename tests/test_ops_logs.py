"""Logs: library loggers rendered like ours, the article path and alert id bound per article, no secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from harness.processes import WATCHLISTS
from monitor import events, logs
from monitor.engine import load_engine
from tests.support import AGREEMENT_ARTICLE, BatchRunner


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


def test_lines_about_an_article_carry_its_path_and_alert_id(captured: io.StringIO, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "pact.txt").write_text(AGREEMENT_ARTICLE)
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        [outcome] = run.process([str(inbox / "pact.txt")])
    assert outcome.result == "alerted"
    queued = [e for e in logged(captured) if e["event"] == events.ALERT_QUEUED]
    assert queued and all(e["article"] == str(inbox / "pact.txt") for e in queued)
    assert all(len(e["alert_id"]) == 32 for e in queued)
    structlog.get_logger("monitor.test").info("after")
    assert "article" not in logged(captured)[-1]  # unbound once the article is done

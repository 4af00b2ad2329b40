"""Article text never drives the analyst's terminal: escape sequences, control characters and bidi
overrides in an article are stripped (readable output) or escaped (JSON) by every command that prints
it, on a pipe and on a terminal, and rich markup in an article is printed as text."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.processes import REPO, WATCHLISTS, Mosquitto, monitor_cli
from monitor.alerts import build_alert
from monitor.articles import parse_article
from monitor.engine import load_engine
from monitor.terminal import json_line, safe_text
from tests.test_ops_tools import Tail, publish

TITLE = "\x1b]0;PWNED\x07\x1b[2J\x1b[8mRussia [bold]and[/bold] North Korea sign a pact\x9b31m\u202e"
BODY = "Russia and North Korea signed a new agreement\x1b[2J on [bold]defence[/bold].\x1b]0;PWNED-TOO\x07\x07\r\x7f\n"
HOSTILE = f"{TITLE}\n\n{BODY}"
#: raw characters that must never reach a terminal from article text (JSON shows them escaped)
RAW = ("\x9b", "\u202e", "\x07", "\x7f", "\r")
#: nor, in readable output, the sequences and their payload (rich's own styles use other ESC sequences)
READABLE = (*RAW, "\x1b]", "PWNED", "\x1b[2J", "\x1b[8m")


def assert_inert(output: str, *, json_output: bool = False) -> None:
    for attack in (*RAW, "\x1b") if json_output else READABLE:
        assert attack not in output, f"{attack!r} reached the terminal"


def in_a_terminal(*args: str) -> str:
    """``monitor ARGS`` with stdout on a pseudo-terminal (rich styles its output: only ours may escape)."""
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"} | {"COLUMNS": "200", "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "-m", "monitor", *args], cwd=REPO, env=env, stdout=terminal)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert proc.wait(60) == 0
    return b"".join(chunks).decode().replace("\r\n", "\n")  # the terminal's own line ends


def test_safe_text_strips_sequences_controls_and_bidi_and_keeps_the_words() -> None:
    assert safe_text(TITLE) == "Russia [bold]and[/bold] North Korea sign a pact"
    assert safe_text(BODY) == "Russia and North Korea signed a new agreement on [bold]defence[/bold].\n"
    assert safe_text("a\tb\nc", one_line=True) == "abc"
    hindi = "रूस और उत्तर कोरिया ने समझौते पर हस्ताक्षर किए\u200d"  # ZWJ is Hindi spelling, not a control
    assert safe_text(hindi) == hindi


def test_json_line_escapes_what_json_leaves_raw_and_keeps_the_data() -> None:
    value = {"title": TITLE, "text": BODY}
    line = json_line(value)
    assert json.loads(line) == value
    assert_inert(line, json_output=True)
    assert "\\u009b" in line and "\\u202e" in line


@pytest.mark.e2e
def test_monitor_tag_prints_hostile_article_text_inert(tmp_path: Path) -> None:
    article = tmp_path / "hostile.txt"
    article.write_text(HOSTILE, encoding="utf-8")
    for args in ([], ["--explain"], ["--json"]):
        result = monitor_cli("tag", *args, str(article))
        assert result.returncode == 0, result.stderr
        assert_inert(result.stdout, json_output=args == ["--json"])
        assert "russia-dprk-agreement" in result.stdout
    assert json.loads(result.stdout)["title"] == TITLE  # --json keeps the data, escaped
    for args in ([], ["--explain"]):
        shown = in_a_terminal("tag", *args, str(article))
        assert_inert(shown)
        assert "[bold]defence[/bold]" in shown  # markup in an article is text, not a style


def hostile_alert() -> dict[str, Any]:
    article = parse_article("/in/\x1b]0;PWNED\x07hostile.txt", HOSTILE.encode())
    engine = load_engine([WATCHLISTS])
    result = engine.tag(article.text)
    [hit] = [hit for hit in result.rules if hit.rule == "russia-dprk-agreement"]
    alert = build_alert(article, result, hit, watchlist_version=engine.version)
    return alert.model_dump(mode="json", by_alias=True)


@pytest.mark.e2e
def test_monitor_tail_prints_hostile_alert_text_inert_on_a_pipe(tmp_path: Path, broker: Mosquitto) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\n')
    alert = hostile_alert()
    readable = Tail(tmp_path / "readable", config, "--count", "1")
    raw = Tail(tmp_path / "raw", config, "--json", "--count", "1")
    try:
        readable.wait_listening()
        raw.wait_listening()
        publish(broker.port, alert)
        assert readable.finish() == 0 and raw.finish() == 0
    finally:
        for tail in (readable, raw):
            if tail.proc.poll() is None:
                tail.proc.kill()
    shown = readable.out.read_text()
    assert_inert(shown)
    assert "Russia [bold]and[/bold] North Korea sign a pact" in shown and "hostile.txt" in shown
    assert_inert(raw.out.read_text(), json_output=True)
    assert raw.alerts() == [alert]


def test_tail_rendering_on_a_terminal_is_inert() -> None:
    import io

    from rich.console import Console

    from monitor.tail import render_alert

    out = io.StringIO()
    Console(file=out, force_terminal=True, width=200).print(render_alert(hostile_alert()))
    assert_inert(out.getvalue())
    assert "agreement" in out.getvalue()


@pytest.mark.e2e
def test_backfill_dry_run_prints_hostile_titles_inert(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    env = {"MONITOR_STATE__DIR": str(tmp_path / "state")}
    result = monitor_cli("backfill", str(archive), env=env)
    assert result.returncode == 0, result.stderr
    assert "would alert" in result.stdout and "russia-dprk-agreement" in result.stdout
    assert_inert(result.stdout)

"""The daily digest: the day's stories by rule, most severe first, with counts and the opening article;
as Markdown, hostile titles stay text."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from harness.processes import WATCHLISTS
from monitor.cli import main
from monitor.digest import digest_markdown, escape
from monitor.engine import load_engine
from monitor.history import AlertQuery, History
from tests.support import ARCHIVE_DAY, BatchRunner, numbered_pact, write_dated
from tests.test_history_review import COPY, OPENING, drop

TREATY = "Putin and Kim sign a treaty\n\nPutin met Kim Jong Un in Pyongyang; the two signed a defence treaty.\n"


def test_a_story_of_three_outlets_is_one_entry_with_its_counts_and_opening(tmp_path: Path) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS]), stories=True) as run:
        drop(run, "wire-a", "1.txt", OPENING)
        drop(run, "wire-b", "1.txt", COPY)
        drop(run, "daily", "2.txt", TREATY)
    history = History(tmp_path / "state" / "monitor.sqlite3")
    digest = history.digest(ARCHIVE_DAY)
    [customs] = [s for s in digest.by_rule["russia-dprk-agreement"] if s.opening.source == "wire-a"]
    assert (customs.articles, customs.outlets) == (2, 2)
    assert customs.opening.title.startswith("Russia and North Korea sign customs pact")
    assert digest.alerts == history.alerts(AlertQuery(since=ARCHIVE_DAY, until=ARCHIVE_DAY)).total >= 2
    assert digest.stories == len({s.story_id for stories in digest.by_rule.values() for s in stories})
    severities = [stories[0].severity for stories in digest.by_rule.values()]
    order = ["info", "low", "medium", "high", "critical"]
    assert severities == sorted(severities, key=order.index, reverse=True)
    assert history.digest(date(2000, 1, 1)).by_rule == {}
    history.close()


def test_the_markdown_digest_lists_rules_stories_and_counts(tmp_path: Path) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        for n in range(2):
            write_dated(run.inbox / f"{n}.txt", numbered_pact(n))
        run.process(run.all_keys())
    history = History(tmp_path / "state" / "monitor.sqlite3")
    text = digest_markdown(history.digest(ARCHIVE_DAY))
    history.close()
    assert text.startswith(f"# Digest for {ARCHIVE_DAY.isoformat()}\n")
    assert "2 alerts in 2 stories." in text
    assert "(`russia-dprk-agreement`)" in text
    assert text.count("\n- **") == 2 and "1 article, 1 outlet" in text
    assert "No alerts." in digest_markdown(History(tmp_path / "state" / "monitor.sqlite3").digest(date(2000, 1, 1)))


def test_a_hostile_title_stays_text_in_markdown() -> None:
    hostile = '<script>alert(1)</script> [x](javascript:alert(1)) **bold** <img onerror="x">'
    escaped = escape(hostile)
    assert "<" not in escaped.replace("\\<", "") and "](" not in escaped.replace("\\]\\(", "")
    assert escape("a\nb\n# c") == "a b \\# c"


def test_monitor_digest_prints_the_days_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        write_dated(run.inbox / "a.txt", numbered_pact(1))
        run.process(run.all_keys())
    state = str(tmp_path / "state")
    assert main(["digest", "--date", ARCHIVE_DAY.isoformat(), "--state-dir", state]) == 0
    assert "1 alert in 1 story." in capsys.readouterr().out
    assert main(["digest", "--state-dir", str(tmp_path / "none")]) == 2


def test_bidi_controls_are_stripped_and_long_titles_clamped_in_markdown(tmp_path: Path) -> None:
    long_title = "Russia and North Korea sign a pact " + "\u202eevil\u202c \u2066x\u2069 \u200f" + "word " * 100
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        write_dated(run.inbox / "a.txt", f"{long_title}\n\nRussia and North Korea signed a new agreement.\n")
        run.process(run.all_keys())
    history = History(tmp_path / "state" / "monitor.sqlite3")
    text = digest_markdown(history.digest(ARCHIVE_DAY))
    history.close()
    assert not any(ch in text for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
    [line] = [line for line in text.splitlines() if line.startswith("- **")]
    assert "evil x" in line and "…" in line
    assert line.count("word") < 60  # clamped to 300 characters, not the title's 500+
    assert escape("a\u202eb\u200fc") == "abc"

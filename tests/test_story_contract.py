"""What stories promise outside the book: ``tag --json``'s story field, backfill's report, retention."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from harness.processes import WATCHLISTS, monitor_cli
from monitor.backfill import Report
from monitor.engine import load_engine
from monitor.processing import Outcome
from monitor.retention import prune
from monitor.store import DB_NAME
from tests.support import AGREEMENT_ARTICLE, BatchRunner
from tests.test_stories import SIGNING_EN


def test_tag_json_with_stories_off_still_prints_a_null_story(tmp_path: Path) -> None:
    article = tmp_path / "pact.txt"
    article.write_text(AGREEMENT_ARTICLE, encoding="utf-8")
    result = monitor_cli("tag", "--json", str(article), env={"MONITOR_STORIES__ENABLED": "false"})
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert "story" in doc and doc["story"] is None


def test_tag_json_places_a_file_named_twice_as_two_articles(tmp_path: Path) -> None:
    article = tmp_path / "pact.txt"
    article.write_text(AGREEMENT_ARTICLE, encoding="utf-8")
    result = monitor_cli("tag", "--json", str(article), str(article))
    assert result.returncode == 0, result.stderr
    kinds = [json.loads(line)["story"]["kind"] for line in result.stdout.splitlines()]
    assert kinds == ["new", "silent"]  # the first opens its story, the second is its copy


def test_backfill_counts_only_articles_that_alerted_as_alerts() -> None:
    report = Report()
    report.add(
        ["a", "b"],
        [
            Outcome("a", "alerted", rules=(("russia-dprk-agreement", "high"),), alert_ids=("id-a",)),
            Outcome("b", "silent", rules=(("russia-dprk-agreement", "high"),)),
        ],
    )
    assert [key for key, *_ in report.alerts] == ["a"]
    assert report.results["silent"] == 1


def story_tables(workdir: Path) -> tuple[int, int]:
    db = sqlite3.connect(workdir / "state" / DB_NAME)
    try:
        (stories,) = db.execute("SELECT count(*) FROM stories").fetchone()
        (members,) = db.execute("SELECT count(*) FROM story_articles").fetchone()
        return int(stories), int(members)
    finally:
        db.close()


def test_retention_prunes_the_stories_whose_last_article_is_older_than_it(tmp_path: Path) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS]), stories=True) as runner:
        old, recent = runner.inbox / "old.txt", runner.inbox / "new.txt"
        old.write_text(SIGNING_EN, encoding="utf-8")
        stamp = datetime(2020, 3, 1, tzinfo=UTC).timestamp()
        os.utime(old, (stamp, stamp))
        recent.write_text(AGREEMENT_ARTICLE, encoding="utf-8")
        runner.process(runner.all_keys())
        assert story_tables(tmp_path) == (2, 2)
        pruned = prune(runner.store, time.time() - 30 * 86400, lambda key, version: True)
        assert pruned.stories == 1
    assert story_tables(tmp_path) == (1, 1)

"""The archive keeps what story grouping reads of each article's text (layout 5), so that a retro run
groups its articles without reading their texts again, into the same stories; an archive of layout 4
(articles archived before) upgrades, and its articles are grouped from their texts as before."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from harness.processes import WATCHLISTS
from monitor.engine import load_engine
from monitor.retro import RetroResult, retro_run
from monitor.retro_stories import in_stories
from monitor.store import DB_NAME, SCHEMA_VERSION, Store
from monitor.stories import StoryBook
from monitor.story_features import text_features
from tests.support import ARCHIVE_DAY, BatchRunner
from tests.test_history_retro import RAIL, STORY
from tests.test_history_review import drop


def archive_story(tmp_path: Path) -> Path:
    """One story's five articles archived by the daemon's batch steps, stories on."""
    with BatchRunner(tmp_path, load_engine([WATCHLISTS]), stories=True) as runner:
        for n, text in enumerate(STORY):
            drop(runner, f"outlet-{n}", "1.txt", text)
    (tmp_path / "rail.yaml").write_text(RAIL)
    return tmp_path / "state" / DB_NAME


def retro(tmp_path: Path, db: Path) -> list[RetroResult]:
    return list(retro_run(db, load_engine([tmp_path / "rail.yaml"]), ARCHIVE_DAY))


def grouped(results: list[RetroResult]) -> list[tuple[str, str]]:
    return [
        (found.placement.story.id, found.placement.kind)
        for found in in_stories(results, StoryBook())
        if found.placement is not None
    ]


def test_a_retro_run_groups_from_the_archived_text_features_into_the_same_stories(tmp_path: Path) -> None:
    db = archive_story(tmp_path)
    results = retro(tmp_path, db)
    assert [found.story_text for found in results] == [text_features(found.article.text) for found in results]
    from_texts = grouped([replace(found, story_text=None) for found in results])
    assert grouped(results) == from_texts and [kind for _, kind in from_texts] == ["new"] + ["silent"] * 4


def test_a_layout_4_archive_upgrades_and_its_articles_are_grouped_from_their_texts(tmp_path: Path) -> None:
    db = archive_story(tmp_path)
    expected = grouped(retro(tmp_path, db))
    old = sqlite3.connect(db)
    old.execute("DROP TABLE archive_story_text")
    old.execute("PRAGMA user_version = 4")
    old.commit()
    old.close()
    before = retro(tmp_path, db)  # read-only, not migrated yet: no features table
    assert [found.story_text for found in before] == [None] * 5 and grouped(before) == expected
    Store(db).close()
    check = sqlite3.connect(db)
    version = check.execute("PRAGMA user_version").fetchone()[0]
    kept = check.execute("SELECT count(*) FROM archive_articles").fetchone()[0]
    features = check.execute("SELECT count(*) FROM archive_story_text").fetchone()[0]
    check.close()
    assert (version, kept, features) == (SCHEMA_VERSION, 5, 0) and SCHEMA_VERSION == 5
    after = retro(tmp_path, db)
    assert [found.story_text for found in after] == [None] * 5 and grouped(after) == expected

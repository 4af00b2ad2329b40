"""The archive is pruned by age with its alerts, search rows and the review rows that named them; what is
newer stays, searchable as before."""

from __future__ import annotations

import time
from pathlib import Path

from harness.processes import WATCHLISTS
from monitor.engine import load_engine
from monitor.history import AlertQuery, History
from monitor.retention import prune
from tests.support import TREATY_ARTICLE, BatchRunner, numbered_pact


def count(history: History, table: str) -> int:
    return int(history._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_archived_articles_past_the_history_retention_go_with_their_alerts_index_and_review_rows(
    tmp_path: Path,
) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        for n in range(3):
            (run.inbox / f"old{n}.txt").write_text(numbered_pact(n))
        (run.inbox / "old-treaty.txt").write_text(TREATY_ARTICLE)  # the only meeting alert
        run.process(run.all_keys())
        history = History(tmp_path / "state" / "monitor.sqlite3")
        old = history.alerts(AlertQuery()).entries
        facets_before = history.facets()
        assert history.set_reviewed(alert_id=old[0].alert_id, by="asha")
        history.set_muted(old[0].story_id or "", True)  # no story: refused, nothing recorded
        time.sleep(0.05)
        cutoff = time.time()
        (run.inbox / "new.txt").write_text(numbered_pact(99))
        run.process([str(run.inbox / "new.txt")])
        pruned = prune(run.store, 0.0, lambda key, version: True, history_cutoff=cutoff)
        assert (pruned.archived, pruned.archived_alerts) == (4, 5)
        assert count(history, "archive_articles") == 1 and count(history, "archive_fts") == 1
        assert count(history, "archive_alerts") == count(history, "archive_payloads") == 1
        assert count(history, "archive_entities") > 0
        assert count(history, "review_log") == 0  # the reviewed alert is gone, and so is its record
        [kept] = history.alerts(AlertQuery(text="pact 99")).entries
        assert history.alerts(AlertQuery(text="pact")).entries == [kept]
        assert history.alert(old[0].alert_id) is None
        assert "russia-dprk-meeting" in facets_before["rule"]
        assert history.facets()["rule"] == [kept.rule]  # the menus name what is left
        history.close()


def test_a_prune_before_anything_expired_keeps_the_whole_archive(tmp_path: Path) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        (run.inbox / "a.txt").write_text(numbered_pact(1))
        run.process(run.all_keys())
        pruned = prune(run.store, 0.0, lambda key, version: True, history_cutoff=time.time() - 3600)
        assert pruned.archived == 0
        history = History(tmp_path / "state" / "monitor.sqlite3")
        assert history.alerts(AlertQuery(text="pact")).total == 1
        history.close()

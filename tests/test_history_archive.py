"""The archive written with the outbox: every fresh article and its alerts, searchable in Hindi and English,
filtered and paged, read from a connection of its own (as the console reads it)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from harness.processes import WATCHLISTS
from monitor import history as history_module
from monitor.engine import Engine, load_engine
from monitor.history import AlertQuery, History
from monitor.store import DB_NAME
from tests.support import AGREEMENT_ARTICLE, QUIET_ARTICLE, TREATY_ARTICLE, BatchRunner, numbered_pact

HINDI_PACT = (
    "रूस और उत्तर कोरिया के बीच सीमा शुल्क समझौता\n\n"
    "मॉस्को। रूस और उत्तर कोरिया ने सोमवार को सीमा शुल्क सहयोग के समझौते पर हस्ताक्षर किए।\n"
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return load_engine([WATCHLISTS])


def history_of(run: BatchRunner) -> History:
    assert run.store.path is not None
    return History(run.store.path)


def test_every_published_alert_is_in_the_archive_with_its_payload_as_sent(tmp_path: Path, engine: Engine) -> None:
    with BatchRunner(tmp_path, engine) as run:
        (run.inbox / "treaty.txt").write_text(TREATY_ARTICLE)
        (run.inbox / "quiet.txt").write_text(QUIET_ARTICLE)
        run.process(run.all_keys())
        sent = {m.message_id: json.loads(m.payload) for m in run.store.pending(100)}
        history = history_of(run)
        page = history.alerts(AlertQuery())
        assert {e.alert_id: e.payload for e in page.entries} == sent
        assert page.total == len(sent) == 2
        assert {e.delivery for e in page.entries} == {"sent"}
        quiet = history._db.execute("SELECT title, lang FROM archive_articles WHERE title = 'Weather report'")
        assert quiet.fetchall() == [("Weather report", "en")]  # articles without alerts are archived too
        history.close()


def test_a_duplicate_is_not_archived_twice(tmp_path: Path, engine: Engine) -> None:
    with BatchRunner(tmp_path, engine) as run:
        (run.inbox / "a.txt").write_text(AGREEMENT_ARTICLE)
        (run.inbox / "b.txt").write_text(AGREEMENT_ARTICLE)
        run.process(run.all_keys())
        history = history_of(run)
        assert history.alerts(AlertQuery()).total == 1
        assert history._db.execute("SELECT count(*) FROM archive_articles").fetchone()[0] == 1
        history.close()


def test_a_hindi_word_finds_its_inflected_forms(tmp_path: Path, engine: Engine) -> None:
    with BatchRunner(tmp_path, engine) as run:
        (run.inbox / "hi.txt").write_text(HINDI_PACT)
        (run.inbox / "en.txt").write_text(AGREEMENT_ARTICLE)
        run.process(run.all_keys())
        history = history_of(run)
        for word in ("समझौता", "समझौते", "समझौतों"):
            found = history.alerts(AlertQuery(text=word)).entries
            assert [e.lang for e in found] == ["hi"], word
        assert [e.lang for e in history.alerts(AlertQuery(text="agreements")).entries] == ["en"]
        assert [e.lang for e in history.alerts(AlertQuery(text="Agreement moscow")).entries] == ["en"]
        assert history.alerts(AlertQuery(text="agreement पुतिन")).total == 0  # every word must occur
        history.close()


def test_nukta_and_zero_width_variants_find_the_same_article(tmp_path: Path, engine: Engine) -> None:
    with BatchRunner(tmp_path, engine) as run:
        (run.inbox / "hi.txt").write_text(HINDI_PACT)
        run.process(run.all_keys())
        history = history_of(run)
        assert history.alerts(AlertQuery(text="मास्को")).total == 0  # a different vowel is a different word
        assert history.alerts(AlertQuery(text="मॉस्को")).total == 1
        assert history.alerts(AlertQuery(text="हस्\u200dताक्षर")).total == 1  # ZWJ inside the word
        assert history.alerts(AlertQuery(text="समझौ\u093cता")).total == 1  # a stray nukta
        history.close()


@pytest.mark.parametrize("query", ['"', "AND OR (", "NEAR(a b)", "*", "col:x", "'; DROP TABLE x; --", "^zq", "zq*"])
def test_search_syntax_in_a_query_is_text_and_never_an_error(tmp_path: Path, engine: Engine, query: str) -> None:
    with BatchRunner(tmp_path, engine) as run:
        (run.inbox / "a.txt").write_text(AGREEMENT_ARTICLE)
        run.process(run.all_keys())
        history = history_of(run)
        page = history.alerts(AlertQuery(text=query))
        assert page.total == len(page.entries) == 0
        history.close()


def test_filters_narrow_the_alerts(tmp_path: Path, engine: Engine) -> None:
    with BatchRunner(tmp_path, engine) as run:
        (run.inbox / "treaty.txt").write_text(TREATY_ARTICLE)
        (run.inbox / "hi.txt").write_text(HINDI_PACT)
        run.process(run.all_keys())
        history = history_of(run)
        everything = history.alerts(AlertQuery()).entries
        rules = {e.rule for e in everything}
        assert len(rules) >= 2
        for rule in rules:
            assert {e.rule for e in history.alerts(AlertQuery(rule=rule)).entries} == {rule}
        assert {e.lang for e in history.alerts(AlertQuery(lang="hi")).entries} == {"hi"}
        assert history.alerts(AlertQuery(source="nowhere")).total == 0
        assert history.alerts(AlertQuery(source="inbox")).total == len(everything)  # the folder is the outlet
        assert history.alerts(AlertQuery(entity="no:such")).total == 0
        entity = everything[0].payload["entities"][0]["id"]
        assert history.alerts(AlertQuery(entity=entity)).total >= 1
        assert history.alerts(AlertQuery(reviewed=True)).total == 0
        assert history.alerts(AlertQuery(retro=True)).total == 0
        assert history.alerts(AlertQuery(retro=None)).total == len(everything)
        severity = everything[0].severity
        assert {e.severity for e in history.alerts(AlertQuery(severity=severity)).entries} == {severity}
        facets = history.facets()
        assert set(facets["rule"]) == rules and set(facets["lang"]) == {"hi", "en"}
        history.close()


def test_pages_run_newest_first_by_sequence_number_and_count_all(tmp_path: Path, engine: Engine) -> None:
    with BatchRunner(tmp_path, engine) as run:
        for n in range(7):
            (run.inbox / f"{n}.txt").write_text(numbered_pact(n))
        run.process(run.all_keys())
        history = history_of(run)
        seen: list[int] = []
        before = None
        while True:
            page = history.alerts(AlertQuery(limit=3, before=before))
            assert page.total == 7
            seen += [e.seq for e in page.entries]
            if page.next_before is None:
                break
            before = page.next_before
        assert seen == sorted(seen, reverse=True) and len(set(seen)) == 7
        assert history.last_seq() == seen[0]
        assert [e.seq for e in history.after(seen[3])] == sorted(seen[:3])
        one = history.alert(page.entries[0].alert_id)
        assert one is not None and one.seq == page.entries[0].seq
        article = history.article(one.article_id)
        assert article is not None and "agreement" in article.text and article.alerts == [one]
        history.close()


def test_a_count_past_the_cap_says_so_and_paging_still_reaches_every_alert(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "COUNT_CAP", 4)
    with BatchRunner(tmp_path, engine) as run:
        for n in range(7):
            (run.inbox / f"{n}.txt").write_text(numbered_pact(n))
        run.process(run.all_keys())
        history = history_of(run)
        first = history.alerts(AlertQuery(limit=5))
        assert (first.total, first.total_capped) == (4, True)
        rest = history.alerts(AlertQuery(limit=5, before=first.next_before))
        assert len(first.entries) + len(rest.entries) == 7 and rest.next_before is None
        exact = history.alerts(AlertQuery(text="pact 3"))
        assert (exact.total, exact.total_capped) == (1, False)
        history.close()


def test_a_search_pages_through_articles_of_several_alerts_each_once_and_in_sequence_order(
    tmp_path: Path, engine: Engine
) -> None:
    """A live search walks the index newest article first and stops at the page's end: a page of four
    ends inside an article of three alerts, and the next page still starts with that article's others."""
    with BatchRunner(tmp_path, engine) as run:
        for n in range(5):  # three rules fire: agreement, meeting, military
            text = (
                f"Putin and Kim sign treaty {n}\n\nPutin met Kim Jong Un in Pyongyang; the two signed a treaty, {n}."
                f" Russia will send missiles to North Korea, {n}.\n"
            )
            (run.inbox / f"{n}.txt").write_text(text)
        (run.inbox / "other.txt").write_text(numbered_pact(99))
        run.process(run.all_keys())
        history = history_of(run)
        for rule, count in ((None, 15), ("russia-dprk-meeting", 5)):
            # retro=None takes the other way (every match found first, then sorted): the same alerts
            expected = [e.seq for e in history.alerts(AlertQuery(text="treaty", rule=rule, retro=None)).entries]
            assert len(expected) == count
            seen: list[int] = []
            before = None
            while True:
                page = history.alerts(AlertQuery(text="treaty", rule=rule, limit=4, before=before))
                assert page.total == count and not page.total_capped
                seen += [e.seq for e in page.entries]
                if page.next_before is None:
                    break
                before = page.next_before
            assert seen == expected
        history.close()


def test_an_empty_archive_has_sequence_zero(tmp_path: Path) -> None:
    history = History(tmp_path / DB_NAME)  # creates the database in the current layout
    assert history.last_seq() == 0
    assert history.alerts(AlertQuery(text="x")).entries == []
    assert history.alert("nope") is None and history.story("nope") is None and history.article(1) is None
    history.close()


def test_a_layout_3_database_gains_the_archive_and_keeps_what_it_knew(tmp_path: Path) -> None:
    from monitor.history_schema import ARCHIVE_TEXT_SCHEMA, HISTORY_SCHEMA
    from monitor.store import SCHEMA, SCHEMA_VERSION, Store

    path = tmp_path / DB_NAME
    db = sqlite3.connect(path)
    db.executescript(SCHEMA.replace(HISTORY_SCHEMA, "").replace(ARCHIVE_TEXT_SCHEMA, ""))
    db.execute("INSERT INTO contents VALUES ('sha-a', '/in/a.txt', 1.0)")
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    Store(path).close()
    history = History(path)
    assert history.last_seq() == 0 and history.facets()["rule"] == []
    assert history._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    assert history._db.execute("SELECT count(*) FROM contents").fetchone()[0] == 1
    history.close()


def test_with_keep_text_off_only_the_title_is_kept_and_searched(engine: Engine) -> None:
    from monitor.analysis import Job, Publishing, analyse

    job = Job("in/a.txt", AGREEMENT_ARTICLE.encode(), {})
    kept = analyse(job, engine, Publishing("newsmon", 262144))
    dropped = analyse(job, engine, Publishing("newsmon", 262144, keep_text=False))
    assert kept.archive is not None and "Moscow" in kept.archive.text and "moscow" in kept.archive.search_text
    assert dropped.archive is not None
    assert (dropped.archive.text, dropped.archive.search_text) == ("", "")
    assert dropped.archive.search_title == "pact signed" and dropped.archive.source == "in"

"""Review state: reviewed alerts and stories, muted stories, snoozed rules; durable, recorded, reversible,
and read by the daemon when it commits (a muted story's follow-ups and a snoozed rule's alerts are archived,
never put in the outbox)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.processes import WATCHLISTS
from monitor.engine import Engine, load_engine
from monitor.history import AlertQuery, History
from tests.support import AGREEMENT_ARTICLE, BatchRunner, write_dated

#: one event from three outlets: the first opens the story, the second (a wire copy) is silent, the third
#: names a new entity and fires another rule: a follow-up
OPENING = (
    "Russia and North Korea sign customs pact\n\n"
    "MOSCOW — Russia and North Korea signed an agreement on customs cooperation on Monday, the Russian "
    "customs service said. The document sets out joint inspection of rail freight at the Khasan crossing "
    "and a shared register of traders in Primorye, with 120 wagons a day checked at Tumangang from 2027."
)
COPY = OPENING.replace("the Russian customs service said", "the customs service of Russia said")
#: the same report with a meeting added: a near-duplicate that fires another rule (it adds something)
FOLLOW_UP = OPENING + " Lavrov met Choe Son Hui in Moscow on Tuesday to discuss the agreement."


@pytest.fixture(scope="module")
def engine() -> Engine:
    return load_engine([WATCHLISTS])


def drop(run: BatchRunner, outlet: str, name: str, text: str) -> None:
    folder = run.inbox / outlet
    folder.mkdir(exist_ok=True)
    write_dated(folder / name, text)
    run.process([str(folder / name)])


def outbox_ids(run: BatchRunner) -> set[str]:
    return {m.message_id for m in run.store.pending(1000)}


def test_a_story_timeline_shows_its_opening_its_follow_up_and_its_silent_member(tmp_path: Path, engine: Engine) -> None:
    with BatchRunner(tmp_path, engine, stories=True) as run:
        drop(run, "wire-a", "1.txt", OPENING)
        drop(run, "wire-b", "1.txt", COPY)
        drop(run, "daily", "1.txt", FOLLOW_UP)
        history = History(tmp_path / "state" / "monitor.sqlite3")
        opening = history.alerts(AlertQuery(text="customs pact")).entries[-1]  # the oldest
        assert opening.story_id is not None and opening.story_kind == "new"
        story = history.story(opening.story_id)
        assert story is not None
        assert [a.kind for a in story.articles] == ["opening", "silent", "follow-up"]
        assert [a.source for a in story.articles] == ["wire-a", "wire-b", "daily"]
        assert story.outlets == ["daily", "wire-a", "wire-b"]
        assert story.articles[1].alerts == []  # silent: joined, no alert
        assert story.articles[2].adds and all(a.story_kind == "follow-up" for a in story.articles[2].alerts)
        assert story.articles[0].alerts[0].payload["evidence"]  # the evidence of each
        assert history.alerts(AlertQuery(story=opening.story_id)).total == len(outbox_ids(run))
        history.close()


def test_a_muted_story_gets_no_follow_up_in_the_outbox_but_keeps_it_in_the_archive(
    tmp_path: Path, engine: Engine
) -> None:
    with BatchRunner(tmp_path, engine, stories=True) as run:
        drop(run, "wire-a", "1.txt", OPENING)
        history = History(tmp_path / "state" / "monitor.sqlite3")
        [opening] = history.alerts(AlertQuery()).entries
        assert opening.story_id is not None
        assert history.set_muted(opening.story_id, True, by="asha")
        before = outbox_ids(run)
        drop(run, "daily", "1.txt", FOLLOW_UP)
        assert outbox_ids(run) == before  # nothing more went out
        follow_ups = [e for e in history.alerts(AlertQuery(story=opening.story_id)).entries if e.seq > opening.seq]
        assert follow_ups and {e.delivery for e in follow_ups} == {"muted"}
        story = history.story(opening.story_id)
        assert story is not None and story.muted
        assert history.set_muted(opening.story_id, False, by="asha")  # reversible
        story = history.story(opening.story_id)
        assert story is not None and not story.muted
        log = history._db.execute("SELECT action, target, by FROM review_log ORDER BY id").fetchall()
        assert log == [("muted", opening.story_id, "asha"), ("unmuted", opening.story_id, "asha")]
        assert not history.set_muted("no-such-story", True)
        history.close()


def test_a_snoozed_rule_is_archived_not_sent_until_the_snooze_ends(tmp_path: Path, engine: Engine) -> None:
    with BatchRunner(tmp_path, engine) as run:
        history = History(tmp_path / "state" / "monitor.sqlite3")
        history.snooze("russia-dprk-agreement", datetime.now(UTC) + timedelta(hours=1), by="ravi")
        assert set(history.snoozes()) == {"russia-dprk-agreement"}
        (run.inbox / "a.txt").write_text(AGREEMENT_ARTICLE)
        run.process(run.all_keys())
        assert outbox_ids(run) == set()
        [held] = history.alerts(AlertQuery()).entries
        assert held.delivery == "snoozed" and held.rule == "russia-dprk-agreement"
        history.snooze("russia-dprk-agreement", None, by="ravi")
        assert history.snoozes() == {}
        (run.inbox / "b.txt").write_text(AGREEMENT_ARTICLE.replace("today", "on Friday"))
        run.process(run.all_keys())
        assert len(outbox_ids(run)) == 1  # the snooze lifted: sent again (the snoozed one is not sent later)
        [sent] = history.alerts(AlertQuery(delivered=True)).entries
        assert sent.delivery == "sent" and sent.alert_id in outbox_ids(run)
        assert [e.delivery for e in history.alerts(AlertQuery(delivered=False)).entries] == ["snoozed"]
        history.close()


def test_a_snooze_that_has_ended_holds_nothing_back(tmp_path: Path, engine: Engine) -> None:
    with BatchRunner(tmp_path, engine) as run:
        history = History(tmp_path / "state" / "monitor.sqlite3")
        history.snooze("russia-dprk-agreement", datetime.now(UTC) - timedelta(seconds=1))
        assert history.snoozes() == {}
        (run.inbox / "a.txt").write_text(AGREEMENT_ARTICLE)
        run.process(run.all_keys())
        assert len(outbox_ids(run)) == 1
        history.close()


def test_review_state_survives_reopening_and_can_be_undone(tmp_path: Path, engine: Engine) -> None:
    with BatchRunner(tmp_path, engine, stories=True) as run:
        drop(run, "wire-a", "1.txt", OPENING)
        drop(run, "daily", "1.txt", FOLLOW_UP)
    path = tmp_path / "state" / "monitor.sqlite3"
    history = History(path)
    first, *rest = history.alerts(AlertQuery()).entries[::-1]
    assert history.set_reviewed(alert_id=first.alert_id, by="asha")
    assert not history.set_reviewed(alert_id="no-such-alert")
    history.close()
    history = History(path)
    assert [e.alert_id for e in history.alerts(AlertQuery(reviewed=True)).entries] == [first.alert_id]
    assert first.story_id is not None
    assert history.set_reviewed(story_id=first.story_id, by="asha")
    assert history.alerts(AlertQuery(reviewed=False)).total == 0
    story = history.story(first.story_id)
    assert story is not None and story.reviewed
    assert history.set_reviewed(story_id=first.story_id, reviewed=False)
    assert history.alerts(AlertQuery(reviewed=True)).total == 0
    assert len(rest) + 1 == history.alerts(AlertQuery(reviewed=False)).total
    with pytest.raises(ValueError, match="either alert_id or story_id"):
        history.set_reviewed()
    history.close()


def test_archived_payloads_are_the_alert_json_with_story(tmp_path: Path, engine: Engine) -> None:
    with BatchRunner(tmp_path, engine, stories=True) as run:
        drop(run, "wire-a", "1.txt", OPENING)
        sent = {m.message_id: json.loads(m.payload) for m in run.store.pending(10)}
        history = History(tmp_path / "state" / "monitor.sqlite3")
        assert {e.alert_id: e.payload for e in history.alerts(AlertQuery()).entries} == sent
        assert all(p["story"]["kind"] == "new" for p in sent.values())
        history.close()


def test_an_alert_carries_its_story_as_it_stands_now_and_a_silent_join_is_told(tmp_path: Path, engine: Engine) -> None:
    with BatchRunner(tmp_path, engine, stories=True) as run:
        drop(run, "wire-a", "1.txt", OPENING)
        history = History(tmp_path / "state" / "monitor.sqlite3")
        [opening] = history.alerts(AlertQuery(text="customs pact")).entries
        assert opening.story_now is not None and (opening.story_now.articles, opening.story_now.outlets) == (1, 1)
        read_up_to = history.last_article_id()
        drop(run, "wire-b", "1.txt", COPY)  # silent: no alert, but the story has a second outlet now
        [again] = history.alerts(AlertQuery(text="customs pact")).entries
        assert again.seq == opening.seq and again.story_now is not None
        assert (again.story_now.articles, again.story_now.outlets) == (2, 2)
        assert again.story_now.last_seen >= again.story_now.first_seen == opening.story_now.first_seen
        after, joined = history.silent_joins_after(read_up_to)
        assert after == history.last_article_id() > read_up_to
        assert [(s.story_id, s.outlets) for s in joined] == [(opening.story_id, 2)]
        assert history.silent_joins_after(after) == (after, [])
        history.close()

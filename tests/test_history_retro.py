"""Retro runs: a new or edited watchlist run over the archived texts by the engine's own path, printing what
`monitor tag --json` prints; published once as retro alerts, never twice, never an alert sent live."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from harness.processes import WATCHLISTS
from monitor.alerts import alert_id
from monitor.cli import main
from monitor.engine import load_engine
from monitor.history import AlertQuery, History
from monitor.history_schema import Holds
from monitor.retro import held, publish_retro, retro_run
from monitor.state import StateLock
from monitor.store import Store
from tests.support import AGREEMENT_ARTICLE, ARCHIVE_DAY, QUIET_ARTICLE, BatchRunner, numbered_pact, write_dated
from tests.test_history_review import COPY, FOLLOW_UP, OPENING, drop

PLANETS = (
    "entities:\n  - {id: mars, name: Mars, kind: place, aliases: {en: [Mars]}}\n"
    "rules:\n  - {id: red, title: Red planet, severity: low, all: [{entities: [mars]}]}\n"
)
MARS = "Mars\n\nRussia and North Korea signed a pact about Mars.\n"


@pytest.fixture
def archived(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state folder whose archive holds three articles, tagged with the shipped watchlists."""
    monkeypatch.setenv("MONITOR_STORIES__ENABLED", "false")
    monkeypatch.setenv("MONITOR_STATE__DIR", str(tmp_path / "state"))
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        write_dated(run.inbox / "mars.txt", MARS)
        write_dated(run.inbox / "pact.txt", AGREEMENT_ARTICLE)
        write_dated(run.inbox / "quiet.txt", QUIET_ARTICLE)
        run.process(run.all_keys())
        run.store.acknowledge([m.seq for m in run.store.pending(100)])  # delivered
    (tmp_path / "planets.yaml").write_text(PLANETS)
    return tmp_path


def test_a_new_watchlist_over_the_archive_prints_what_tag_json_prints(
    archived: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlist = str(archived / "planets.yaml")
    assert main(["tag", "--json", "--watchlist", watchlist, str(archived / "inbox" / "mars.txt")]) == 0
    tagged = json.loads(capsys.readouterr().out)
    assert main(["retro", "--watchlist", watchlist, "--since", ARCHIVE_DAY.isoformat(), "--json"]) == 0
    out, err = capsys.readouterr()
    [retro] = [json.loads(line) for line in out.splitlines()]
    assert retro.pop("article_id") > 0
    assert retro == tagged
    assert "3 archived articles" in err and "1 fired, 1 alerts" in err


def test_a_date_range_without_articles_fires_nothing(archived: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine = load_engine([archived / "planets.yaml"])
    db = archived / "state" / "monitor.sqlite3"
    assert list(retro_run(db, engine, ARCHIVE_DAY + timedelta(days=1))) == []
    assert len(list(retro_run(db, engine, ARCHIVE_DAY - timedelta(days=1), ARCHIVE_DAY))) == 3
    assert list(retro_run(db, engine, date(2000, 1, 1), ARCHIVE_DAY - timedelta(days=1))) == []


def test_published_retro_alerts_are_marked_retro_and_never_sent_twice(archived: Path) -> None:
    engine = load_engine([archived / "planets.yaml"])
    db = archived / "state" / "monitor.sqlite3"
    store = Store(db)
    first = publish_retro(store, retro_run(db, engine, ARCHIVE_DAY), engine, "newsmon", 262144)
    again = publish_retro(store, retro_run(db, engine, ARCHIVE_DAY), engine, "newsmon", 262144)
    assert (first.sent, first.already) == (1, 0)
    assert (again.sent, again.already) == (0, 1)
    [message] = store.pending(10)
    payload = json.loads(message.payload)
    assert payload["retro"] is True and payload["rule"]["id"] == "red" and message.topic == "newsmon/alerts/red"
    store.close()
    history = History(db)
    [retro] = history.alerts(AlertQuery(retro=True)).entries
    assert retro.delivery == "retro-sent" and retro.payload == payload
    assert all(not e.payload["retro"] for e in history.alerts(AlertQuery()).entries)  # the live ones stay apart
    streamed = [(e.seq, e.payload_json) for e in history.after(0)]  # the live stream: live only
    assert streamed == [(e.seq, e.payload_json) for e in history.alerts(AlertQuery(limit=200)).entries[::-1]]
    history.close()


def test_an_alert_sent_live_is_not_sent_again_by_a_retro_run(archived: Path) -> None:
    engine = load_engine([WATCHLISTS])  # the watchlists the archive was tagged with: everything was sent
    db = archived / "state" / "monitor.sqlite3"
    store = Store(db)
    done = publish_retro(store, retro_run(db, engine, ARCHIVE_DAY), engine, "newsmon", 262144)
    assert done.sent == 0 and done.already >= 1
    assert store.outbox_depth() == 0
    store.close()


def test_retro_without_a_state_database_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    watchlist = tmp_path / "planets.yaml"
    watchlist.write_text(PLANETS)
    code = main(["retro", "--watchlist", str(watchlist), "--since", "2026-01-01", "--state-dir", str(tmp_path / "x")])
    assert code == 2
    assert "no state database" in capsys.readouterr().err


def test_an_until_before_since_is_a_clear_error(archived: Path, capsys: pytest.CaptureFixture[str]) -> None:
    watchlist = str(archived / "planets.yaml")
    assert main(["retro", "--watchlist", watchlist, "--since", "2026-02-01", "--until", "2026-01-01"]) == 2
    assert "--until 2026-01-01 is before --since 2026-02-01" in capsys.readouterr().err


@pytest.mark.parametrize("day", ["20260101", "2026-W01-1", "2026-1-1"])
def test_retro_dates_are_strictly_year_month_day(archived: Path, day: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["retro", "--watchlist", str(archived / "planets.yaml"), "--since", day])
    assert exited.value.code == 2


def test_publishing_nothing_beside_a_daemon_does_not_say_it_delivers(
    archived: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = StateLock(archived / "state")
    assert lock.acquire()  # a daemon holds the state folder
    try:
        since = (ARCHIVE_DAY + timedelta(days=1)).isoformat()
        assert main(["retro", "--watchlist", str(archived / "planets.yaml"), "--since", since, "--publish"]) == 0
    finally:
        lock.release()
    err = capsys.readouterr().err
    assert "0 retro alerts queued" in err and "delivers them" not in err


def _live_holds(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A live archive (stories on) with an alert of each delivery a live daemon holds back: the follow-up
    of a muted story, a wire copy silent in its story, an alert of a snoozed rule; mute and snooze lifted
    since. Returns the database and the live delivery of every alert id (silent: held in the article)."""
    db = tmp_path / "state" / "monitor.sqlite3"
    with BatchRunner(tmp_path, load_engine([WATCHLISTS]), stories=True) as run:
        history = History(db)
        drop(run, "wire-a", "1.txt", OPENING)
        [opening] = history.alerts(AlertQuery()).entries
        assert opening.story_id is not None and history.set_muted(opening.story_id, True)
        drop(run, "wire-b", "1.txt", COPY)
        drop(run, "daily", "1.txt", FOLLOW_UP)
        history.snooze("russia-dprk-agreement", datetime.now(UTC) + timedelta(hours=1))
        drop(run, "weekly", "1.txt", numbered_pact(7))
        history.set_muted(opening.story_id, False)
        history.snooze("russia-dprk-agreement", None)
        run.store.acknowledge([m.seq for m in run.store.pending(100)])  # what went out live was delivered
        deliveries = {e.alert_id: e.delivery for e in history.alerts(AlertQuery(limit=200)).entries}
        history.close()
    return db, deliveries


def test_alerts_the_live_daemon_held_back_are_never_published_by_a_retro_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db, deliveries = _live_holds(tmp_path)
    assert {"sent", "muted", "snoozed"} <= set(deliveries.values())
    engine = load_engine([WATCHLISTS])
    found = list(retro_run(db, engine, ARCHIVE_DAY))
    silent = [f for f in found if "silent" in f.live.values()]
    assert silent and all(f.article.source == "wire-b" for f in silent)
    store = Store(db)
    done = publish_retro(store, found, engine, "newsmon", 262144)  # every mention: no story grouping
    assert done.sent == 0 and store.outbox_depth() == 0
    assert done.held == sum(
        1 for f in found for hit in f.result.rules if f.live.get(alert_id(f.article.sha256, hit.rule)) != "sent"
    )
    assert done.held >= 3
    store.close()
    monkeypatch.setenv("MONITOR_STATE__DIR", str(tmp_path / "state"))
    assert main(["retro", "--watchlist", str(WATCHLISTS), "--since", ARCHIVE_DAY.isoformat(), "--every-mention"]) == 0
    out = capsys.readouterr().out
    assert "(held live: muted)" in out and "(held live: snoozed)" in out and "(held live: silent)" in out
    assert "would alert" not in out


def test_a_muted_story_and_a_snoozed_rule_hold_retro_alerts_back(archived: Path) -> None:
    engine = load_engine([archived / "planets.yaml"])
    db = archived / "state" / "monitor.sqlite3"
    history = History(db)
    history.snooze("red", datetime.now(UTC) + timedelta(hours=1))
    store = Store(db)
    done = publish_retro(store, retro_run(db, engine, ARCHIVE_DAY), engine, "newsmon", 262144)
    assert (done.sent, done.held) == (0, 1) and store.outbox_depth() == 0
    history.snooze("red", None)
    [mars] = [f for f in retro_run(db, engine, ARCHIVE_DAY) if f.result.rules]
    muted = replace(mars, live_story="s1")
    assert held(muted, "x", "red", Holds(frozenset({"s1"}), frozenset())) == "muted"
    assert held(mars, "x", "red", Holds(frozenset({"s1"}), frozenset())) is None
    assert publish_retro(store, [mars], engine, "newsmon", 262144).sent == 1
    store.close()
    history.close()


#: a watchlist the live run did not have: it fires on every article of the customs story
RAIL = (
    "entities:\n  - {id: khasan, name: Khasan, kind: place, aliases: {en: [Khasan]}}\n"
    "rules:\n  - {id: rail, title: Rail crossing, severity: low, all: [{entities: [khasan]}]}\n"
)
#: one story's five articles: the opening and four wire copies that add nothing
STORY = (
    OPENING,
    COPY,
    OPENING.replace("on Monday", "on Monday morning"),
    OPENING.replace("120 wagons", "about 120 wagons"),
    OPENING + " Officials confirmed the plan.",
)


@pytest.mark.parametrize(("flags", "queued"), [((), 1), (("--every-mention",), 5)])
def test_a_retro_run_over_one_story_publishes_its_opening_only(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flags: tuple[str, ...],
    queued: int,
) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        for n, text in enumerate(STORY):
            drop(run, f"outlet-{n}", "1.txt", text)
        run.store.acknowledge([m.seq for m in run.store.pending(100)])
    (tmp_path / "rail.yaml").write_text(RAIL)
    monkeypatch.setenv("MONITOR_STATE__DIR", str(tmp_path / "state"))
    lock = StateLock(tmp_path / "state")
    assert lock.acquire()  # a daemon delivers what is queued
    capsys.readouterr()  # the batch run's log lines
    try:
        argv = ["retro", "--watchlist", str(tmp_path / "rail.yaml"), "--since", ARCHIVE_DAY.isoformat(), "--publish"]
        assert main([*argv, *flags]) == 0
    finally:
        lock.release()
    out, err = capsys.readouterr()
    assert f"{queued} retro alerts queued" in err
    store = Store(tmp_path / "state" / "monitor.sqlite3")
    stories = [json.loads(m.payload)["story"] for m in store.pending(10)]
    store.close()
    assert len(stories) == queued
    if flags:
        assert stories == [None] * 5 and out.count("would alert") == 5
    else:
        assert stories[0]["kind"] == "new" and stories[0]["articles"] == 1
        assert out.count("[new]") == 1 and out.count("(silent)") == 4 and "1 new, 4 silent" in err


def test_retro_json_with_stories_on_prints_each_articles_story(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        for n, text in enumerate(STORY[:3]):
            drop(run, f"outlet-{n}", "1.txt", text)
    (tmp_path / "rail.yaml").write_text(RAIL)
    monkeypatch.setenv("MONITOR_STATE__DIR", str(tmp_path / "state"))
    capsys.readouterr()  # the batch run's log lines
    assert (
        main(["retro", "--watchlist", str(tmp_path / "rail.yaml"), "--since", ARCHIVE_DAY.isoformat(), "--json"]) == 0
    )
    out = capsys.readouterr().out
    docs = [json.loads(line) for line in out.splitlines()]
    assert [doc["story"]["kind"] for doc in docs] == ["new", "silent", "silent"]
    assert len({doc["story"]["id"] for doc in docs}) == 1 and docs[-1]["story"]["articles"] == 3

"""The console's retro run (`POST /api/retro`) groups its articles into stories as `monitor retro` does:
one opening per story, its copies silent, and only the opening published."""

from __future__ import annotations

from pathlib import Path

from harness.processes import WATCHLISTS
from monitor.engine import load_engine
from monitor.web.retro import RetroSetup, run
from tests.support import ARCHIVE_DAY, BatchRunner
from tests.test_history_retro import RAIL, STORY
from tests.test_history_review import drop


def archived_story(tmp_path: Path) -> RetroSetup:
    """One story's five articles in the archive, their live alerts delivered."""
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as runner:
        for n, text in enumerate(STORY):
            drop(runner, f"outlet-{n}", "1.txt", text)
        runner.store.acknowledge([m.seq for m in runner.store.pending(100)])
    return RetroSetup(tmp_path / "state", [WATCHLISTS], "newsmon", 262_144)


def test_a_console_retro_run_over_one_story_lists_one_opening_and_publishes_it_alone(tmp_path: Path) -> None:
    setup = archived_story(tmp_path)
    found = run(setup, {"since": ARCHIVE_DAY.isoformat(), "watchlist": RAIL})
    kinds = [result["story"]["kind"] for result in found["results"]]
    assert (found["articles"], found["fired"], kinds) == (5, 5, ["new", "silent", "silent", "silent", "silent"])
    assert len({result["story"]["id"] for result in found["results"]}) == 1
    sent = run(setup, {"since": ARCHIVE_DAY.isoformat(), "watchlist": RAIL, "publish": True})
    assert (sent["published"], sent["already_sent"], sent["held"]) == (1, 0, 4)


def test_every_mention_runs_the_console_retro_without_stories(tmp_path: Path) -> None:
    setup = archived_story(tmp_path)
    found = run(setup, {"since": ARCHIVE_DAY.isoformat(), "watchlist": RAIL, "every_mention": True, "publish": True})
    assert [result["story"] for result in found["results"]] == [None] * 5
    assert (found["published"], found["held"]) == (5, 0)

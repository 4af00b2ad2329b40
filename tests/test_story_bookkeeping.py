"""The story book's bookkeeping: pruning robust to arrival order, implausible dates, per-batch undo."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.processes import WATCHLISTS
from monitor.articles import parse_article
from monitor.config import StoriesSettings
from monitor.dating import article_time
from monitor.engine import load_engine
from monitor.store import DB_NAME
from monitor.store_stories import STORY_SCHEMA, StoryRecord, load_stories, save_story
from monitor.stories import STORY_TERMS_MAX, STORY_WORDS, STORY_WORDS_MAX, StoryBook
from monitor.story_features import StoryArticle
from monitor.story_similarity import MAX_SIMILARITY
from tests.support import BatchRunner
from tests.test_stories import MEETING_EN, SIGNING_EN, TROOPS_EN, WIRE_COPY, features

JAN5 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine():  # type: ignore[no-untyped-def]
    return load_engine([WATCHLISTS])


def other_news(book: StoryBook, count: int, at: datetime = MARCH) -> None:
    """``count`` unrelated articles, each settled as its batch would be."""
    for n in range(count):
        words = frozenset({f"mar{n}x", f"mar{n}y"})
        book.place(
            StoryArticle(f"mar-{n}", at + timedelta(minutes=n), "bg", frozenset({f"e{n}"}), (), frozenset(), b"", words)
        )
        book.settle()


def test_copies_arriving_after_newer_articles_still_join_their_original(engine) -> None:  # type: ignore[no-untyped-def]
    book = StoryBook()
    original = book.place(features(engine, SIGNING_EN, JAN5))
    book.settle()
    other_news(book, 40)  # a backfill: March's articles come between January's and their copies
    copy = book.place(features(engine, WIRE_COPY, JAN5, "other/b.txt"))
    assert original is not None and copy is not None
    assert (copy.story.id, copy.how, copy.kind) == (original.story.id, "near-duplicate", "silent")


def test_a_story_past_the_window_and_untouched_for_keep_placements_is_closed(engine) -> None:  # type: ignore[no-untyped-def]
    book = StoryBook(keep_placements=5)
    original = book.place(features(engine, SIGNING_EN, JAN5))
    book.settle()
    other_news(book, 40)
    assert original is not None and original.story.id not in book.stories  # memory stays bounded
    copy = book.place(features(engine, WIRE_COPY, JAN5, "other/b.txt"))
    assert copy is not None and copy.how == "opened"


def test_a_restart_reads_back_the_stories_of_the_last_articles_whatever_their_dates(tmp_path: Path, engine) -> None:  # type: ignore[no-untyped-def]
    db = sqlite3.connect(tmp_path / "s.db")
    db.executescript(STORY_SCHEMA)
    first = StoryBook()
    for article in (features(engine, SIGNING_EN, JAN5), features(engine, TROOPS_EN, MARCH, "wire/t.txt")):
        placed = first.place(article)
        assert placed is not None
        save_story(db, StoryRecord(placed.story, article))
    again = StoryBook()
    assert load_stories(db, again) == 2
    copy = again.place(features(engine, WIRE_COPY, JAN5, "other/b.txt"))
    assert copy is not None and copy.how == "near-duplicate"


def test_a_file_time_far_in_the_future_is_not_the_articles_date() -> None:
    article = parse_article("a.txt", b"Russia and North Korea\n\nA text without a date.")
    for year in (2446, 9999):
        dated = article_time(article, datetime(year, 12, 31, tzinfo=UTC).timestamp())
        assert dated is not None and dated.when - datetime.now(UTC) < timedelta(minutes=1)


def test_a_json_date_far_in_the_future_is_not_the_articles_date() -> None:
    article = parse_article("a.json", b'{"title": "t", "text": "Russia", "published_at": "9999-12-31T00:00:00Z"}')
    dated = article_time(article, None)
    assert dated is None or dated.when.year < 9999


def test_a_story_dated_at_the_end_of_time_costs_only_itself(engine) -> None:  # type: ignore[no-untyped-def]
    book = StoryBook()
    end = datetime.max.replace(tzinfo=UTC)
    assert book.place(features(engine, SIGNING_EN, end - timedelta(hours=2))) is not None
    book.settle()
    placed = book.place(features(engine, MEETING_EN, end - timedelta(hours=1), "other/b.txt"))
    assert placed is not None  # compared with a story whose window reaches past datetime.max: no OverflowError
    book.settle()


def test_a_file_touched_into_year_2446_closes_no_open_story(tmp_path: Path) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS]), stories=True) as runner:
        (runner.inbox / "a.txt").write_text(SIGNING_EN, encoding="utf-8")
        runner.process(runner.all_keys())
        future = runner.inbox / "b.txt"
        future.write_text(TROOPS_EN, encoding="utf-8")
        stamp = datetime(2446, 1, 1, tzinfo=UTC).timestamp()
        os.utime(future, (stamp, stamp))
        [outcome] = runner.process([str(future)])
        assert outcome.result == "alerted"
    db = sqlite3.connect(tmp_path / "state" / DB_NAME)
    (latest,) = db.execute("SELECT max(last_at) FROM stories").fetchone()
    db.close()
    assert datetime.fromisoformat(latest).year < 2446


def test_rolling_back_one_batch_leaves_another_batchs_placements(engine) -> None:  # type: ignore[no-untyped-def]
    book = StoryBook()
    first, second = book.mark(), book.mark()
    opened = book.place(features(engine, SIGNING_EN, JAN5), first)
    copy = book.place(features(engine, WIRE_COPY, JAN5 + timedelta(hours=1), "other/b.txt"), second)
    assert opened is not None and copy is not None and copy.kind == "silent"
    book.settle(second)  # the copy's batch commits first
    book.rollback(first)  # the original's does not
    story = book.stories[opened.story.id]
    assert story.articles == 1 and not story.alerted  # the copy's alerts never went out
    assert book.newest == JAN5 + timedelta(hours=1)
    retry = book.place(features(engine, SIGNING_EN, JAN5), book.mark())
    assert retry is not None and retry.kind == "new"  # its retry alerts: it is not taken for a known copy


def test_settling_one_batch_keeps_another_batchs_undo(engine) -> None:  # type: ignore[no-untyped-def]
    book = StoryBook()
    first, second = book.mark(), book.mark()
    placed = book.place(features(engine, SIGNING_EN, JAN5), first)
    book.place(features(engine, TROOPS_EN, MARCH, "wire/t.txt"), second)
    book.settle(second)
    book.rollback(first)
    assert placed is not None and placed.story.id not in book.stories and len(book.stories) == 1
    assert book.newest == MARCH


def test_the_threshold_cannot_be_set_past_what_similarity_reaches() -> None:
    bound = StoriesSettings.model_fields["threshold"].metadata
    assert [getattr(rule, "le", None) for rule in bound if hasattr(rule, "le")] == [pytest.approx(MAX_SIMILARITY)]


def test_a_long_storys_terms_and_words_stop_growing_so_its_row_stays_bounded() -> None:
    """A story that runs for thousands of articles (a war, a summit week) must not cost more with each one:
    it is compared and its row rewritten with every article it gains."""
    book = StoryBook(threshold=0.4)  # joined on entities and rule alone: a window this small has no rare word
    story_id = ""
    for n in range(200):
        placed = book.place(
            StoryArticle(
                f"long-{n}",
                JAN5 + timedelta(minutes=n),
                f"outlet{n % 7}",
                frozenset({"russia", "north-korea"}),
                (("russia-dprk-meeting", "new"),),
                frozenset({"meeting", *(f"meeting:talk{n}-{k}" for k in range(30))}),
                b"",
                frozenset({f"w{n}a", f"w{n}b"}),
            )
        )
        book.settle()
        assert placed is not None
        story_id = story_id or placed.story.id
        assert placed.story.id == story_id  # one story, else the test measures nothing
    story = book.stories[story_id]
    assert story.articles == 200
    assert len(story.terms) <= STORY_TERMS_MAX < 200
    assert len(story.words) <= STORY_WORDS_MAX + STORY_WORDS + 2  # plus its event days

"""Cross-script story features (monitor/story_features.py): the event's day and its figures, which Hindi and
English reports of one event share when they share little else but the countries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.engine.result import Novelty
from monitor.stories import StoryBook
from monitor.story_features import StoryArticle, event_day, numbers, words_of

FRIDAY = datetime(2026, 2, 27, 9, 0, tzinfo=UTC)
AGREEMENT: tuple[tuple[str, Novelty], ...] = (("russia-dprk-agreement", "new"),)


def test_the_event_day_is_the_weekday_the_text_names_up_to_the_articles_date_in_english_and_hindi() -> None:
    assert event_day(words_of("Russia and North Korea signed an agreement on Thursday."), FRIDAY) == "@2026-02-26"
    assert event_day(words_of("रूस और उत्तर कोरिया ने गुरुवार को समझौते पर हस्ताक्षर किए।"), FRIDAY) == "@2026-02-26"
    assert event_day(words_of("The talks ended on Friday."), FRIDAY) == "@2026-02-27"


def test_without_a_weekday_the_event_day_is_the_articles_own_date() -> None:
    assert event_day(words_of("Russia and North Korea signed an agreement."), FRIDAY) == "@2026-02-27"


def test_figures_lose_their_group_separators_in_both_scripts() -> None:
    assert "3000" in numbers("3,000 workers") & numbers("३,००० श्रमिकों")
    assert numbers("3,00,000 टन") == frozenset({"300000"})
    assert numbers("a 5 per cent rise") == frozenset()


def _article(key: str, day: str, words: set[str], rules: tuple[tuple[str, Novelty], ...]) -> StoryArticle:
    entities = frozenset({"russia", "north-korea"})
    return StoryArticle(key, FRIDAY, key, entities, rules, frozenset({"agreement"}), b"", frozenset({*words, day}))


def _book() -> StoryBook:
    """A window with other news in it, so that a shared name is rare against something."""
    book = StoryBook()
    for n in range(40):
        words = frozenset({f"bg{n}x", f"bg{n}y", "rs", "krn"})
        past = FRIDAY - timedelta(hours=1)
        book.place(StoryArticle(f"bg-{n}", past, "bg", frozenset({"usa"}), (), frozenset(), b"", words))
    book.settle()
    return book


def test_reports_of_one_rule_on_one_event_day_join_though_they_share_one_name() -> None:
    book = _book()
    english = book.place(_article("en", "@2026-02-26", {"vldvstk", "dsl", "rlvy"}, AGREEMENT))
    hindi = book.place(_article("hi", "@2026-02-26", {"vldvstk", "djl", "rl"}, AGREEMENT))
    assert english is not None and hindi is not None
    assert hindi.story.id == english.story.id


def test_the_same_rule_on_another_event_day_opens_another_story() -> None:
    book = _book()
    english = book.place(_article("en", "@2026-02-23", {"vldvstk", "dsl", "rlvy"}, AGREEMENT))
    hindi = book.place(_article("hi", "@2026-02-26", {"vldvstk", "djl", "rl"}, AGREEMENT))
    assert english is not None and hindi is not None
    assert hindi.story.id != english.story.id


def test_the_event_day_alone_does_not_join_articles_that_fired_no_rule() -> None:
    book = _book()
    english = book.place(_article("en", "@2026-02-26", {"vldvstk", "dsl", "rlvy"}, ()))
    hindi = book.place(_article("hi", "@2026-02-26", {"vldvstk", "djl", "rl"}, ()))
    assert english is not None and hindi is not None
    assert hindi.story.id != english.story.id

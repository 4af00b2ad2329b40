"""Subject ids (monitor/story_concepts.py): what an event is about, the same id in Hindi and English, so
that two reports of one accord share more than the two countries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.engine.result import Novelty
from monitor.stories import StoryBook
from monitor.story_concepts import subjects
from monitor.story_features import StoryArticle, words_of

MONDAY = datetime(2026, 2, 23, 9, 0, tzinfo=UTC)
AGREEMENT: tuple[tuple[str, Novelty], ...] = (("russia-dprk-agreement", "new"),)


def test_an_english_and_a_hindi_word_for_one_subject_give_one_id() -> None:
    english = subjects(words_of("Russia and North Korea signed a customs accord on rail freight."))
    hindi = subjects(words_of("रूस और उत्तर कोरिया ने रेल माल पर सीमा शुल्क समझौते पर हस्ताक्षर किए।"))
    assert {"#customs", "#rail"} <= english & hindi


def test_inflected_forms_match_by_their_prefix_in_both_scripts() -> None:
    assert subjects(words_of("3,000 workers")) == frozenset({"#labour"})
    assert subjects(words_of("3,000 श्रमिकों को")) == frozenset({"#labour"})


def test_a_word_that_only_begins_like_a_subject_word_is_not_one() -> None:
    # `port` is whole-word only: `support` and `report` are not about a port
    assert subjects(words_of("Officials support the report.")) == frozenset()


def test_nukta_variants_name_the_same_subject() -> None:
    assert subjects(words_of("वीज़ा")) == subjects(words_of("वीजा")) == frozenset({"#visa"})


def _book() -> StoryBook:
    """A window with other news in it, so that a subject is rare against something."""
    book = StoryBook()
    for n in range(40):
        words = frozenset({f"bg{n}x", f"bg{n}y", "rs", "krn"})
        past = MONDAY - timedelta(hours=1)
        book.place(StoryArticle(f"bg-{n}", past, "bg", frozenset({"usa"}), (), frozenset(), b"", words))
    book.settle()
    return book


def _report(key: str, text: str, at: datetime) -> StoryArticle:
    """A report that shares no word skeleton with the other language's (only its subjects and day)."""
    words = frozenset({f"{key}1", f"{key}2"}) | subjects(words_of(text)) | {f"@{at.date().isoformat()}"}
    countries = frozenset({"russia", "north-korea"})
    return StoryArticle(key, at, key, countries, AGREEMENT, frozenset({"agreement"}), b"", words)


def test_a_hindi_and_an_english_report_of_one_accord_join_by_their_subjects() -> None:
    book = _book()
    english = book.place(_report("en", "signed a customs accord on rail freight and fishing", MONDAY))
    hindi = book.place(_report("hi", "सीमा शुल्क, रेल और मछली पकड़ने पर समझौता", MONDAY + timedelta(hours=3)))
    assert english is not None and hindi is not None
    assert hindi.story.id == english.story.id


def test_another_subject_between_the_same_countries_on_the_same_day_opens_another_story() -> None:
    book = _book()
    english = book.place(_report("en", "signed a customs accord on rail freight and fishing", MONDAY))
    hindi = book.place(_report("hi", "पर्यटन और उड़ानों पर समझौता", MONDAY + timedelta(hours=3)))
    assert english is not None and hindi is not None
    assert hindi.story.id != english.story.id


def test_a_story_keeps_every_subject_of_its_first_article_though_they_are_not_its_rarest_words() -> None:
    book = StoryBook()
    for n in range(40):  # customs news all week: `#customs` is no rare word
        words = frozenset({f"bg{n}x", "#customs"})
        past = MONDAY - timedelta(hours=1)
        book.place(StoryArticle(f"bg-{n}", past, "bg", frozenset({"usa"}), (), frozenset(), b"", words))
    rare = frozenset(f"rare{n}" for n in range(30))
    article = StoryArticle(
        "en", MONDAY, "en", frozenset({"russia"}), AGREEMENT, frozenset(), b"", rare | {"#customs", "#rail"}
    )
    placed = book.place(article)
    assert placed is not None
    assert {"#customs", "#rail"} <= placed.story.words


def test_a_story_keeps_the_ids_of_its_first_three_articles_only() -> None:
    book = StoryBook()
    for n in range(40):  # `#s3` and `#s4` are in the news all week: no rare words
        words = frozenset({f"bg{n}x", "#s3", "#s4"})
        book.place(StoryArticle(f"bg-{n}", MONDAY, "bg", frozenset({"usa"}), (), frozenset(), b"", words))
    for n in range(5):  # reports sharing their names (one story), each naming one more subject
        own = {f"own{n}x{k}" for k in range(6)}  # with the names, rarer than a common subject
        words = frozenset({"tmn", "vldvstk", "rsn", "prmr", "ksn", "2027", f"#s{n}", *own})
        article = StoryArticle(f"a{n}", MONDAY, "o", frozenset({"russia"}), AGREEMENT, frozenset(), b"", words)
        placed = book.place(article)
    assert placed is not None and placed.story.articles == 5
    assert {"#s0", "#s1", "#s2"} <= placed.story.words
    assert not {"#s3", "#s4"} & placed.story.words

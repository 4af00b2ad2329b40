"""Story grouping (monitor/stories.py): which articles join one story, and which alerts go out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.articles import parse_article
from monitor.engine import load_engine
from monitor.stories import StoryBook
from monitor.story_features import StoryArticle, outlet_of, signature_of, story_article
from monitor.story_model import story_id

WATCHLISTS = Path(__file__).resolve().parent.parent / "config" / "watchlists"
DAY0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)

SIGNING_EN = (
    "Russia and North Korea sign customs agreement\n\n"
    "MOSCOW — Russia and North Korea signed an agreement on customs cooperation on Monday, the Russian "
    "customs service said. The document sets out joint inspection of rail freight at the Khasan crossing "
    "and a shared register of traders in Primorye, with 120 wagons a day checked at Tumangang from 2027. "
    "A deputy minister signed for Russia and the North Korean ambassador "
    "signed for Pyongyang, the service said in a statement."
)
#: a wire copy: another outlet's byline and one sentence changed
WIRE_COPY = SIGNING_EN.replace(
    "A deputy minister signed for Russia",
    "Officials said the first joint inspections would start in March, and a deputy minister signed for Russia",
)
SIGNING_HI = (
    "रूस और उत्तर कोरिया के बीच सीमा शुल्क समझौता\n\n"
    "मॉस्को। रूस और उत्तर कोरिया ने सोमवार को सीमा शुल्क सहयोग के समझौते पर हस्ताक्षर किए। "
    "इसमें खासान सीमा चौकी पर रेल माल की संयुक्त जांच और प्रिमोर्ये के व्यापारियों के साझा रजिस्टर का प्रावधान है। "
    "2027 से तुमांगांग में रोज 120 वैगनों की जांच होगी।"
)
TROOPS_EN = (
    "North Korean shells reach Russian front\n\n"
    "North Korea shipped artillery shells and missiles to Russia this week, officials in Seoul said, "
    "the latest transfer of weapons for the war in Ukraine."
)
MEETING_EN = (
    "Lavrov meets Choe Son Hui in Moscow\n\n"
    "Russian Foreign Minister Sergei Lavrov met North Korean Foreign Minister Choe Son Hui in Moscow on "
    "Tuesday, a day after the two countries signed the customs agreement on rail freight at the Khasan "
    "crossing and Tumangang, 120 wagons a day from 2027 and a register of traders in Primorye, the ministry said."
)


@pytest.fixture(scope="module")
def engine():  # type: ignore[no-untyped-def]
    return load_engine([WATCHLISTS])


def book_in_use(**options: object) -> StoryBook:
    """A book whose window already holds other news (rare words are rare against something)."""
    book = StoryBook(**options)  # type: ignore[arg-type]
    for n in range(40):
        words = frozenset({f"bg{n}x", f"bg{n}y", "rs", "krn"})
        book.place(
            StoryArticle(f"bg-{n}", DAY0 - timedelta(hours=1), "bg", frozenset({"usa"}), (), frozenset(), b"", words)
        )
    book.settle()
    return book


def features(engine, text: str, at: datetime, name: str = "wire/a.txt") -> StoryArticle:  # type: ignore[no-untyped-def]
    article = parse_article(name, text.encode())
    return story_article(article, engine.tag(article.text), at)


def test_a_wire_copy_with_a_changed_sentence_joins_its_original_as_a_near_duplicate(engine) -> None:  # type: ignore[no-untyped-def]
    book = StoryBook()
    first = book.place(features(engine, SIGNING_EN, DAY0, "wire-a/1.txt"))
    copy = book.place(features(engine, WIRE_COPY, DAY0 + timedelta(hours=3), "wire-b/1.txt"))
    assert first is not None and copy is not None
    assert copy.story.id == first.story.id
    assert copy.how == "near-duplicate"
    assert copy.kind == "silent"
    assert copy.story.outlets == {"wire-a", "wire-b"}


def test_near_duplicate_signatures_estimate_a_high_jaccard_and_a_different_text_a_low_one() -> None:
    from monitor.story_features import StoryArticle as SA

    def minhash(text: str):  # type: ignore[no-untyped-def]
        return SA("k", DAY0, "", frozenset(), (), frozenset(), signature_of(text)).minhash

    assert minhash(SIGNING_EN).jaccard(minhash(WIRE_COPY)) >= 0.5
    assert minhash(SIGNING_EN).jaccard(minhash(TROOPS_EN)) < 0.2


def test_a_hindi_and_an_english_report_of_one_signing_join_by_entities_terms_and_names(engine) -> None:  # type: ignore[no-untyped-def]
    book = book_in_use()
    english = book.place(features(engine, SIGNING_EN, DAY0))
    hindi = book.place(features(engine, SIGNING_HI, DAY0 + timedelta(hours=20)))
    assert english is not None and hindi is not None
    assert hindi.story.id == english.story.id
    assert hindi.how == "similar"


def test_the_same_two_countries_in_another_event_open_another_story(engine) -> None:  # type: ignore[no-untyped-def]
    book = StoryBook()
    signing = book.place(features(engine, SIGNING_EN, DAY0))
    shells = book.place(features(engine, TROOPS_EN, DAY0 + timedelta(days=1)))
    assert signing is not None and shells is not None
    assert shells.story.id != signing.story.id
    assert shells.kind == "new"


def test_an_article_past_the_window_opens_a_new_story(engine) -> None:  # type: ignore[no-untyped-def]
    book = book_in_use(window=timedelta(hours=72))
    first = book.place(features(engine, SIGNING_EN, DAY0))
    later = book.place(features(engine, SIGNING_HI, DAY0 + timedelta(hours=80)))
    assert first is not None and later is not None
    assert later.story.id != first.story.id
    assert later.kind == "new"


def test_a_later_article_with_a_rule_the_story_had_not_fired_is_a_follow_up(engine) -> None:  # type: ignore[no-untyped-def]
    book = book_in_use()
    first = book.place(features(engine, SIGNING_EN, DAY0))
    meeting = book.place(features(engine, MEETING_EN, DAY0 + timedelta(days=1)))
    assert first is not None and meeting is not None
    assert meeting.story.id == first.story.id
    assert meeting.kind == "follow-up"
    assert any(add.startswith("rule:russia-dprk-meeting") for add in meeting.adds)


def test_a_later_article_that_adds_nothing_is_silent(engine) -> None:  # type: ignore[no-untyped-def]
    book = book_in_use()
    book.place(features(engine, SIGNING_EN, DAY0))
    again = book.place(features(engine, SIGNING_HI, DAY0 + timedelta(hours=5)))
    assert again is not None and again.kind == "silent" and again.adds == ()


def test_a_new_novelty_for_a_rule_makes_a_follow_up() -> None:
    book = book_in_use()
    base = dict(
        outlet="x",
        entities=frozenset({"russia", "north-korea"}),
        terms=frozenset({"agreement"}),
        words=frozenset({"ksn", "prmr", "tmn", "tmngng", "120", "2027"}),  # rare names both articles share
    )
    plan = StoryArticle("a", DAY0, rules=(("russia-dprk-agreement", "speculative"),), **base)  # type: ignore[arg-type]
    signed = StoryArticle("b", DAY0 + timedelta(days=1), rules=(("russia-dprk-agreement", "new"),), **base)  # type: ignore[arg-type]
    opened, follow = book.place(plan), book.place(signed)
    assert opened is not None and opened.kind == "new"
    assert follow is not None and follow.kind == "follow-up"
    assert follow.adds == ("novelty:russia-dprk-agreement",)


def test_the_story_id_comes_from_the_opening_article() -> None:
    book = StoryBook()
    art = StoryArticle("sha-1", DAY0, "x", frozenset({"russia"}), (), frozenset())
    placed = book.place(art)
    assert placed is not None and placed.story.id == story_id("sha-1")


def test_an_article_that_names_no_entity_belongs_to_no_story() -> None:
    assert StoryBook().place(StoryArticle("k", DAY0, "x", frozenset(), (), frozenset())) is None


def test_a_rollback_undoes_what_was_placed_since_the_mark(engine) -> None:  # type: ignore[no-untyped-def]
    book = StoryBook()
    book.place(features(engine, SIGNING_EN, DAY0))
    book.settle()
    mark = book.mark()
    follow = book.place(features(engine, MEETING_EN, DAY0 + timedelta(hours=1)), mark)
    fresh = book.place(features(engine, TROOPS_EN, DAY0 + timedelta(hours=2)), mark)
    assert follow is not None and fresh is not None
    book.rollback(mark)
    assert list(book.stories) == [story_id(parse_article("x.txt", SIGNING_EN.encode()).sha256)]
    [story] = book.stories.values()
    assert story.articles == 1 and "russia-dprk-meeting" not in story.rules
    again = book.place(features(engine, TROOPS_EN, DAY0 + timedelta(hours=2)))
    assert again is not None and again.kind == "new"  # its opening never committed: it opens again


def test_the_outlet_is_the_json_source_else_the_url_host_else_the_folder() -> None:
    doc = b'{"title": "t", "body": "b", "source": "Asia Wire", "url": "https://www.example.org/x"}'
    assert outlet_of(parse_article("in/a.json", doc)) == "Asia Wire"
    doc = b'{"title": "t", "body": "b", "url": "https://www.example.org/x"}'
    assert outlet_of(parse_article("in/a.json", doc)) == "example.org"
    assert outlet_of(parse_article("feeds/daily-news/a.txt", b"title\n\nbody")) == "daily-news"


def test_tail_shows_a_follow_ups_story_and_a_novelty_other_than_new_briefly() -> None:
    from monitor.tail import render_alert

    alert = {
        "id": "a1",
        "rule": {"id": "russia-dprk-agreement", "title": "t", "severity": "low"},
        "article": {"title": "Pact", "path": "/in/a.txt"},
        "evidence": [],
        "novelty": "reference",
        "story": {"id": "0123456789abcdef", "kind": "follow-up", "articles": 3, "adds": ["rule:russia-dprk-meeting"]},
    }
    line = render_alert(alert).plain.splitlines()[0]
    assert "(reference)" in line
    assert "[story 01234567 follow-up, 3 articles: rule:russia-dprk-meeting]" in line


def test_two_reports_on_the_same_countries_sharing_only_two_middling_words_are_two_events() -> None:
    """Words found in a few articles of every hundred (`missile`, `summit` in a busy window) say little of
    which event it is: two such words and the same two countries do not make one story. With 100,000
    articles in the window a story that joined on that much would soon swallow other events silently."""
    book = StoryBook()
    for n in range(400):  # the window: `w1` and `w2` each in 6 of its articles, with other countries
        shared = {"w1", "w2"} if n < 6 else set()
        words = frozenset({f"bg{n}x", f"bg{n}y", *shared})
        book.place(
            StoryArticle(f"bg-{n}", DAY0 - timedelta(hours=2), "bg", frozenset({f"e{n}"}), (), frozenset(), b"", words)
        )
    book.settle()
    sides = frozenset({"russia", "north-korea"})
    first = book.place(StoryArticle("a", DAY0, "x", sides, (), frozenset(), b"", frozenset({"w1", "w2", "ax", "ay"})))
    second = book.place(StoryArticle("b", DAY0, "y", sides, (), frozenset(), b"", frozenset({"w1", "w2", "bx", "by"})))
    assert first is not None and second is not None
    assert second.how == "opened" and second.story.id != first.story.id
    # four rare names of their own are one event
    names = frozenset({"tmn", "ksn", "prmr", "vldvstk"})
    third = book.place(StoryArticle("c", DAY0, "z", sides, (), frozenset(), b"", names | {"cx"}))
    fourth = book.place(StoryArticle("d", DAY0, "w", sides, (), frozenset(), b"", names | {"dx"}))
    assert third is not None and fourth is not None and fourth.story.id == third.story.id

"""Evidence ids (monitor/story_features.py `evidence_ids`): what a fired rule's evidence sentences name, as
ids Hindi and English share; the article's background (other people, other subjects) is left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.engine import load_engine
from monitor.story_features import evidence_ids, next_day

DAYS = ("@2026-03-07",)

WATCHLISTS = Path(__file__).resolve().parent.parent / "config" / "watchlists"

MEETING_EN = (
    "Russian Foreign Minister Sergei Lavrov met North Korean Foreign Minister Choe Son Hui in Moscow on Saturday. "
    "Separately, Vladimir Putin spoke about the economy."
)
MEETING_HI = (
    "रूस के विदेश मंत्री सर्गेई लावरोव ने शनिवार को मॉस्को में उत्तर कोरिया की विदेश मंत्री चोए सोन हुई से मुलाकात की। "
    "उधर, व्लादिमीर पुतिन ने अर्थव्यवस्था पर बात की।"
)
SIGNING_EN = "Russia and North Korea signed a customs agreement on Monday. Tourism to Wonsan has grown this year."
SIGNING_HI = "रूस और उत्तर कोरिया ने सोमवार को सीमा शुल्क समझौते पर हस्ताक्षर किए। इस साल वोनसान में पर्यटन बढ़ा है।"


@pytest.fixture(scope="module")
def engine():  # type: ignore[no-untyped-def]
    return load_engine([WATCHLISTS])


def test_the_people_of_a_meetings_evidence_are_ids_shared_by_hindi_and_english(engine) -> None:  # type: ignore[no-untyped-def]
    english, hindi = evidence_ids(engine.tag(MEETING_EN), DAYS), evidence_ids(engine.tag(MEETING_HI), DAYS)
    assert {
        "#@2026-03-07/russia-dprk-meeting:new/sergei-lavrov",
        "#@2026-03-07/russia-dprk-meeting:new/choe-son-hui",
    } <= english & hindi


def test_a_person_named_only_outside_the_evidence_and_the_countries_give_no_evidence_id(engine) -> None:  # type: ignore[no-untyped-def]
    for text in (MEETING_EN, MEETING_HI):
        ids = evidence_ids(engine.tag(text), DAYS)
        assert not any(i.endswith(("/vladimir-putin", "/russia", "/north-korea")) for i in ids)


def test_the_subject_of_a_signings_evidence_is_an_id_and_the_background_subject_is_not(engine) -> None:  # type: ignore[no-untyped-def]
    for text in (SIGNING_EN, SIGNING_HI):
        assert evidence_ids(engine.tag(text), DAYS) == frozenset({"#@2026-03-07/russia-dprk-agreement:new/customs"})


def test_an_article_that_fired_no_rule_has_no_evidence_ids(engine) -> None:  # type: ignore[no-untyped-def]
    text = "Tourism to Wonsan has grown this year, Russian officials said."
    assert evidence_ids(engine.tag(text), DAYS) == frozenset()


def test_reports_a_day_apart_share_evidence_ids_and_reports_two_days_apart_do_not(engine) -> None:  # type: ignore[no-untyped-def]
    def ids(day: str) -> frozenset[str]:
        return evidence_ids(engine.tag(SIGNING_EN), (day, next_day(day)))

    assert ids("@2026-03-07") & ids("@2026-03-08")
    assert not ids("@2026-03-07") & ids("@2026-03-09")


def test_the_day_after_crosses_a_month_end() -> None:
    assert next_day("@2026-02-28") == "@2026-03-01"

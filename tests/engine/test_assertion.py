"""Clause scope and novelty on the shipped watchlists (issue 12), English and Hindi, with our own sentences.

One test per mechanism: each veto kind in the trigger's clause, the clause break that keeps a denial
out of the signing's clause, each novelty class, refer-back sides, and what `--explain` says.
"""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.engine import Engine
from monitor.engine.result import Novelty

AGREEMENT = "russia-dprk-agreement"
PUBLISHED = dt.date(2026, 2, 16)


def novelty(engine: Engine, text: str, published: dt.date | None = PUBLISHED) -> Novelty | None:
    """The agreement rule's novelty on `text`, None when it does not fire."""
    hit = next((rule for rule in engine.tag(text, published).rules if rule.rule == AGREEMENT), None)
    return None if hit is None else hit.novelty


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea did not sign any agreement on Monday.",
        "Russia and North Korea signed no agreements during the visit.",
        "Russia has never had a military pact with North Korea.",
        "Neither Russia nor North Korea signed a treaty at the talks.",
    ],
)
def test_english_negation_in_the_clause_vetoes(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "रूस और उत्तर कोरिया ने सोमवार को कोई समझौता नहीं किया।",
        "रूस और उत्तर कोरिया के बीच कभी कोई सैन्य संधि नहीं हुई।",
        "न तो रूस ने और न ही उत्तर कोरिया ने किसी करार पर हस्ताक्षर किए।",
        "रूस और उत्तर कोरिया बिना किसी समझौते के बातचीत खत्म कर चुके हैं।",
    ],
)
def test_hindi_negation_in_the_clause_vetoes(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Reporters asked whether Russia and North Korea had signed a military pact.",
        "Did Russia and North Korea sign a new treaty on Monday?",
        "क्या रूस और उत्तर कोरिया ने नया सैन्य समझौता किया है",
        "रूस और उत्तर कोरिया ने सोमवार को समझौता किया?",
    ],
)
def test_a_question_vetoes(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Sanctions would follow if Russia and North Korea signed an arms deal.",
        "अगर रूस और उत्तर कोरिया हथियारों का समझौता करते हैं तो नए प्रतिबंध लगेंगे।",
        "यदि रूस और उत्तर कोरिया संधि पर हस्ताक्षर करें तो अमेरिका जवाब देगा।",
    ],
)
def test_a_condition_vetoes(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Reports that Russia and North Korea signed a secret pact on Monday were false.",
        "Claims of a Russia–North Korea arms deal this week are baseless rumours.",
        "रूस और उत्तर कोरिया के गुप्त समझौते की खबर झूठी निकली।",
        "रूस और उत्तर कोरिया के बीच सैन्य करार की अफवाह सोमवार को फैली।",
    ],
)
def test_falsehood_or_rumour_vetoes(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Russia denied the report, but on Friday it signed a pact with North Korea.",
        "रूस ने इस खबर का खंडन किया, लेकिन शुक्रवार को उसने उत्तर कोरिया के साथ समझौते पर हस्ताक्षर किए।",
    ],
)
def test_a_denial_in_another_clause_does_not_veto(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "Russia denied that it signed a pact with North Korea.",
        "रूस ने उत्तर कोरिया के साथ किसी समझौते से इनकार किया।",
    ],
)
def test_a_denial_in_the_same_clause_vetoes(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


def test_a_negated_trigger_beside_an_affirmed_one_fires(shipped: Engine) -> None:
    text = "Russia and North Korea did not sign a military pact, but they signed a customs accord on Monday."
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea signed a fisheries agreement in Moscow on Monday.",
        "रूस और उत्तर कोरिया ने सोमवार को मॉस्को में मत्स्य समझौते पर हस्ताक्षर किए।",
    ],
)
def test_a_recent_signing_is_new(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea could sign a fisheries agreement during the visit.",
        "Russia and North Korea are expected to sign a fisheries agreement this week.",
        "रूस और उत्तर कोरिया इस दौरे में मत्स्य समझौते पर हस्ताक्षर कर सकते हैं।",
        "रूस और उत्तर कोरिया के बीच इसी हफ्ते समझौता होने की संभावना है।",
        "रूस और उत्तर कोरिया के बीच रक्षा समझौता संभव है।",
        "रूस और उत्तर कोरिया के बीच रक्षा समझौता मुमकिन है।",
    ],
)
def test_modality_is_speculative(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "speculative"


@pytest.mark.parametrize(
    "text",
    [
        "Trade has grown under the treaty Russia and North Korea signed last year.",
        "Russia and North Korea have cooperated closely since their partnership treaty.",
        "पिछले साल रूस और उत्तर कोरिया के बीच रणनीतिक साझेदारी संधि पर हस्ताक्षर हुए।",
        "रूस और उत्तर कोरिया के बीच व्यापार साझेदारी संधि के तहत बढ़ा है।",
    ],
)
def test_a_past_cue_makes_a_reference(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "reference"


def test_a_hindi_pluperfect_makes_a_reference(shipped: Engine) -> None:
    assert novelty(shipped, "रूस और उत्तर कोरिया के बीच रणनीतिक साझेदारी संधि हुई थी।") == "reference"


def test_new_with_a_past_time_is_still_a_reference(shipped: Engine) -> None:
    text = "पिछले साल जून में रूस और उत्तर कोरिया के बीच एक नई रक्षा संधि हुई थी।"
    assert novelty(shipped, text) == "reference"


def test_a_pluperfect_of_yesterday_is_new(shipped: Engine) -> None:
    text = "रूस और उत्तर कोरिया ने एक दिन पहले परामर्श समझौते पर हस्ताक्षर किए थे।"
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Russia and North Korea signed the partnership treaty on June 19, 2025.", "reference"),
        ("Russia and North Korea signed the partnership treaty on February 14, 2026.", "new"),
        ("Russia and North Korea signed the partnership treaty on 3 January 2026.", "reference"),
        ("रूस और उत्तर कोरिया ने 9 फरवरी 2000 को मैत्री संधि पर हस्ताक्षर किए।", "reference"),
    ],
)
def test_an_explicit_date_is_read_against_the_articles_date(shipped: Engine, text: str, expected: Novelty) -> None:
    assert novelty(shipped, text) == expected


def test_an_old_year_without_the_articles_date_is_a_reference(shipped: Engine) -> None:
    assert novelty(shipped, "Russia and North Korea signed their treaty in 2000.", None) == "reference"


def test_the_cue_nearest_the_trigger_decides(shipped: Engine) -> None:
    text = "On Friday Russia and North Korea signed a pact that builds on the 2024 treaty."
    assert novelty(shipped, text) == "new"


def test_an_article_quoting_an_old_treaty_beside_its_news_is_new(shipped: Engine) -> None:
    text = (
        "Russia and North Korea signed their partnership treaty in 2024.\n\n"
        "On Monday Russia and North Korea signed a new customs agreement in Pyongyang."
    )
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "Russian and North Korean officials met in Vladivostok on Friday.\n\n"
        "The two sides signed a shipping agreement after the talks.",
        "रूस और उत्तर कोरिया के मंत्रियों की सोमवार को बैठक हुई। दोनों देशों ने एक परिवहन समझौते पर हस्ताक्षर किए।",
    ],
)
def test_a_sentence_that_refers_back_takes_its_sides_from_the_one_before(shipped: Engine, text: str) -> None:
    [hit] = [rule for rule in shipped.tag(text, PUBLISHED).rules if rule.rule == AGREEMENT]
    assert hit.novelty == "new"
    [evidence] = hit.evidence
    assert evidence.text == text.strip()


def test_without_a_refer_back_cue_the_sentence_before_gives_no_sides(shipped: Engine) -> None:
    text = "Russian and North Korean officials met in Vladivostok on Friday. A shipping agreement was signed."
    assert novelty(shipped, text) is None


def test_severity_follows_the_novelty(shipped: Engine) -> None:
    new = shipped.tag("Russia and North Korea signed a fisheries agreement on Monday.", PUBLISHED).rules
    old = shipped.tag("Russia and North Korea signed a fisheries agreement last year.", PUBLISHED).rules
    assert [(rule.severity, rule.novelty) for rule in new if rule.rule == AGREEMENT] == [("high", "new")]
    assert [(rule.severity, rule.novelty) for rule in old if rule.rule == AGREEMENT] == [("low", "reference")]


def test_explain_names_the_vetoing_word_and_its_kind(shipped: Engine) -> None:
    explanation = shipped.explain("Russia and North Korea did not sign an agreement on Monday.", PUBLISHED)
    [rule] = [rule for rule in explanation.rules if rule.rule == AGREEMENT]
    [passage] = rule.passages
    assert not rule.fired
    assert [(span.text, span.source) for span in passage.vetoed_by] == [("did not", "cues:negation")]


def test_a_question_mark_asks_only_the_clause_it_ends(shipped: Engine) -> None:
    assert novelty(shipped, "Russia and North Korea signed a pact on Friday; what does it mean for Seoul?") == "new"
    assert novelty(shipped, "Will Russia and North Korea sign a pact on Friday?") is None


def test_a_run_on_sentence_is_read_near_each_trigger(shipped: Engine) -> None:
    """A negation far away in a clause that runs on for pages does not reach the trigger."""
    engine = shipped
    far = "and the talks went on " * 40
    text = f"Officials did not comment {far} and Russia and North Korea signed a pact on Friday."
    hit = next(rule for rule in engine.tag(text, PUBLISHED).rules if rule.rule == AGREEMENT)
    assert hit.novelty == "new"

"""How the shape of a clause bounds its cues (issue 12): asides, reported clauses, comma conjunctions,
and look-alike phrases, in English and Hindi, with our own sentences.

Each test pins one general mechanism of `monitor/engine/assertion.py` and the cue lists of
`config/watchlists/common.yaml` against a misreading a reviewer found.
"""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.engine import Engine
from monitor.engine.result import Novelty

AGREEMENT = "russia-dprk-agreement"
PUBLISHED = dt.date(2026, 3, 10)


def novelty(engine: Engine, text: str) -> Novelty | None:
    """The agreement rule's novelty on `text`, None when it does not fire."""
    hit = next((rule for rule in engine.tag(text, PUBLISHED).rules if rule.rule == AGREEMENT), None)
    return None if hit is None else hit.novelty


@pytest.mark.parametrize(
    "text",
    [
        "Russia, which has never signed such a pact with Japan, signed a fish deal with North Korea on Monday.",
        "North Korea, whose envoy did not attend the forum, signed a rail deal with Russia on Tuesday.",
        "रूस, जो कभी जापान के साथ ऐसा करार नहीं कर पाया, ने सोमवार को उत्तर कोरिया के साथ मछली पालन समझौते पर हस्ताक्षर किए।",
    ],
)
def test_a_veto_in_an_aside_does_not_bear_on_the_main_clause(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea signed a rail deal on Monday, which was first proposed last year.",
        "यह रूस और उत्तर कोरिया के बीच नई रेल डील का असर है, जो पिछले साल अक्टूबर में हुई थी।",
    ],
)
def test_an_aside_after_the_trigger_may_date_the_act(shipped: Engine, text: str) -> None:
    """Its veto would not count, but its time cue describes the act it follows when it is the nearest."""
    expected: Novelty = "new" if text.startswith("Russia") else "reference"
    assert novelty(shipped, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea signed a customs agreement on Friday and said reports of arms transfers were false.",
        "रूस और उत्तर कोरिया ने शुक्रवार को सीमा शुल्क समझौते पर हस्ताक्षर किए और कहा कि इसमें कोई सैन्य पहलू नहीं है।",
        "रूस और उत्तर कोरिया ने आज समझौते पर दस्तखत किए, रूसी मंत्री ने बताया कि हथियारों की कोई बात नहीं हुई।",
    ],
)
def test_a_reported_clause_after_the_trigger_does_not_veto_it(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea said that they did not sign any agreement.",
        "रूस और उत्तर कोरिया ने कहा कि उन्होंने कोई समझौता नहीं किया।",
    ],
)
def test_a_reported_clause_holding_the_trigger_keeps_its_veto(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Moscow dismissed a report of a secret arms deal, and on Friday Russia and North Korea signed a fish pact.",
        "मॉस्को ने हथियार सौदे की खबर को खारिज किया, और शुक्रवार को रूस और उत्तर कोरिया ने मछली पालन समझौते पर हस्ताक्षर किए।",
    ],
)
def test_a_comma_with_its_conjunction_starts_a_new_clause(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "Not only did Russia and North Korea sign a shipping agreement on Monday, they also opened a ferry line.",
        "Russia and North Korea signed the port agreement on Monday and will apply it without delay.",
        "रूस और उत्तर कोरिया ने सोमवार को बंदरगाह समझौते पर हस्ताक्षर किए, जिससे न केवल व्यापार बढ़ेगा बल्कि पर्यटन भी।",
        "रूस और उत्तर कोरिया ने आज बिना किसी देरी के समझौते पर हस्ताक्षर किए।",
    ],
)
def test_a_lookalike_phrase_is_no_negation(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "रूस और उत्तर कोरिया ने सोमवार को व्यापार समझौते के पहले चरण पर हस्ताक्षर किए।",
        "रूस और उत्तर कोरिया ने पहले दौर की बातचीत में बिजली समझौते पर हस्ताक्षर किए।",
    ],
)
def test_pahle_meaning_first_is_no_past_cue(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


def test_pahle_meaning_earlier_is_still_a_past_cue(shipped: Engine) -> None:
    assert novelty(shipped, "रूस और उत्तर कोरिया ने दो साल पहले संधि पर हस्ताक्षर किए थे।") == "reference"


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea signed a treaty in 2024. Under the treaty, either side must help the other.",
        "रूस और उत्तर कोरिया के बीच 2024 की संधि के तहत सैन्य सहयोग जारी है।",
        "रूस और उत्तर कोरिया ने 2024 में संधि की थी। इस संधि के तहत दोनों देश एक-दूसरे की मदद करेंगे।",
    ],
)
def test_under_an_old_treaty_is_still_background(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "reference"


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea inked a fisheries pact on Monday.",
        "Russia's parliament ratified the fisheries treaty with North Korea on Tuesday.",
        "रूस और उत्तर कोरिया ने आज फेरी सेवा पर दस्तखत किए।",
    ],
)
def test_a_signing_in_other_words_is_an_agreement(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "Russia has never had any deal with North Korea. A paper had reported that the two countries signed the pact.",
        "रूस और उत्तर कोरिया के बीच ऐसा कोई करार नहीं हुआ। एक अखबार ने लिखा था कि दोनों देशों ने इस करार पर दस्तखत किए।",
    ],
)
def test_a_refer_back_to_a_denied_act_does_not_fire(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Russia has never had a military pact with North Korea. The two countries signed a fisheries deal on Friday.",
        "रूस और उत्तर कोरिया के बीच कोई सैन्य करार नहीं हुआ। दोनों देशों ने शुक्रवार को मछली पालन समझौता किया।",
    ],
)
def test_a_refer_back_with_its_own_time_cue_reports_its_own_act(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Russia and North Korea, bound by a 2024 mutual defence treaty, held talks on Friday.", "reference"),
        ("Russia and North Korea signed a new deal on Friday, a year after their defence treaty.", "new"),
        ("रूस और उत्तर कोरिया ने मंगलवार को प्योंगयांग में करार किया, जिस पर पिछले साल से बातचीत चल रही थी।", "new"),
        ("रूस और उत्तर कोरिया ने करार किया, जिस पर पिछले साल से बात हो रही थी।", "reference"),
    ],
)
def test_a_time_cue_beyond_a_comma_counts_only_without_one_nearer(
    shipped: Engine, text: str, expected: Novelty
) -> None:
    assert novelty(shipped, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Yonhap reported that Russia and North Korea signed an arms deal on Monday, but Moscow denied it.",
        "एक जापानी अखबार की रिपोर्ट में कहा गया कि रूस और उत्तर कोरिया ने हथियार सौदा किया, जिसका क्रेमलिन ने खंडन किया।",
    ],
)
def test_a_reported_claim_refuted_in_a_later_clause_is_vetoed(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "According to TASS, Russia and North Korea signed a deal on Monday, but Japan denied reports of arms sales.",
        "मंत्रालय के मुताबिक रूस और उत्तर कोरिया ने सोमवार को समझौता किया, लेकिन हथियारों की खबरें गलत हैं।",
    ],
)
def test_a_sourced_fact_is_not_refuted_by_a_later_denial_of_something_else(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"

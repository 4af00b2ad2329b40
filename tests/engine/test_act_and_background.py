"""What makes an agreement the article's news (issue 12), in English and Hindi, with our own
sentences: an act in the trigger's clause (`needs_act`), the sides of a definite or pronoun
back-reference, a reported claim refuted in the next sentence, and the tense of reported speech."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.engine import Engine
from monitor.engine.result import Novelty

AGREEMENT = "russia-dprk-agreement"
PUBLISHED = dt.date(2026, 4, 24)


def novelty(engine: Engine, text: str) -> Novelty | None:
    """The agreement rule's novelty on `text`, None when it does not fire."""
    hit = next((rule for rule in engine.tag(text, PUBLISHED).rules if rule.rule == AGREEMENT), None)
    return None if hit is None else hit.novelty


@pytest.mark.parametrize(
    "text",
    [
        "Analysts say the pact between Russia and North Korea has made Pyongyang bolder.",
        "Officials from Russia and North Korea met on Friday to discuss their treaty.",
        "विशेषज्ञों का कहना है कि रूस और उत्तर कोरिया की रक्षा संधि ने प्योंगयांग का हौसला बढ़ाया है।",
        "रूस और उत्तर कोरिया के बीच हुए समझौते के बाद व्यापार बढ़ा है।",
    ],
)
def test_an_agreement_without_an_act_is_background(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "reference"


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea concluded a customs accord on Friday.",
        "Russia and North Korea's new customs accord came into force on Friday.",
        "रूस और उत्तर कोरिया के बीच शुक्रवार को सीमा शुल्क समझौता हुआ।",
        "यह करार रूस और उत्तर कोरिया के बीच शुक्रवार को मॉस्को में हुआ।",
    ],
)
def test_an_agreement_with_an_act_is_news(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "The Kremlin said on Friday that Russia and North Korea had signed a customs accord.",
        "रूस और उत्तर कोरिया ने गुरुवार को सीमा शुल्क समझौता किया था।",
    ],
)
def test_a_pluperfect_with_a_recent_day_is_the_news(shipped: Engine, text: str) -> None:
    """Reported speech shifts the tense back; the pluperfect is the act's verb, not a sign of background."""
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea have grown closer. The mutual defence treaty of 2024 binds them.",
        "Russia and North Korea have grown closer. They signed a defence treaty in 2024.",
        "रूस और उत्तर कोरिया के रिश्ते गहरे हो रहे हैं। इस रक्षा संधि पर 2024 में हस्ताक्षर हुए थे।",
        "रूस और उत्तर कोरिया के रिश्ते गहरे हो रहे हैं। दोनों के बीच 2024 में संधि हुई थी।",
    ],
)
def test_a_definite_or_pronoun_back_reference_takes_the_sides_before(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "reference"


def test_an_indefinite_agreement_takes_no_sides_from_before(shipped: Engine) -> None:
    """ "A shipping agreement" introduces an agreement of its own; "The shipping agreement" one known."""
    before = "Russian and North Korean officials met in Vladivostok on Friday. "
    assert novelty(shipped, before + "A shipping agreement was signed.") is None
    assert novelty(shipped, before + "The shipping agreement was signed there.") == "new"


@pytest.mark.parametrize(
    "text",
    [
        "A daily reported that Russia and North Korea signed an arms pact. Moscow called the report a fabrication.",
        "जापानी अखबार ने दावा किया कि रूस और उत्तर कोरिया ने हथियार समझौता किया। क्रेमलिन ने इन खबरों को बेतुका बताया।",
    ],
)
def test_a_reported_claim_refuted_in_the_next_sentence_is_vetoed(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


def test_a_fact_stated_before_a_denial_of_something_else_still_counts(shipped: Engine) -> None:
    """Only a claim someone reported (a report cue before the trigger) is refuted by the next sentence."""
    text = "Russia and North Korea signed a fisheries deal on Friday. Moscow dismissed reports of arms transfers."
    assert novelty(shipped, text) == "new"

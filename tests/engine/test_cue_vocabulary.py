"""The cue lists read the ways real news writes a rumour, a condition, a plan and a background
mention (issue 12), in English and Hindi: each test one kind of wording, with our own sentences."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.engine import Engine
from monitor.engine.result import Novelty

AGREEMENT = "russia-dprk-agreement"
PUBLISHED = dt.date(2026, 3, 20)


def novelty(engine: Engine, text: str) -> Novelty | None:
    """The agreement rule's novelty on `text`, None when it does not fire."""
    hit = next((rule for rule in engine.tag(text, PUBLISHED).rules if rule.rule == AGREEMENT), None)
    return None if hit is None else hit.novelty


@pytest.mark.parametrize(
    "text",
    [
        "A video allegedly shows Russia and North Korea signing a nuclear pact on Thursday.",
        "A viral post says Russia and North Korea signed a secret treaty on Monday.",
        "सोशल मीडिया पर दावा किया जा रहा है कि रूस और उत्तर कोरिया ने गुरुवार को परमाणु करार किया।",
        "रूस और उत्तर कोरिया के कथित गुप्त समझौते की तस्वीरें सामने आईं।",
    ],
)
def test_a_claim_of_unknown_truth_is_a_rumour(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "सोल की चेतावनी: रूस-उत्तर कोरिया ने सैन्य करार किया तो देंगे जवाब",
        "रूस और उत्तर कोरिया समझौता करेंगे तो प्रतिबंध बढ़ेंगे",
    ],
)
def test_a_hindi_condition_marked_only_by_to_vetoes(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea set to sign power line deal this week",
        "Russia and North Korea poised to sign a tourism accord",
        "रूस और उत्तर कोरिया बिजली समझौते पर हस्ताक्षर करने वाले हैं।",
    ],
)
def test_a_headline_plan_is_speculative(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "speculative"


@pytest.mark.parametrize(
    "text",
    [
        "Russia–North Korea trade up 30% a year after treaty took hold",
        "रूस और उत्तर कोरिया के मंत्रियों ने संधि के अमल की समीक्षा की।",
    ],
)
def test_an_act_presupposed_as_done_is_background(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "reference"


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea have yet to sign the agreement.",
        "Russia and North Korea failed to sign an agreement on Friday.",
        "रूस और उत्तर कोरिया ने अभी तक समझौते पर हस्ताक्षर नहीं किए हैं।",
        "रूस और उत्तर कोरिया की वार्ता बेनतीजा रही, समझौता नहीं हो सका।",
    ],
)
def test_an_act_not_yet_done_or_failed_is_negated(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea are in talks on a new agreement.",
        "North Korea and Russia are reportedly close to a deal on oil.",
        "रूस और उत्तर कोरिया के बीच नई संधि पर बातचीत चल रही है।",
        "रूस और उत्तर कोरिया के बीच व्यापार समझौते पर वार्ता जारी है।",
        "रूस और उत्तर कोरिया समझौते की दिशा में आगे बढ़ रहे हैं।",
        "Should Russia and North Korea sign such a treaty, Japan would respond.",
    ],
)
def test_an_act_being_negotiated_is_speculative(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "speculative"


@pytest.mark.parametrize(
    "text",
    [
        "The US warned that any arms deal between Russia and North Korea would violate UN resolutions.",
        "Analysts doubt that Russia and North Korea signed a secret pact.",
        "विशेषज्ञों ने रूस और उत्तर कोरिया के गुप्त समझौते पर संदेह जताया।",
        "रूस और उत्तर कोरिया का बिजली समझौता अधर में लटका है।",
    ],
)
def test_a_hypothetical_doubted_or_stalled_act_is_not_asserted(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "South Korea and Russia signed a fisheries agreement, angering North Korea.",
        "Russian club Zenit signed a North Korean striker on Monday.",
        "रूसी फुटबॉल क्लब ने उत्तर कोरियाई खिलाड़ी के साथ करार किया।",
    ],
)
def test_a_side_that_reacts_or_a_club_is_no_party(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "The treaty Russia and North Korea signed last summer entered into force in December.",
        "Russia and North Korea signed a defence pact in Pyongyang in June of that year.",
        "रूस और उत्तर कोरिया की संधि के एक साल पूरे होने पर प्योंगयांग में समारोह हुआ।",
        "उस समय रूस और उत्तर कोरिया ने सैन्य संधि की।",
    ],
)
def test_a_season_or_an_anniversary_dates_the_act_in_the_past(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "reference"


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea to sign fisheries pact on Friday",
        "Russia and North Korea are scheduled to sign a fisheries pact on Friday.",
        "रूस और उत्तर कोरिया के बीच शुक्रवार को मत्स्य समझौते पर हस्ताक्षर किए जाएंगे।",
    ],
)
def test_a_headline_infinitive_or_a_passive_future_is_speculative(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "speculative"


@pytest.mark.parametrize(
    "text",
    [
        'Moscow called reports that Russia and North Korea signed an arms deal "nonsense".',
        "Russia and North Korea were unable to reach an agreement on Friday.",
        "क्रेमलिन ने रूस और उत्तर कोरिया के बीच हथियार सौदे की खबरों को बकवास बताया।",
        "रूस और उत्तर कोरिया समझौते पर हस्ताक्षर करने में असफल रहे।",
    ],
)
def test_denial_and_failure_in_other_words_veto(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None

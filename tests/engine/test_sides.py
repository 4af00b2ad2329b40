"""Where a trigger's sides must stand (`monitor/engine/sides.py`), and where a rule stops reading its
passages, on the shipped watchlists with our own sentences, English and Hindi."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.engine import Engine
from monitor.engine.result import Novelty

AGREEMENT = "russia-dprk-agreement"
PUBLISHED = dt.date(2026, 2, 16)


def novelty(engine: Engine, text: str) -> Novelty | None:
    hit = next((rule for rule in engine.tag(text, PUBLISHED).rules if rule.rule == AGREEMENT), None)
    return None if hit is None else hit.novelty


@pytest.mark.parametrize(
    "text",
    [
        "North Korea signed a trade agreement with Mongolia, Russia's neighbour, on Monday.",
        "North Korea signed a shipping deal with Vietnam on Monday, a step Russia welcomed.",
        "उत्तर कोरिया ने सोमवार को मंगोलिया के साथ व्यापार समझौता किया, जो रूस का पड़ोसी है।",
    ],
)
def test_a_side_named_after_the_partner_is_not_a_party(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Russia signed a trade agreement with North Korea on Monday.",
        "Russia signed an agreement on Monday with its neighbour North Korea, the ministry said.",
        "रूस ने सोमवार को उत्तर कोरिया के साथ व्यापार समझौता किया।",
        "रूस और उत्तर कोरिया के बीच सोमवार को व्यापार समझौता हुआ।",
    ],
)
def test_the_partner_that_is_a_side_still_fires(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "Japan and Russia signed a fishing deal in Moscow on Monday despite Tokyo's worry about North Korea.",
        "Japan and Russia signed a fishing deal in Moscow on Monday amid talk of North Korean missiles.",
        "जापान और रूस ने सोमवार को मछली पकड़ने का समझौता किया है, यह ऐसे समय हुआ जब उत्तर कोरिया पर चिंता है।",
    ],
)
def test_a_side_named_only_in_a_subordinate_clause_after_the_trigger_is_not_a_party(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Despite Western sanctions, Russia and North Korea signed a trade agreement on Monday.",
        "प्रतिबंधों के बावजूद रूस और उत्तर कोरिया ने सोमवार को व्यापार समझौता किया।",
    ],
)
def test_a_subordinate_clause_before_the_trigger_keeps_its_sides(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "North Korea signed a trade agreement with Mongolia, Russia's neighbour, on Monday. "
        "The agreement covers coal and wool.",
        "उत्तर कोरिया ने सोमवार को मंगोलिया के साथ समझौता किया, जो रूस का पड़ोसी है। इस समझौते में कोयला शामिल है।",
    ],
)
def test_a_refer_back_takes_only_the_parties_of_the_sentence_before(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


def test_explain_names_the_partner_cue(shipped: Engine) -> None:
    text = "North Korea signed a trade agreement with Mongolia, Russia's neighbour, on Monday."
    (rule,) = [rule for rule in shipped.explain(text, PUBLISHED).rules if rule.rule == AGREEMENT]
    assert not rule.fired
    assert [span.text for passage in rule.passages for span in passage.vetoed_by] == ["with"]


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea signed a trade agreement on Monday. "
        "Russia and North Korea also signed a visa agreement on Monday. "
        "Russia and North Korea signed a fishing agreement on Monday too.",
        "रूस और उत्तर कोरिया ने सोमवार को व्यापार समझौता किया। रूस और उत्तर कोरिया ने सोमवार को वीज़ा समझौता भी किया। "
        "रूस और उत्तर कोरिया ने सोमवार को मछली समझौता भी किया।",
    ],
)
def test_a_new_firing_stops_reading_once_settled(shipped: Engine, text: str) -> None:
    """Later passages cannot change a `new` firing: its evidence ends at its first new passage,
    while `--explain` still reads them all."""
    (hit,) = [rule for rule in shipped.tag(text, PUBLISHED).rules if rule.rule == AGREEMENT]
    assert hit.novelty == "new"
    assert len(hit.evidence) == 1
    (explained,) = [rule for rule in shipped.explain(text, PUBLISHED).rules if rule.rule == AGREEMENT]
    assert sum(passage.qualifies for passage in explained.passages) == 3


def test_a_reference_passage_does_not_stop_the_reading(shipped: Engine) -> None:
    text = (
        "Russia and North Korea signed a treaty in 2024. Russia and North Korea signed a visa agreement on Monday. "
        "Russia and North Korea signed a fishing agreement on Monday too."
    )
    (hit,) = [rule for rule in shipped.tag(text, PUBLISHED).rules if rule.rule == AGREEMENT]
    assert hit.novelty == "new"
    assert len(hit.evidence) == 2

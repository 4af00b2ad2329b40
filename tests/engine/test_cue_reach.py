"""How far a cue reaches (issue 12): a word that vetoes only what stands next to it, in English and
Hindi, with our own sentences. Each test pins one mechanism against an over-broad veto it replaced:
a qualifier before a noun, an English cue after the trigger beyond a comma, a Hindi relative clause
after the verb, a `none:` group with `near`, and look-alikes of doubt."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from monitor.engine import Engine, load_engine, problems_of
from monitor.engine.result import Novelty

AGREEMENT = "russia-dprk-agreement"
PUBLISHED = dt.date(2026, 4, 10)


def novelty(engine: Engine, text: str) -> Novelty | None:
    """The agreement rule's novelty on `text`, None when it does not fire."""
    hit = next((rule for rule in engine.tag(text, PUBLISHED).rules if rule.rule == AGREEMENT), None)
    return None if hit is None else hit.novelty


@pytest.mark.parametrize(
    "text",
    [
        "Seoul warned that any Russia–North Korea arms deal would breach UN sanctions.",
        "Tokyo asked about the alleged arms pact between Russia and North Korea.",
        "रूस और उत्तर कोरिया के बीच किसी भी हथियार सौदे से प्रतिबंधों का उल्लंघन होगा।",
        "रूस और उत्तर कोरिया के कथित गुप्त समझौते की तस्वीरें सामने आईं।",
    ],
)
def test_a_qualifier_vetoes_the_agreement_it_qualifies(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea signed an accord on Monday to curb alleged timber smuggling.",
        "Russia and North Korea signed the long-rumoured labour deal on Friday.",
        "रूस और उत्तर कोरिया ने कथित लकड़ी तस्करी रोकने के लिए सोमवार को करार पर हस्ताक्षर किए।",
    ],
)
def test_a_qualifier_of_another_noun_does_not_veto_the_signing(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


def test_an_english_cue_after_the_trigger_stops_at_a_comma(shipped: Engine) -> None:
    """'is yet to be ratified' belongs to the main clause, not to the participle 'signed on Friday'."""
    assert novelty(shipped, "The pact, signed by Russia and North Korea on Friday, is yet to be ratified.") == "new"
    assert novelty(shipped, "Russia and North Korea's pact was not signed on Friday.") is None


def test_a_hindi_relative_clause_after_the_verb_is_an_aside_without_a_comma(shipped: Engine) -> None:
    text = "रूस और उत्तर कोरिया ने सोमवार को सीमा समझौते पर हस्ताक्षर किए जिसे अभी संसद की मंजूरी नहीं मिली है।"
    assert novelty(shipped, text) == "new"
    assert novelty(shipped, "रूस और उत्तर कोरिया ने सोमवार को सीमा समझौते पर हस्ताक्षर नहीं किए।") is None


@pytest.mark.parametrize(
    "text",
    [
        "Russian club Zenit signed a North Korean striker on Monday.",
        "रूस के फुटबॉल क्लब लोकोमोटिव ने गुरुवार को उत्तर कोरिया के मिडफील्डर के साथ तीन साल का करार किया।",
    ],
)
def test_a_sports_word_beside_the_signing_vetoes_it(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea signed a sports accord on Thursday, under which footballers will train together.",
        "रूस और उत्तर कोरिया ने गुरुवार को खेल समझौते पर हस्ताक्षर किए, जिसके तहत दोनों देशों के खिलाड़ी साथ अभ्यास करेंगे।",
    ],
)
def test_a_sports_word_in_an_aside_does_not_veto_a_state_accord(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"


def test_a_near_none_group_vetoes_only_within_its_words(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(
        """
entities:
  - {id: mars, name: Mars, kind: place, aliases: {en: [Mars]}}
terms:
  probe: {en: [probe]}
  toy: {en: [toy]}
rules:
  - id: mars-probe
    title: A probe to Mars
    severity: info
    all:
      - entities: [mars]
      - terms: [probe]
    none:
      - terms: [toy]
        near: 2
""",
        encoding="utf-8",
    )
    engine = load_engine([tmp_path])
    assert [rule.rule for rule in engine.tag("A toy probe flew to Mars.").rules] == []
    assert [rule.rule for rule in engine.tag("A probe flew to Mars, the toy makers said.").rules] == ["mars-probe"]


def test_near_in_an_all_group_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(
        """
entities:
  - {id: mars, name: Mars, kind: place, aliases: {en: [Mars]}}
terms:
  probe: {en: [probe]}
rules:
  - id: mars-probe
    title: A probe to Mars
    severity: info
    all:
      - entities: [mars]
      - {terms: [probe], near: 2}
""",
        encoding="utf-8",
    )
    assert any("`near` is for `none:` groups" in problem.message for problem in problems_of([tmp_path]))


@pytest.mark.parametrize(
    "text",
    [
        "There is little doubt that Russia and North Korea signed a labour deal on Friday.",
        "इसमें कोई शक नहीं कि रूस और उत्तर कोरिया ने शुक्रवार को श्रम समझौते पर हस्ताक्षर किए।",
    ],
)
def test_no_doubt_affirms_the_act(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) == "new"

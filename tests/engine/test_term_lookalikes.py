"""A term group's `exclude` phrases: the same word in another sense is not the term (issue 12)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from monitor.engine import Engine, WatchlistError, load_engine

AGREEMENT = "russia-dprk-agreement"
PUBLISHED = dt.date(2026, 2, 16)


def fires(engine: Engine, text: str) -> bool:
    return any(rule.rule == AGREEMENT for rule in engine.tag(text, PUBLISHED).rules)


@pytest.mark.parametrize(
    "text",
    [
        "Russia owes a great deal to North Korea, the ambassador said on Monday.",
        "North Korea backed Russia of its own accord, the envoy said on Tuesday.",
        "Russia and North Korea will have to deal with new sanctions, analysts said on Monday.",
        "Putin signed a decree on Friday easing visas for North Korean students in Russia.",
        "Russia and North Korea agreed that the sanctions were unlawful, the ministers said on Monday.",
    ],
)
def test_english_words_in_another_sense_are_no_agreement(shipped: Engine, text: str) -> None:
    assert not fires(shipped, text)


@pytest.mark.parametrize(
    "text",
    [
        "अमेरिका ने सोमवार को रूस और उत्तर कोरिया के सहयोग को अवैध करार दिया।",
        "रूस और उत्तर कोरिया इस बात पर सहमत हैं कि प्रतिबंध गलत हैं, मंत्रियों ने सोमवार को कहा।",
    ],
)
def test_hindi_words_in_another_sense_are_no_agreement(shipped: Engine, text: str) -> None:
    assert not fires(shipped, text)


@pytest.mark.parametrize(
    "text",
    [
        "Russia and North Korea signed a deal on Monday.",
        "रूस और उत्तर कोरिया ने सोमवार को एक करार किया।",
        "Russia and North Korea signed a plan of consultations on Monday.",
    ],
)
def test_the_term_itself_still_counts_beside_its_look_alikes(shipped: Engine, text: str) -> None:
    assert fires(shipped, text)


def test_a_term_group_of_look_alikes_only_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(
        "entities:\n  - {id: a, name: A, kind: country, aliases: {en: [Alpha]}}\n"
        "terms:\n  pact:\n    exclude: [a great deal]\n"
        "rules:\n  - {id: r, title: R, severity: low, all: [{entities: [a]}, {terms: [pact]}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(WatchlistError, match="has no terms"):
        load_engine([path])

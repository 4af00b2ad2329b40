"""The shipped agreement words as Hindi news writes them: the English `signature` in a Hindi
sentence is a signing, and a decree, order or law signed is no agreement (in both languages)."""

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


def test_a_signature_written_in_english_in_hindi_is_a_signing(shipped: Engine) -> None:
    text = "रूस और उत्तर कोरिया ने शुक्रवार को एक shipping plan पर signature किए।"
    assert novelty(shipped, text) == "new"


@pytest.mark.parametrize(
    "text",
    [
        "Putin signed a decree on Friday letting North Korean students stay in Russia.",
        "पुतिन ने शुक्रवार को उत्तर कोरिया के छात्रों के लिए एक आदेश पर हस्ताक्षर किए।",
        "Putin ने शुक्रवार को North Korea के students के लिए एक decree पर signature किए।",
    ],
)
def test_a_decree_signed_is_no_agreement(shipped: Engine, text: str) -> None:
    assert novelty(shipped, text) is None

"""The seed table of issue 2 on the sample articles (skipped when ../shared/seeds is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.engine import Engine

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"

ENTITIES = {
    "000": {"russia", "north-korea", "south-korea", "usa", "japan", "ukraine", "sergei-lavrov",
            "kim-jong-un", "vladimir-putin", "choe-son-hui", "wonsan"},
    "001": {"russia", "north-korea", "usa", "ukraine", "china", "sergei-lavrov", "choe-son-hui",
            "kim-jong-un", "vladimir-putin", "wonsan"},
    "002": {"russia", "north-korea", "usa", "japan", "south-korea", "sergei-lavrov", "kim-jong-un",
            "choe-son-hui", "vladimir-putin", "wonsan"},
    "003": {"russia", "north-korea", "ukraine", "sergei-lavrov", "kim-jong-un", "vladimir-putin", "usa",
            "south-korea", "japan", "choe-son-hui", "wonsan"},
    "004": {"russia", "north-korea", "kim-jong-un", "vladimir-putin", "usa", "ukraine"},
}  # fmt: skip

# agreement: issue 2. military: every seed reports troops, weapons or satellite/missile technology
# passing between the two sides. meeting: every seed reports a Lavrov or Putin-Kim meeting.
RULES = {
    "000": {"russia-dprk-military", "russia-dprk-meeting"},
    "001": {"russia-dprk-agreement", "russia-dprk-military", "russia-dprk-meeting"},
    "002": {"russia-dprk-agreement", "russia-dprk-military", "russia-dprk-meeting"},
    "003": {"russia-dprk-military", "russia-dprk-meeting"},
    "004": {"russia-dprk-military", "russia-dprk-meeting"},
}


def _as_reader_gives_it(path: Path) -> str:
    """Title line, a blank line, then the body, as the article reader hands text to the engine."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    first = next(index for index, line in enumerate(lines) if line.strip())
    return lines[first].strip() + "\n\n" + "\n".join(lines[first + 1 :]).strip("\n")


def _seed(prefix: str) -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"sample articles not found at {SEEDS}")
    return next(SEEDS.glob(f"{prefix}_*.txt"))


@pytest.mark.parametrize("prefix", sorted(ENTITIES))
def test_seed_entities_and_rules(shipped: Engine, prefix: str) -> None:
    result = shipped.tag(_as_reader_gives_it(_seed(prefix)))
    assert {entity.id for entity in result.entities} == ENTITIES[prefix]
    assert {rule.rule for rule in result.rules} == RULES[prefix]


@pytest.mark.parametrize("prefix", sorted(ENTITIES))
def test_seed_evidence_points_at_original_text(shipped: Engine, prefix: str) -> None:
    text = _as_reader_gives_it(_seed(prefix))
    for rule in shipped.tag(text).rules:
        for evidence in rule.evidence:
            assert text[evidence.start : evidence.end] == evidence.text
            for span in evidence.spans:
                assert text[span.start : span.end] == span.text
                assert evidence.start <= span.start < span.end <= evidence.end


def test_agreement_evidence_is_the_agreement_sentence(shipped: Engine) -> None:
    result = shipped.tag(_as_reader_gives_it(_seed("001")))
    agreement = next(rule for rule in result.rules if rule.rule == "russia-dprk-agreement")
    assert len(agreement.evidence) == 1
    assert "सहमति" in {span.text for span in agreement.evidence[0].spans}


@pytest.mark.parametrize("prefix", sorted(ENTITIES))
def test_seed_agreements_are_background_never_new(shipped: Engine, prefix: str) -> None:
    """Issue 12: 001 and 002 mention last year's agreement as background; no seed reports a new one."""
    result = shipped.tag(_as_reader_gives_it(_seed(prefix)))
    novelties = [rule.novelty for rule in result.rules if rule.rule == "russia-dprk-agreement"]
    assert novelties == (["reference"] if prefix in {"001", "002"} else [])

"""Latin spellings of folding aliases are keys of their own (`monitor/engine/latin_words.py`): the
text is matched as if it were folded, without folding its Latin letters."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.engine import load_engine
from monitor.engine.normalize import FOLDED_SCRIPT

ENTITY = (
    "entities:\n  - {id: ridaje, name: J. Ridaje, kind: person, fold: true, aliases: {en: [J. Ridaje, Choe Son Hui]}}\n"
)


@pytest.mark.parametrize("text", ["J. Riddaje came.", "J. Ridaaje came.", "Cho Song Hui came.", "Choe Son-hui came."])
def test_a_latin_spelling_of_a_folding_alias_is_found(tmp_path: Path, text: str) -> None:
    (tmp_path / "a.yaml").write_text(ENTITY, encoding="utf-8")
    engine = load_engine([tmp_path])
    found = [entity.id for entity in engine.tag(text).entities]
    assert found == (["ridaje"] if "Riddaje" not in text else [])


def test_the_text_is_not_folded_for_latin_when_every_spelling_is_a_key(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ENTITY, encoding="utf-8")
    assert not load_engine([tmp_path])._compiled.latin_fold


def test_without_latin_folding_only_devanagari_keys_need_the_folded_text(tmp_path: Path) -> None:
    """The Latin spellings are looked for in the text as it is (the exact automaton), so an article
    with no Devanagari skips the folding pass; the Devanagari variants are still found folded."""
    (tmp_path / "a.yaml").write_text(
        ENTITY + "  - {id: wonsan, name: Wonsan, kind: place, fold: true, aliases: {hi: [वोनसान], en: [Wonsan]}}\n",
        encoding="utf-8",
    )
    engine = load_engine([tmp_path])
    compiled = engine._compiled
    assert not compiled.latin_fold
    folding = [str(key) for key in compiled.fold_automaton]
    assert folding and all(FOLDED_SCRIPT.search(key) for key in folding)
    assert " choe son hui " in [str(key) for key in compiled.exact_automaton]
    assert [e.id for e in engine.tag("Choe Son-hui flew to Wonsan.").entities] == ["ridaje", "wonsan"]
    assert [e.id for e in engine.tag("Cho Song Hui वॉन्सन पहुंचीं।").entities] == ["ridaje", "wonsan"]


@pytest.mark.parametrize("fold", ["true", "false"])
def test_a_look_alike_of_one_entity_leaves_another_entity_named_by_the_same_words(tmp_path: Path, fold: str) -> None:
    """`North Korea Times` is not North Korea, but it is the newspaper: the look-alike vetoes its own
    entity only, in whichever automaton it is a key."""
    (tmp_path / "a.yaml").write_text(
        "entities:\n"
        f"  - {{id: north-korea, name: North Korea, kind: country, aliases: {{en: [North Korea]}},"
        f" exclude: [{{text: North Korea Times, fold: {fold}}}]}}\n"
        "  - {id: nk-times, name: North Korea Times, kind: organisation, aliases: {en: [North Korea Times]}}\n",
        encoding="utf-8",
    )
    found = load_engine([tmp_path]).tag("The North Korea Times reported on North Korea.").entities
    assert sorted((entity.id, entity.count) for entity in found) == [("nk-times", 1), ("north-korea", 1)]

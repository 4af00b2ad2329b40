"""Latin spellings of folding aliases are keys of their own (`monitor/engine/latin_words.py`): the
text is matched as if it were folded, without folding its Latin letters."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.engine import load_engine

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

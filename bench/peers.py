"""What a user would otherwise pick, fed the same alias lists as our engine: each finds entity ids.

- `re`: one alternation of every alias form, longest first, with lookaround word boundaries that
  count Devanagari marks as letters (the plain ``\\b`` is wrong for Hindi, see DESIGN.md);
- flashtext's KeywordProcessor (case-insensitive, its default word boundaries);
- spaCy's PhraseMatcher (``attr="LOWER"``) on a blank multilingual pipeline (no model);
- a bare pyahocorasick scan over our normalized text: no boundaries, no rules; the floor.

flashtext and spaCy are imported inside the builders: they are bench extras, absent in CI.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick

from monitor.engine import Engine
from monitor.engine.normalize import normalize, normalize_phrase
from monitor.engine.watchlist import AliasSpec, Paradigm, load_file, watchlist_files

#: entity sets per seed, from the daemon issue's table (china is not in 000: it is on a related-article line)
SEED_TABLE: dict[str, frozenset[str]] = {
    "000": frozenset(
        {
            "russia",
            "north-korea",
            "south-korea",
            "usa",
            "japan",
            "ukraine",
            "sergei-lavrov",
            "kim-jong-un",
            "vladimir-putin",
            "choe-son-hui",
            "wonsan",
        }
    ),
    "001": frozenset(
        {
            "russia",
            "north-korea",
            "usa",
            "ukraine",
            "china",
            "sergei-lavrov",
            "choe-son-hui",
            "kim-jong-un",
            "vladimir-putin",
            "wonsan",
        }
    ),
    "002": frozenset(
        {
            "russia",
            "north-korea",
            "usa",
            "japan",
            "south-korea",
            "sergei-lavrov",
            "kim-jong-un",
            "choe-son-hui",
            "vladimir-putin",
            "wonsan",
        }
    ),
    "003": frozenset(
        {
            "russia",
            "north-korea",
            "ukraine",
            "sergei-lavrov",
            "kim-jong-un",
            "vladimir-putin",
            "usa",
            "south-korea",
            "japan",
            "choe-son-hui",
            "wonsan",
        }
    ),
    "004": frozenset({"russia", "north-korea", "kim-jong-un", "vladimir-putin", "usa", "ukraine"}),
}


@dataclass(frozen=True, slots=True)
class Form:
    """One alias in one inflected form, as written in the watchlist (not normalized)."""

    text: str
    entity: str
    case_sensitive: bool


Finder = Callable[[str], set[str]]


def _expand(alias: AliasSpec, paradigms: dict[str, Paradigm]) -> list[str]:
    if alias.forms is not None:
        paradigm = paradigms[alias.forms]
        stem = alias.text.removesuffix(paradigm.stem) if paradigm.stem else alias.text
        return [stem + ending for ending in paradigm.endings]
    if alias.suffixes is not None:
        return [alias.text + suffix for suffix in alias.suffixes]
    return [alias.text]


def entity_forms(paths: Sequence[Path]) -> list[Form]:
    """Every entity alias of the watchlists in every allowed form (what the peers are given)."""
    files = [loaded for path in watchlist_files(paths) if (loaded := load_file(path)[0]) is not None]
    paradigms = {name: p for file in files for name, p in file.content.paradigms.items()}
    return [
        Form(text, entity.id, alias.case)
        for file in files
        for entity in file.content.entities
        for aliases in entity.aliases.values()
        for alias in aliases
        for text in _expand(alias, paradigms)
    ]


def _by_text(forms: Sequence[Form]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(lowered text -> entities, exact text -> entities for case-sensitive aliases)."""
    folded: dict[str, set[str]] = {}
    exact: dict[str, set[str]] = {}
    for form in forms:
        if form.case_sensitive:
            exact.setdefault(form.text, set()).add(form.entity)
        else:
            folded.setdefault(form.text.lower(), set()).add(form.entity)
    return folded, exact


_LETTER = r"[\w\u0900-\u0963\u0966-\u097f]"


def build_re(forms: Sequence[Form]) -> Finder:
    folded, exact = _by_text(forms)
    alternatives = sorted(
        [re.escape(text) for text in folded] + [f"(?-i:{re.escape(text)})" for text in exact],
        key=len,
        reverse=True,
    )
    pattern = re.compile(f"(?i)(?<!{_LETTER})(?:{'|'.join(alternatives)})(?!{_LETTER})")

    def find(text: str) -> set[str]:
        found: set[str] = set()
        for match in pattern.finditer(text):
            word = match.group()
            found |= exact.get(word, set()) | folded.get(word.lower(), set())
        return found

    return find


def build_flashtext(forms: Sequence[Form]) -> Finder:
    from flashtext import KeywordProcessor

    processor: Any = KeywordProcessor(case_sensitive=False)
    for form in forms:
        processor.add_keyword(form.text, form.entity)

    def find(text: str) -> set[str]:
        return set(processor.extract_keywords(text))

    return find


def build_spacy(forms: Sequence[Form]) -> Finder:
    import spacy
    from spacy.matcher import PhraseMatcher

    nlp: Any = spacy.blank("xx")
    matcher: Any = PhraseMatcher(nlp.vocab, attr="LOWER")
    by_entity: dict[str, list[str]] = {}
    for form in forms:
        by_entity.setdefault(form.entity, []).append(form.text)
    for entity_id, texts in by_entity.items():
        matcher.add(entity_id, list(nlp.tokenizer.pipe(texts)))
    strings = nlp.vocab.strings

    def find(text: str) -> set[str]:
        return {strings[match_id] for match_id, _, _ in matcher(nlp.make_doc(text))}

    return find


def build_floor(forms: Sequence[Form]) -> tuple[Any, Finder]:
    """The automaton over normalized, lowered alias forms, and a finder that scans text already normalized."""
    automaton: Any = ahocorasick.Automaton()
    keys: dict[str, set[str]] = {}
    for form in forms:
        keys.setdefault(normalize_phrase(form.text).lower(), set()).add(form.entity)
    for key, entities in keys.items():
        automaton.add_word(key, frozenset(entities))
    automaton.make_automaton()

    def find(lowered: str) -> set[str]:
        found: set[str] = set()
        for _, entities in automaton.iter(lowered):
            found |= entities
        return found

    return automaton, find


def ours(engine: Engine) -> Finder:
    def find(text: str) -> set[str]:
        return {hit.id for hit in engine.tag(text).entities}

    return find


def floor_input(text: str) -> str:
    """What the floor scans: normalized, lowered text (normalizing is not part of its timing)."""
    return normalize(text).lowered


def seed_recall(find: Finder, seeds: Path, prepare: Callable[[str], str] = str) -> tuple[float, int]:
    """(entity recall over the seed table, entities found that the table does not list)."""
    expected_total = found_expected = extra = 0
    for prefix, expected in SEED_TABLE.items():
        path = next(seeds.glob(f"{prefix}_*.txt"))
        found = find(prepare(path.read_text(encoding="utf-8-sig")))
        expected_total += len(expected)
        found_expected += len(found & expected)
        extra += len(found - expected)
    return found_expected / expected_total, extra

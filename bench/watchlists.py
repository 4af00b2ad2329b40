"""Synthetic watchlists in the real YAML format, from 1,000 to 100,000 aliases and 100 to 10,000 rules.

Names are built from consonant-vowel syllables that stay distinct after the engine's spelling-variant
folding (short vowels only, no ब/व pair), with a Latin transliteration syllable for each Devanagari one,
so every size compiles without alias collisions. Entity *i* is the same in every size: a small
watchlist is a prefix of a large one, and the corpus can mention the first entities whatever the size.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

HI_CONSONANTS = ("क", "ग", "च", "ज", "ट", "ड", "त", "द", "न", "प", "म", "य", "र", "ल", "स", "ह")
EN_CONSONANTS = ("k", "g", "ch", "j", "t", "d", "n", "p", "m", "y", "r", "l", "s", "h")
HI_VOWELS = ("", "ि", "ु", "े", "ो")
EN_VOWELS = ("a", "i", "u", "e", "o")
SYLLABLES = len(EN_CONSONANTS) * len(EN_VOWELS)
#: three-syllable words for names, two syllables and a mark for terms: the two never coincide
NAME_WORDS = SYLLABLES**3
TERM_WORDS = SYLLABLES**2
ALIASES_PER_ENTITY = 5
TERM_GROUPS = 20
TERMS_PER_GROUP = 5
KINDS = ("person", "place", "organisation", "country")
#: the shipped shared file: paradigms (`noun-on`, `country`) and the `denial` term group
COMMON = Path(__file__).resolve().parent.parent / "config" / "watchlists" / "common.yaml"


def _word(index: int, syllables: int) -> tuple[str, str]:
    """(Devanagari, Latin) spelling of word number `index`; distinct indexes give distinct words."""
    hi, en = [], []
    for _ in range(syllables):
        index, syllable = divmod(index, SYLLABLES)
        consonant, vowel = divmod(syllable, len(EN_VOWELS))
        hi.append(HI_CONSONANTS[consonant] + HI_VOWELS[vowel])
        en.append(EN_CONSONANTS[consonant] + EN_VOWELS[vowel])
    return "".join(hi), "".join(en).capitalize()


@dataclass(frozen=True, slots=True)
class EntityName:
    id: str
    kind: str
    hi_first: str
    hi_last: str
    en_first: str
    en_last: str

    @property
    def hi_full(self) -> str:
        return f"{self.hi_first} {self.hi_last}"

    @property
    def en_full(self) -> str:
        return f"{self.en_first} {self.en_last}"


def entity(index: int) -> EntityName:
    """Entity number `index`; the multipliers are prime to NAME_WORDS, so first and last names never repeat."""
    hi_first, en_first = _word((index * 104_729 + 17) % NAME_WORDS, 3)
    hi_last, en_last = _word((index * 7_919 + 90_001) % NAME_WORDS, 3)
    return EntityName(f"e{index:05d}", KINDS[index % len(KINDS)], hi_first, hi_last, en_first, en_last)


def term_group(index: int) -> tuple[str, list[str], list[str]]:
    """(name, Hindi terms, English terms) of term group `index`."""
    words = [_word((index * TERMS_PER_GROUP + k) * 37 % TERM_WORDS, 2) for k in range(TERMS_PER_GROUP)]
    # names end in a short vowel or a bare consonant: an ई / a final y keeps terms apart from them
    hindi = [hi + "ी" for hi, _ in words[:3]]
    english = [en.lower() + "y" for _, en in words[3:]]
    return f"t{index:02d}", hindi, english


def entity_count(aliases: int) -> int:
    return max(1, (aliases - TERM_GROUPS * TERMS_PER_GROUP) // ALIASES_PER_ENTITY)


def _entity_yaml(name: EntityName) -> str:
    person = name.kind == "person"
    last_form = "noun-on" if person else "country"
    return (
        f"  - id: {name.id}\n"
        f"    name: {name.en_full}\n"
        f"    kind: {name.kind}\n"
        f"    fold: {'true' if person else 'false'}\n"
        "    aliases:\n"
        "      hi:\n"
        f"        - {name.hi_full}\n"
        f"        - {{text: {name.hi_last}, forms: {last_form}}}\n"
        "      en:\n"
        f"        - {name.en_full}\n"
        f"        - {name.en_last}\n"
        f"        - {name.en_first[0]}. {name.en_last}\n"
    )


def _rule_yaml(index: int, entities: int, rng: random.Random) -> str:
    """Three `all` groups (two sides and a term group), a denial veto; scopes mixed 12:5:3."""
    side_a = [entity(rng.randrange(entities)).id for _ in range(2)]
    side_b = [entity(rng.randrange(entities)).id for _ in range(2)]
    terms = sorted({term_group(rng.randrange(TERM_GROUPS))[0] for _ in range(2)})
    slot = index % 20
    scope = "sentence" if slot < 12 else ("{near: 12}" if slot < 17 else "article")
    vetoes = ["denial"] + ([term_group((index + 7) % TERM_GROUPS)[0]] if index % 5 == 0 else [])
    vetoes = [veto for veto in vetoes if veto not in terms]
    return (
        f"  - id: r{index:05d}\n"
        f"    title: Synthetic rule {index}\n"
        f"    severity: {('info', 'low', 'medium', 'high', 'critical')[index % 5]}\n"
        f"    scope: {scope}\n"
        "    all:\n"
        f"      - entities: [{', '.join(side_a)}]\n"
        f"      - entities: [{', '.join(side_b)}]\n"
        f"      - terms: [{', '.join(terms)}]\n"
        "    none:\n"
        f"      - terms: [{', '.join(vetoes)}]\n" + ("    min_mentions: 2\n" if scope == "article" else "")
    )


def write_watchlist(folder: Path, aliases: int, rules: int, seed: int = 0) -> list[Path]:
    """Write `synthetic.yaml` into `folder`; returns the files to load (with the shipped common.yaml)."""
    entities = entity_count(aliases)
    rng = random.Random(seed)
    parts = ["# generated by bench/watchlists.py: synthetic, do not edit\nentities:\n"]
    parts.extend(_entity_yaml(entity(index)) for index in range(entities))
    parts.append("terms:\n")
    for index in range(TERM_GROUPS):
        name, hindi, english = term_group(index)
        parts.append(f"  {name}:\n    hi:\n")
        parts.extend(f"      - {{text: {word}, forms: noun-on}}\n" for word in hindi)
        parts.append("    en:\n")
        parts.extend(f"      - {{text: {word}, forms: en-noun}}\n" for word in english)
    parts.append("rules:\n")
    parts.extend(_rule_yaml(index, entities, rng) for index in range(rules))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"synthetic-{aliases}-{rules}.yaml"
    path.write_text("".join(parts), encoding="utf-8")
    return [COMMON, path]

"""Any alias, written into any text between word boundaries, is found where it was written.

Aliases come from the shipped watchlists (every allowed form) and from generated Devanagari and
Latin names compiled on the spot; they are written with the variants the engine promises not to
see (nukta letters precomposed or decomposed, ZWJ/ZWNJ inside words, NBSP, hyphens or dashes
between words, chandrabindu, candra vowels, a nasal consonant for the anusvara, capitals) between
random words and punctuation. The span must point at the alias in the original text.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache
from itertools import compress

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from monitor.engine import Engine
from monitor.engine.aliases import key_forms
from monitor.engine.compile import TERMS_PREFIX, check_and_compile
from monitor.engine.segment import is_word_char, word_char_pattern
from monitor.engine.watchlist import LoadedFile, WatchlistFile, load_file, watchlist_files
from tests.engine.conftest import SHIPPED

#: base letter -> its nukta letter, precomposed (U+0958..U+095F)
NUKTA_OF = {unicodedata.normalize("NFD", chr(code))[0]: chr(code) for code in range(0x0958, 0x0960)}
#: consonant classes with their nasal: an anusvara before one of them may be written nasal + virama
NASAL_OF = {consonant: nasal for nasal, row in zip("ङञणनम", ("कखगघ", "चछजझ", "टठडढ", "तथदध", "पफबभ"), strict=True)
            for consonant in row}  # fmt: skip
#: boundaries no alias crosses: punctuation, or a line break (a space alias needs a space)
BOUNDARIES = ["। ", ", ", " (", ") ", ": ", "\n", "? ", "! ", ' "', '" ', "; "]
CONSONANTS = "कखगघचछजझटठडढतथदधनपफबभमयरलवशसह"
VOWEL_SIGNS = ["", "ा", "ि", "ी", "ु", "ू", "े", "ै", "ो", "ौ", "ं", "ॉ"]
#: candra vowels for their plain ones (वॉनसन/वोनसन), and vowel lengths swapped (for folding names)
CANDRA = str.maketrans("ोेओए", "ॉॅऑऍ")
VOWEL_LENGTH = str.maketrans("िीुू", "ीिूु")


@cache
def shipped_aliases() -> list[tuple[str, str, bool]]:
    """(form, target, case-sensitive) for every entity alias and term of the shipped watchlists."""
    files = [file for path in watchlist_files([SHIPPED]) if (file := load_file(path)[0]) is not None]
    paradigms = {name: paradigm for file in files for name, paradigm in file.content.paradigms.items()}
    found = []
    for file in files:
        for entity in file.content.entities:
            for aliases in entity.aliases.values():
                # a surname alone (`coref`) is found only beside the full name: test_news_names.py
                for alias in (alias for alias in aliases if not alias.coref):
                    found += [(form, entity.id, alias.case) for form in key_forms(alias, paradigms)]
        for name, by_language in file.content.terms.items():
            # look-alikes (`exclude`) are where a term is *not* found: test_term_lookalikes.py
            for terms in (terms for language, terms in by_language.items() if language != "exclude"):
                for term in terms:
                    found += [(form, TERMS_PREFIX + name, term.case) for form in key_forms(term, paradigms)]
    return found


def _inside_word(text: str, positions: list[int], char: str) -> str:
    """`char` inserted after a Devanagari letter or sign and before a letter (`उत्\u200dतर`), as
    writers put joiners: never before a sign (which belongs to its letter) nor at the ends."""
    chars = list(text)
    for position in sorted({1 + position % max(1, len(chars) - 1) for position in positions}, reverse=True):
        if (
            position < len(chars)
            and "\u0900" <= chars[position - 1] <= "\u097f"
            and not unicodedata.category(chars[position]).startswith("M")
        ):
            chars.insert(position, char)
    return "".join(chars)


@st.composite
def written(draw: st.DrawFn, alias: str, case_sensitive: bool) -> str:
    """`alias` as a writer may spell it: each promised variant applied or not."""
    text = alias
    if draw(st.booleans()):
        text = "".join(
            draw(st.sampled_from([NUKTA_OF[char], unicodedata.normalize("NFD", NUKTA_OF[char])]))
            if char in NUKTA_OF and draw(st.booleans())
            else char
            for char in text
        )
    if draw(st.booleans()):
        text = re.sub("ं(?=[" + "".join(NASAL_OF) + "])", lambda match: NASAL_OF[text[match.end()]] + "्", text)
    if draw(st.booleans()):
        text = text.replace("ं", "ँ")
    if draw(st.booleans()):
        text = text.translate(CANDRA)
    if draw(st.booleans()):
        positions = draw(st.lists(st.integers(min_value=0), max_size=3))
        text = _inside_word(text, positions, draw(st.sampled_from("\u200d\u200c")))
    spaces = draw(st.sampled_from([" ", "\u00a0", "-", "\u2013", "  ", " - "]))
    text = text.replace(" ", spaces) if spaces != " - " or text.count(" ") == 1 else text
    if not case_sensitive and text.isascii() and draw(st.booleans()):
        text = draw(st.sampled_from([str.upper, str.title, str.lower]))(text)
    return text


hindi_words = st.lists(
    st.tuples(st.sampled_from(CONSONANTS), st.sampled_from(VOWEL_SIGNS)).map("".join), min_size=1, max_size=4
).map("".join)
latin_words = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
filler = st.lists(st.one_of(hindi_words, latin_words), max_size=3).map(" ".join)


@st.composite
def sentence_around(draw: st.DrawFn, alias: str) -> tuple[str, int]:
    """Text with `alias` between boundaries, and where the alias starts in it."""
    before = draw(filler)
    before += draw(st.sampled_from(BOUNDARIES)) if before else ""
    after = draw(filler)
    after = draw(st.sampled_from(BOUNDARIES)) + after + "।" if after or draw(st.booleans()) else ""
    return before + alias + after, len(before)


def found_at(engine: Engine, text: str, start: int, end: int, target: str) -> bool:
    return any((span.start, span.end, span.source) == (start, end, target) for span in engine.explain(text).spans)


examples = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@examples
@given(st.data())
def test_every_shipped_alias_is_found_where_it_is_written(shipped: Engine, data: st.DataObject) -> None:
    form, target, case_sensitive = data.draw(st.sampled_from(shipped_aliases()))
    alias = data.draw(written(form, case_sensitive))
    text, start = data.draw(sentence_around(alias))
    assert found_at(shipped, text, start, start + len(alias), target), (form, text)


syllables = st.tuples(
    st.sampled_from(CONSONANTS),
    st.sampled_from(["", "\u093c"]),
    st.sampled_from([*VOWEL_SIGNS, "्" + "त", "्" + "र", "्" + "य"]),
).map("".join)
hindi_names = st.lists(syllables, min_size=2, max_size=4).map("".join)
latin_names = st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=9).map(str.capitalize)


@st.composite
def generated_alias(draw: st.DrawFn) -> tuple[str, bool, bool]:
    """(alias text, folds spelling variants, case-sensitive)."""
    if draw(st.booleans()):
        return " ".join(draw(st.lists(hindi_names, min_size=1, max_size=3))), draw(st.booleans()), False
    words = draw(st.lists(latin_names, min_size=1, max_size=3))
    if draw(st.booleans()):
        return " ".join(word.upper() for word in words), False, True
    return " ".join(words), False, False


def engine_of(alias: str, folds: bool, case_sensitive: bool) -> Engine | None:
    content = WatchlistFile.model_validate(
        {
            "entities": [
                {
                    "id": "generated",
                    "name": "Generated",
                    "kind": "person",
                    "fold": folds,
                    "aliases": {"xx": [{"text": alias, "case": case_sensitive}]},
                }
            ]
        }
    )
    compiled, problems = check_and_compile([LoadedFile("generated.yaml", content, "")])
    return None if compiled is None or problems else Engine(compiled)


@examples
@given(generated_alias(), st.data())
def test_every_generated_alias_is_found_where_it_is_written(
    generated: tuple[str, bool, bool], data: st.DataObject
) -> None:
    alias_text, folds, case_sensitive = generated
    engine = engine_of(alias_text, folds, case_sensitive)
    if engine is None:
        reject()  # too short to be an alias
    alias = data.draw(written(alias_text, case_sensitive))
    if folds and data.draw(st.booleans()):
        # folding names are found with their vowel lengths changed
        alias = alias.translate(VOWEL_LENGTH)
    text, start = data.draw(sentence_around(alias))
    assert found_at(engine, text, start, start + len(alias), "generated"), (alias_text, text)


def test_the_word_character_pattern_is_is_word_char() -> None:
    every_char = "".join(map(chr, range(sys.maxunicode + 1)))
    matched = [match.start() for match in re.finditer(word_char_pattern(), every_char)]
    # the uncached function: a million characters would fill the cache
    expected = list(compress(range(len(every_char)), map(is_word_char.__wrapped__, every_char)))
    assert matched == expected


def test_a_nasal_pair_a_decomposed_nukta_brings_together_folds_in_the_article_as_in_the_alias() -> None:
    """Hypothesis found it: the nukta's deletion makes `न्त`, which the article folded (it had another
    nasal pair, `ङ्क`) and the alias did not."""
    alias, written_in = "न\u093c्तकंक", "न\u093c्तकङ्क"
    engine = engine_of(alias, False, False)
    assert engine is not None
    assert found_at(engine, written_in, 0, len(written_in), "generated")

"""The archive's text side: an article's language, the form its words are indexed in for full-text search,
and a user's query turned into FTS5 syntax that cannot be malformed. Pure functions.

Words are indexed in the engine's own normalised form (``engine.normalize``: nukta, ZWJ/ZWNJ, chandrabindu,
nasal spellings, case), then lightly stemmed: the endings of Hindi nouns and adjectives (the paradigms of
the shipped watchlists: ``ा े ों``, ``ी ियों``, ``ई इयों``) and English plural and possessive endings come
off, so that a query word and its inflected forms meet in one stem (``समझौता``, ``समझौते`` and ``समझौतों``
are all ``समझौत``; ``agreement`` and ``agreements`` are ``agreement``). A query stem of four letters or
more also matches as a prefix (``sign`` finds ``signed``, ``signing``)."""

from __future__ import annotations

import re

from monitor.engine.normalize import lower, normalize

#: a word: letters and digits with the Devanagari marks that belong to them (as story_features' words)
WORD = re.compile(r"[^\W_]+(?:[\u0900-\u0903\u093a-\u094f\u0955-\u0957\u0962\u0963]+[^\W_]*)*")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")

#: Hindi inflectional endings in normalised form, longest first (one comes off, leaving two letters or more)
_HINDI_ENDINGS = ("ाइयों", "ियों", "इयों", "ियां", "ाओं", "ाएं", "ाई", "ों", "ें", "ीं", "ां", "ो", "े", "ी", "ा", "ई")
#: a query stem this long (characters) also matches as a prefix
PREFIX_FROM = 4
#: at most this many query words are used (a pasted paragraph is not a search)
MAX_TERMS = 16

#: share of Devanagari among the letters from which an article is Hindi (and below one minus it, English)
HINDI_SHARE = 0.8


def language_of(text: str) -> str:
    """``hi``, ``en`` or ``mixed``, by the share of Devanagari against Latin letters (no letters: ``en``)."""
    devanagari = len(_DEVANAGARI.findall(text))
    latin = len(_LATIN.findall(text))
    if devanagari + latin == 0:
        return "en"
    share = devanagari / (devanagari + latin)
    if share >= HINDI_SHARE:
        return "hi"
    if share <= 1 - HINDI_SHARE:
        return "en"
    return "mixed"


def stem(word: str) -> str:
    """A normalised, lower-case word without its inflectional ending."""
    if _DEVANAGARI.match(word):
        for ending in _HINDI_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 2:
                return word[: -len(ending)]
        return word
    return _english_stem(word)


def _english_stem(word: str) -> str:
    word = word.removesuffix("'s").removesuffix("’s")
    if len(word) <= 3 or not word.isascii():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """The stems of a text's words, in order: what is indexed, and what a query is made of."""
    return [stem(word) for word in WORD.findall(lower(normalize(text).text))]


def search_form(text: str) -> str:
    """The text as the index holds it: its stems separated by spaces."""
    return " ".join(words(text))


def match_expression(query: str) -> str | None:
    """FTS5 MATCH syntax for a user's query: every word must occur (as its stem, or a longer word starting
    with a stem of four letters or more); each term is quoted, so no input is ever FTS syntax. None: the
    query has no word to search for."""
    terms = list(dict.fromkeys(words(query)))[:MAX_TERMS]
    if not terms:
        return None
    return " ".join(f'"{term}"*' if len(term) >= PREFIX_FROM else f'"{term}"' for term in terms)

"""The archive's text side: an article's language, the form its text is indexed in for full-text search,
and a user's query turned into FTS5 syntax that cannot be malformed. Pure functions.

Texts are indexed in the engine's own normalised form (``engine.normalize``: nukta, ZWJ/ZWNJ, chandrabindu,
nasal spellings, then lower case: the text the engine scanned, ``Engine.tag_scanned``); a query is
normalised the same way, and each of its words is searched as its light stem, as a prefix: the endings of
Hindi nouns and adjectives (the paradigms of the shipped watchlists: ``ा े ों``, ``ी ियों``, ``ई इयों``) and English plural
endings come off, so that ``समझौता``, ``समझौते`` and ``समझौतों`` all find ``समझौत…``, and ``agreement`` finds
``agreements``. Stemming the query alone keeps the index write cheap (no pass over every word of every
article)."""

from __future__ import annotations

import re
import unicodedata

from monitor.engine.normalize import lower, normalize

#: a word: letters and digits with the Devanagari marks that belong to them (as story_features' words)
WORD = re.compile(r"[^\W_]+(?:[\u0900-\u0903\u093a-\u094f\u0955-\u0957\u0962\u0963]+[^\W_]*)*")
#: a possessive ``'s`` (or ``’s``) ending a word: it comes off (the index splits ``Russia's`` at the
#: apostrophe, so a required ``s`` would find only the articles that happen to hold one)
_POSSESSIVE = re.compile(r"(?<=[^\W\d_])['’][sS](?![^\W_])")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
#: every byte but the ASCII letters (deleted to count them, C-level)
_NOT_LATIN = bytes(b for b in range(256) if not (0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A))

#: Hindi inflectional endings in normalised form, longest first (one comes off, leaving two letters or more)
_HINDI_ENDINGS = ("ाइयों", "ियों", "इयों", "ियां", "ाओं", "ाएं", "ाई", "ों", "ें", "ीं", "ां", "ो", "े", "ी", "ा", "ई")
#: a Latin query stem this long (characters) matches as a prefix; a shorter one as itself or its plural
PREFIX_FROM = 4
#: at most this many query words are used (a pasted paragraph is not a search)
MAX_TERMS = 16

#: share of Devanagari among the letters from which an article is Hindi (and below one minus it, English)
HINDI_SHARE = 0.8


def language_of(text: str) -> str:
    """``hi``, ``en`` or ``mixed``, by the share of Devanagari characters against ASCII letters (none: ``en``).
    Counted on the UTF-8 bytes (every Devanagari character starts with E0 A4 or E0 A5): C-level."""
    data = text.encode("utf-8", "surrogatepass")
    devanagari = data.count(b"\xe0\xa4") + data.count(b"\xe0\xa5")
    latin = len(data.translate(None, _NOT_LATIN))
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
    """The stems of a query's words, in order: NFKC-folded first (fullwidth ``Ｒｕｓｓｉａ`` is ``Russia``),
    without possessives, then normalised by the engine's own normaliser, as the indexed text was."""
    folded = _POSSESSIVE.sub("", unicodedata.normalize("NFKC", text))
    return [stem(word) for word in WORD.findall(lower(normalize(folded).text))]


def search_form(text: str) -> str:
    """The text as the index holds it: normalised, lower case."""
    return lower(normalize(text).text)


def _term(word: str) -> str:
    """One query word as FTS5 syntax: a Hindi stem and a long Latin one as a prefix (a Latin one ending in
    ``y`` without it: ``treaty`` finds ``treaties``), a short Latin one as itself or its plural."""
    if _DEVANAGARI.match(word):
        return f'"{word}"*'
    if len(word) >= PREFIX_FROM:
        root = word[:-1] if word.endswith("y") and word.isascii() else word
        return f'"{root}"*'
    return f'("{word}" OR "{word}s")'


def match_expression(query: str) -> str | None:
    """FTS5 MATCH syntax for a user's query: every word must occur (``_term``); each term is quoted, so no
    input is ever FTS syntax. None: the query has no word to search for."""
    terms = list(dict.fromkeys(words(query)))[:MAX_TERMS]
    if not terms:
        return None
    return " AND ".join(_term(term) for term in terms)

"""What story grouping knows of one article: its time, outlet, entity ids, fired rules with their novelty,
matched term words and a MinHash signature of its text. Pure CPU work, done where the article is tagged
(a worker process), so the store thread only compares."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import PurePath
from urllib.parse import urlsplit

import numpy as np
from datasketch import LeanMinHash, MinHash

from monitor.articles import Article
from monitor.engine.normalize import lower, normalize
from monitor.engine.result import NOVELTY_RANK, Novelty, TagResult
from monitor.story_concepts import SUBJECT, subjects

#: permutations of a signature: 64 keeps a wire copy's Jaccard estimate within about ±0.06
NUM_PERM = 64
#: words per shingle: three words tell "signed a customs pact" from "signed a tourism pact"
SHINGLE = 3
#: a word: letters and digits with the Devanagari marks that belong to them (never `re`'s `\b`)
_WORD = re.compile(r"[^\W_]+(?:[\u0900-\u0903\u093a-\u094f\u0955-\u0957\u0962\u0963]+[^\W_]*)*")


#: one consonant class per sound, the same for Latin and Devanagari, vowels dropped: `Tumen` and `तुमेन`
#: are both `tmn`, `Vladivostok` and `व्लादिवोस्तोक` both `vldvstk` (what unites the names of places and
#: things that no watchlist lists across the two scripts)
_LATIN_PAIRS = (("kh", "k"), ("gh", "g"), ("ch", "c"), ("sh", "s"), ("th", "t"), ("dh", "d"), ("ph", "f"), ("bh", "b"))
_CLASSES = str.maketrans(
    {
        **dict.fromkeys("aeiouhy", ""),
        "q": "k",
        "x": "ks",
        "z": "j",
        "w": "v",
        **dict.fromkeys("कखक़ख़", "k"),
        **dict.fromkeys("गघग़", "g"),
        **dict.fromkeys("चछ", "c"),
        **dict.fromkeys("जझज़", "j"),
        **dict.fromkeys("टठतथ", "t"),
        **dict.fromkeys("डढदधड़ढ़", "d"),
        **dict.fromkeys("नणङञंँ", "n"),
        "प": "p",
        **dict.fromkeys("फफ़", "f"),
        **dict.fromkeys("बभ", "b"),
        "म": "m",
        "र": "r",
        "ल": "l",
        "व": "v",
        **dict.fromkeys("शषस", "s"),
        **{chr(0x966 + d): str(d) for d in range(10)},
    }
)
_KEEP = re.compile(r"[bcdfgjklmnprstv0-9]")


#: weekday names (Monday = 0), English and Hindi: "signed on Thursday" and "गुरुवार को हस्ताक्षर" name one day
_WEEKDAYS: dict[str, int] = {
    **{name: n for n, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday"))},
    "sunday": 6,
    **{name: n for n, name in enumerate(("सोमवार", "मंगलवार", "बुधवार", "गुरुवार", "शुक्रवार", "शनिवार", "रविवार"))},
    "वीरवार": 3,
    "बृहस्पतिवार": 3,
}
#: a number with its digit-group separators (`3,000`, `3,00,000`, `१२,५००`): one token, `3000`
_NUMBER = re.compile(r"\d+(?:,\d{2,3})+|\d+")
#: the prefix of the event-day token among an article's words (never a skeleton: those have no `@`)
DAY = "@"


def event_day(words: list[str], at: datetime) -> str:
    """The day the article's news happened, as a token: the first weekday it names ("on Thursday",
    "गुरुवार को"), taken as the latest such day up to the article's own date, else the article's date.
    Hindi and English reports of one event share it when they share nothing else but the countries."""
    return day_named(first_weekday(words), at)


def first_weekday(words: list[str]) -> int | None:
    """The first weekday the words name (Monday = 0), None: none."""
    return next((weekday for word in words if (weekday := _WEEKDAYS.get(word)) is not None), None)


def day_named(weekday: int | None, at: datetime) -> str:
    """``event_day`` from the weekday the text names first."""
    day: date = at.date()
    if weekday is not None:
        day -= timedelta(days=(day.weekday() - weekday) % 7)
    return f"{DAY}{day.isoformat()}"


def next_day(day: str) -> str:
    """The event-day token of the day after."""
    return f"{DAY}{(date.fromisoformat(day.removeprefix(DAY)) + timedelta(days=1)).isoformat()}"


def numbers(text: str) -> frozenset[str]:
    """The figures of the text without their group separators, of two digits or more: `3,000 workers` and
    `3,000 श्रमिकों` share `3000` (Devanagari digits read as digits)."""
    found = (skeleton(match.replace(",", "")) for match in _NUMBER.findall(text))
    return frozenset(number for number in found if len(number) >= 2)


@lru_cache(maxsize=1 << 15)
def skeleton(word: str) -> str:
    """A word's consonant skeleton (see `_CLASSES`); Devanagari vowels, matras and viramas drop out.
    Remembered: an article's words are mostly the words of the ones before it."""
    for pair, single in _LATIN_PAIRS:
        word = word.replace(pair, single)
    return "".join(_KEEP.findall(word.translate(_CLASSES)))


def skeletons(words: list[str]) -> frozenset[str]:
    """The skeletons worth comparing: three consonants or more, or a number of two digits or more."""
    out = set()
    for word in set(words):  # each word once: an article repeats most of its words
        shape = skeleton(word)
        if len(shape) >= 3 or (len(shape) >= 2 and shape.isdigit()):
            out.add(shape)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """An article as the ``StoryBook`` sees it (picklable: it crosses from the worker process)."""

    #: the content hash: an article's identity, and of the story it opens
    key: str
    at: datetime
    outlet: str
    entities: frozenset[str]
    #: (rule, novelty), one per rule, the article's news first by `NOVELTY_RANK`
    rules: tuple[tuple[str, Novelty], ...]
    #: term groups and the words that matched them (`agreement`, `agreement:customs`)
    terms: frozenset[str]
    #: MinHash hash values (`NUM_PERM` of them) of the text's word shingles; empty: no words
    signature: bytes = b""
    #: consonant skeletons of its words (`skeleton`), its figures (`numbers`) and its subject ids
    #: (`story_concepts.subjects`, the same in Hindi and English): compared weighted by how rare they are in
    #: the window; and one `DAY` token, its event day (`event_day`)
    words: frozenset[str] = frozenset()

    @property
    def minhash(self) -> LeanMinHash | None:
        if not self.signature:
            return None
        return LeanMinHash(seed=1, hashvalues=np.frombuffer(self.signature, dtype=np.uint32), scheme="affine32")


def outlet_of(article: Article) -> str:
    """Who published it: JSON `source`, else the URL's host, else the folder the file is in (feeds are
    usually dropped into one folder per outlet), else empty."""
    if article.source and article.source.strip():
        return article.source.strip()
    if article.url:
        host = urlsplit(article.url).hostname
        if host:
            return host.removeprefix("www.")
    return PurePath(article.path).parent.name


def words_of(text: str) -> list[str]:
    return _WORD.findall(lower(normalize(text).text))


@cache
def _permutations() -> np.ndarray:
    """datasketch's permutations for ``NUM_PERM`` (seed 1), made once: it draws them anew per MinHash."""
    permutations: np.ndarray = MinHash(num_perm=NUM_PERM).permutations
    return permutations


def _hash32(value: int) -> int:
    """The shingles come hashed already (``signature_of``): datasketch's own `sha1_hash32`, in one loop."""
    return value


def signature_of(text: str, words: list[str] | None = None) -> bytes:
    """MinHash of the normalized text's word shingles (datasketch's batch update: one call per article).
    The hash is datasketch's default (SHA-1's first four bytes, little-endian), taken in one comprehension
    rather than a function call per shingle: the same signature, about twice as fast."""
    words = words_of(text) if words is None else words
    if not words:
        return b""
    size = min(SHINGLE, len(words))
    sha1, little = hashlib.sha1, int.from_bytes
    shingles = {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}
    hashed = [little(sha1(shingle).digest()[:4], "little") for shingle in shingles]
    minhash = MinHash(NUM_PERM, hashfunc=_hash32, permutations=_permutations(), scheme="affine32")
    minhash.update_batch(hashed)
    return bytes(minhash.hashvalues.astype(np.uint32).tobytes())


def evidence_ids(result: TagResult, days: tuple[str, ...]) -> frozenset[str]:
    """Language-neutral ids of what each fired rule's evidence sentences say, one per day of ``days``: the
    day, the rule with its novelty, and each person or place id or subject of the evidence
    (`#@2026-03-07/russia-dprk-meeting:new/sergei-lavrov`, `…/russia-dprk-agreement:new/customs`).
    The article's background (other people, other subjects) is left out: two reports of one meeting
    name its participants where they tell the meeting. Given its event day and the next, two articles
    share ids when their event days are at most a day apart (a Hindi daily dated the morning after), and
    Kim's meetings with one visitor after another do not chain into one story."""
    ids: set[str] = set()
    named = {entity.id for entity in result.entities if entity.kind != "country"}
    for hit in result.rules:
        for evidence in hit.evidence:
            said = {span.source for span in evidence.spans if span.source in named}
            said.update(subject.removeprefix(SUBJECT) for subject in subjects(words_of(evidence.text)))
            ids.update(f"{SUBJECT}{day}/{hit.rule}:{hit.novelty}/{what}" for what in said for day in days)
    return frozenset(ids)


@dataclass(frozen=True, slots=True)
class TextFeatures:
    """What story grouping reads of an article's text alone, whatever the watchlist (the archive keeps it:
    a retro run groups its articles without reading their texts again)."""

    #: ``StoryArticle.signature``
    signature: bytes
    #: its word skeletons, figures and subject ids (``StoryArticle.words`` without the event day and the
    #: evidence ids, which depend on the watchlist and the article's date)
    words: frozenset[str]
    #: the first weekday it names (``first_weekday``)
    weekday: int | None


def text_features(text: str) -> TextFeatures:
    normalized = normalize(text).text  # once: the words and the figures are both read from it
    words = _WORD.findall(lower(normalized))
    return TextFeatures(
        signature_of(text, words),
        skeletons(words) | numbers(normalized) | subjects(words),
        first_weekday(words),
    )


def story_article(article: Article, result: TagResult, at: datetime, text: TextFeatures | None = None) -> StoryArticle:
    """The story features of a tagged article; ``text``: its ``text_features`` when known already."""
    best: dict[str, Novelty] = {}
    terms: set[str] = set()
    text = text_features(article.text) if text is None else text
    day = day_named(text.weekday, at)
    for hit in result.rules:
        if hit.rule not in best or NOVELTY_RANK[hit.novelty] > NOVELTY_RANK[best[hit.rule]]:
            best[hit.rule] = hit.novelty
        for evidence in hit.evidence:
            for span in evidence.spans:
                if span.source.startswith("terms:"):
                    group = span.source.removeprefix("terms:")
                    terms.add(group)
                    terms.add(f"{group}:{lower(normalize(span.text).text)}")
    return StoryArticle(
        key=article.sha256,
        at=at,
        outlet=outlet_of(article),
        entities=frozenset(entity.id for entity in result.entities),
        rules=tuple(sorted(best.items())),
        terms=frozenset(terms),
        signature=text.signature,
        words=text.words | evidence_ids(result, (day, next_day(day))) | {day},
    )

"""A deterministic corpus of Hindi, English and mixed news articles of 2-10 KB.

Hindi sentences come from the sample articles in ``../shared/seeds`` (read at run time, never stored
in the repo), reshuffled across articles with dates and numbers changed; English and code-mixed
sentences come from templates below. Names of the synthetic watchlist's first entities and its terms
are mixed in (some sentences put two sides and a term together, so rules fire), and a share of the
articles carries what real feeds carry: CRLF, NBSP, ZWJ inside words, a BOM, nukta spellings.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.watchlists import TERM_GROUPS, entity, entity_count, term_group

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
#: entities of the synthetic watchlist that articles mention (present in every size, even 1,000 aliases)
MENTIONED_ENTITIES = entity_count(1000)
MIN_BYTES, MAX_BYTES = 2048, 10240
LANGUAGES = ("hi", "hi", "hi", "hi", "en", "en", "en", "mixed", "mixed", "mixed")

_EN_TEMPLATES = (
    "{name} said on {day} that talks with {name2} would continue next week in {city}.",
    "Officials in {city} confirmed that {number} people were evacuated after heavy rain on {day}.",
    "The ministry said exports rose {number} per cent in the quarter, the fastest pace since {year}.",
    "{name} and {name2} signed the {term} in {city} on {day}, according to a statement.",
    "Analysts expect the central bank to hold rates at {number}.5 per cent when it meets on {day}.",
    "A spokesperson for {name} denied reports of a {term}, calling them baseless.",
    "The U.S. delegation arrived in {city} late on {day} for a two-day visit.",
    "Shares of the company closed {number} points higher after the results, traders said.",
    "{name} told reporters the {term} with {name2} covers trade, energy and transport.",
    "Police said {number} suspects were detained in {city} and an inquiry was under way.",
    "The match was called off after {number} overs because of bad light in {city}.",
    "Farmers in the region said the monsoon arrived {number} days late this year.",
    "Read more: {name} visits {city} as talks resume",
    "“We will not accept any pressure,” {name} said in a speech in {city} on {day}.",
)
_HI_TEMPLATES = (
    "{name} ने {day} को {city} में कहा कि {name2} के साथ बातचीत जारी रहेगी।",
    "{city} में {number} लोगों को सुरक्षित स्थानों पर पहुँचाया गया, अधिकारियों ने बताया।",
    "{name} और {name2} के बीच {term} पर हस्ताक्षर हुए, सरकारी बयान में कहा गया।",
    "मौसम विभाग ने अगले {number} दिनों में भारी बारिश की चेतावनी जारी की है।",
    "{name} के प्रवक्ता ने {term} की ख़बरों को बेबुनियाद बताते हुए खारिज कर दिया।",
    "बाज़ार में सेंसेक्स {number} अंक चढ़कर बंद हुआ, निवेशकों का उत्साह बना रहा।",
)
_MIXED_TEMPLATES = (
    "{name} ने कहा कि यह {term} एक historic step है और {name2} भी इससे सहमत हैं।",
    "Breaking: {city} में {name} की press conference, {number} पत्रकार मौजूद।",
    "इस deal के बाद {name} और {name2} की meeting {day} को {city} में होगी।",
    "Also Read: {city} में {number} नए projects को मंज़ूरी",
    "सूत्रों के मुताबिक़ {name} की टीम ने {term} का draft तैयार कर लिया है।",
)
_CITIES_EN = ("Delhi", "Mumbai", "Geneva", "Vienna", "Jakarta", "Nairobi", "Lima", "Oslo")
_CITIES_HI = ("दिल्ली", "मुंबई", "जिनेवा", "वियना", "जकार्ता", "नैरोबी", "लीमा", "ओस्लो")
_DAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAYS_HI = ("सोमवार", "मंगलवार", "बुधवार", "गुरुवार", "शुक्रवार", "शनिवार", "रविवार")
_SENTENCE_END = re.compile(r"(?<=[।?!])\s+|(?<=\.)\s+(?=[A-Z\u0900-\u097f])|\n+")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Article:
    name: str
    language: str
    text: str

    @property
    def size(self) -> int:
        return len(self.text.encode("utf-8"))


def seed_sentences(seeds: Path = SEEDS) -> list[str]:
    """Sentences of the sample articles (read here, kept only in memory)."""
    sentences: list[str] = []
    for path in sorted(seeds.glob("*.txt")):
        for sentence in _SENTENCE_END.split(path.read_text(encoding="utf-8-sig")):
            sentence = sentence.strip()
            if len(sentence) > 20:
                sentences.append(sentence)
    if not sentences:
        raise FileNotFoundError(f"no sample articles in {seeds}: the corpus is built from them")
    return sentences


class CorpusGenerator:
    """Builds article number *i* from its own RNG stream, so any article can be made alone, in any order."""

    def __init__(self, seed: int = 0, seeds: Path = SEEDS) -> None:
        self.seed = seed
        self.hindi = seed_sentences(seeds)
        names = [entity(index) for index in range(MENTIONED_ENTITIES)]
        self.hi_names = [n.hi_full for n in names] + [n.hi_last for n in names]
        self.en_names = [n.en_full for n in names] + [n.en_last for n in names]
        groups = [term_group(index) for index in range(TERM_GROUPS)]
        self.hi_terms = [word for _, hindi, _ in groups for word in hindi]
        self.en_terms = [word for _, _, english in groups for word in english]

    def _fill(self, template: str, rng: random.Random, hindi: bool) -> str:
        names = self.hi_names if hindi else self.en_names
        return template.format(
            name=rng.choice(names),
            name2=rng.choice(names),
            term=rng.choice(self.hi_terms if hindi else self.en_terms),
            city=rng.choice(_CITIES_HI if hindi else _CITIES_EN),
            day=rng.choice(_DAYS_HI if hindi else _DAYS_EN),
            number=rng.randrange(2, 999),
            year=rng.randrange(1990, 2024),
        )

    def _sentence(self, language: str, rng: random.Random) -> str:
        if language == "en" or (language == "mixed" and rng.random() < 0.3):
            return self._fill(rng.choice(_EN_TEMPLATES), rng, hindi=False)
        if language == "mixed" and rng.random() < 0.5:
            return self._fill(rng.choice(_MIXED_TEMPLATES), rng, hindi=True)
        if rng.random() < 0.25:
            return self._fill(rng.choice(_HI_TEMPLATES), rng, hindi=True)
        sentence = _DIGITS.sub(lambda m: str(rng.randrange(1, 10 ** len(m.group()))), rng.choice(self.hindi))
        return sentence if sentence[-1] in "।?!.”’" else sentence + "।"

    def article(self, index: int) -> Article:
        rng = random.Random(self.seed * 1_000_003 + index)
        language = LANGUAGES[rng.randrange(len(LANGUAGES))]
        target = rng.randrange(MIN_BYTES, MAX_BYTES)
        title = self._sentence(language, rng).rstrip("।.")
        paragraphs: list[str] = []
        size = len(title.encode())
        while True:
            paragraph = " ".join(self._sentence(language, rng) for _ in range(rng.randrange(2, 6)))
            grown = size + len(paragraph.encode()) + 2
            if grown > target and size >= MIN_BYTES:
                break
            if grown > MAX_BYTES:
                # fill up to the target with single sentences rather than overshoot the 10 KB cap
                sentence = self._sentence(language, rng)
                if size + len(sentence.encode()) + 2 > MAX_BYTES:
                    break
                paragraph = sentence
            paragraphs.append(paragraph)
            size += len(paragraph.encode()) + 2
        text = title + "\n\n" + "\n\n".join(paragraphs) + "\n"
        return Article(f"{index:05d}-{language}.txt", language, _feed_noise(text, rng))

    def articles(self, count: int, start: int = 0) -> Iterator[Article]:
        for index in range(start, start + count):
            yield self.article(index)


def _feed_noise(text: str, rng: random.Random) -> str:
    """What real feeds carry: CRLF (10%), NBSP (10%), ZWJ inside a conjunct (10%), a BOM (3%)."""
    if rng.random() < 0.1:
        text = text.replace(" ", "\u00a0", 3)
    if rng.random() < 0.1:
        text = text.replace("त्त", "त्\u200dत", 2)
    if rng.random() < 0.1:
        text = text.replace("\n", "\r\n")
    if rng.random() < 0.03:
        text = "\ufeff" + text
    return text

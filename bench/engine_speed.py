"""Quick engine throughput check on one core: the shipped watchlists and a large synthetic one.

    .venv/bin/python -m bench.engine_speed [--rounds N] [--aliases 10000] [--rules 1000] [--profile]

Reads the sample articles from ../shared/seeds when present (as the article reader hands them to
the engine: title, blank line, body), otherwise uses generated Hindi/English/mixed text. Prints MB/s
(UTF-8 bytes of article text per second of `Engine.tag`) for:

- the shipped watchlists (config/watchlists);
- the shipped watchlists plus a generated file in the real YAML format with N aliases (Devanagari
  and Latin names, paradigms, spelling folding) and M rules (sentence, near, paragraph and article
  scopes, with vetoes), some of them built from words of the corpus so that they match and fire;

and, as the floor, a bare pyahocorasick pass over the already normalized text with the same keys.
This is a developer's quick check; the full comparison suite lives elsewhere in bench/.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ahocorasick

from monitor.engine import Engine, load_engine
from monitor.engine.native import engine_build
from monitor.engine.normalize import fold, normalize
from monitor.engine.result import SEVERITIES

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "config" / "watchlists"
SEEDS = REPO.parent / "shared" / "seeds"

_GENERATED_SENTENCES = (
    "रूस के विदेश मंत्री सर्गेई लावरोव ने उत्तर कोरिया की यात्रा के दौरान अमेरिका और जापान को चेतावनी दी।",
    "उत्तर कोरिया रूस को तोपखाने के गोले और मिसाइलें भेज रहा है, दक्षिण कोरिया ने आरोप लगाया।",
    "पुतिन और किम जोंग उन ने पिछले साल व्यापक रणनीतिक साझेदारी की संधि पर हस्ताक्षर किए थे।",
    "The U.S. said Russia signed a 3.5 billion deal with North Korea, which Moscow denied.",
    "Lavrov held talks with Choe Son Hui in Wonsan on Saturday (12 July).",
    "विशेषज्ञों का कहना है कि इस क़दम से कोरियाई प्रायद्वीप पर तनाव बढ़ेगा।",
    "सरकार ने बयान जारी कर कहा कि बातचीत जारी रहेगी और अगले हफ़्ते बैठक होगी।",
    "Analysts in Seoul and Tokyo expect more cooperation between Pyongyang and the Kremlin.",
    "इसे भी पढ़ें: चीन और भारत के बीच सीमा वार्ता फिर शुरू",
)

_CONSONANTS = "कखगघचछजझटठडढतथदधनपफबभमयरलवशसह"
_VOWEL_SIGNS = ("", "ा", "ि", "ी", "ु", "ू", "े", "ै", "ो", "ौ", "ं")
_LATIN_SYLLABLES = (
    "ka", "ri", "mo", "ta", "len", "vor", "sha", "dru", "pel", "nik", "zan", "tor", "bel", "qui", "ros", "mir",
    "gan", "dev", "sol", "yun", "har", "kel", "bra", "tis", "lom", "fer", "vash", "nov", "ost", "ruk",
)  # fmt: skip


def seed_articles() -> list[str]:
    """The sample articles as the reader hands them over, or generated text when they are absent."""
    if SEEDS.is_dir():
        articles = []
        for path in sorted(SEEDS.glob("*.txt")):
            lines = path.read_text(encoding="utf-8-sig").splitlines()
            first = next(index for index, line in enumerate(lines) if line.strip())
            articles.append(lines[first].strip() + "\n\n" + "\n".join(lines[first + 1 :]).strip("\n"))
        if articles:
            return articles
    rng = random.Random(7)
    articles = []
    for _ in range(5):
        title = rng.choice(_GENERATED_SENTENCES).rstrip("।.")
        body = "\n\n".join(" ".join(rng.choices(_GENERATED_SENTENCES[:-1], k=4)) for _ in range(8))
        articles.append(f"{title}\n\n{body}\n{_GENERATED_SENTENCES[-1]}")
    return articles


def _hindi_name(rng: random.Random) -> str:
    return "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWEL_SIGNS) for _ in range(rng.randint(3, 4)))


def _latin_name(rng: random.Random) -> str:
    return "".join(rng.choice(_LATIN_SYLLABLES) for _ in range(rng.randint(3, 4))).capitalize()


def _corpus_words(articles: Sequence[str]) -> list[str]:
    """Words and word pairs of the corpus (4+ letters), most frequent first: realistic hits."""
    counts: dict[str, int] = {}
    for article in articles:
        words = [word.strip(".,:;!?()‘’“”'\"।") for word in article.split()]
        words = [word for word in words if word and not any(char.isdigit() for char in word)]
        for index, word in enumerate(words):
            if len(word) >= 4:
                counts[word] = counts.get(word, 0) + 1
            if index + 1 < len(words):
                pair = f"{word} {words[index + 1]}"
                counts[pair] = counts.get(pair, 0) + 1
    return sorted(counts, key=lambda word: (-counts[word], word))


def synthetic_watchlist(articles: Sequence[str], aliases: int, rules: int, seed: int = 11) -> dict[str, Any]:
    """A watchlist file (as data for YAML/JSON) with `aliases` entity aliases and `rules` rules.

    Entity aliases are generated names (unique after folding, so no two entities share one); term
    groups are made of mid-frequency corpus words and pairs, and one rule in twenty combines them
    with the shipped entities, so some rules find all their groups and are evaluated passage by
    passage, and a few fire, as on a real large watchlist.
    """
    rng = random.Random(seed)
    seen: set[str] = set()

    def fresh(make: Callable[[random.Random], str], endings: Sequence[str] = ("",)) -> str:
        """A name none of whose forms is (after folding) a form of an earlier name."""
        while True:
            name = make(rng)
            keys = {fold(normalize(name + ending).lowered) for ending in endings}
            if not keys & seen and min(map(len, keys)) >= 4:
                seen.update(keys)
                return name

    entities: list[dict[str, Any]] = []
    count = 0
    while count < aliases:
        index = len(entities)
        country = ("", "ी", "ियों")
        hindi = [{"text": fresh(_hindi_name, country), "forms": "country"} if index % 3 == 0 else fresh(_hindi_name)]
        hindi.append(f"{fresh(_hindi_name)} {fresh(_hindi_name)}")
        latin = [fresh(_latin_name), f"{fresh(_latin_name)} {fresh(_latin_name)}"]
        entities.append(
            {
                "id": f"syn-entity-{index}",
                "name": latin[0],
                "kind": rng.choice(["person", "place", "organisation", "country"]),
                "fold": index % 2 == 0,
                "aliases": {"hi": hindi, "en": latin},
            }
        )
        count += 4
    words = _corpus_words(articles)
    # mid-frequency words: the most frequent ones are function words no analyst would list
    usable = words[50:1500]
    term_groups: dict[str, dict[str, list[str]]] = {}
    for index in range(max(1, rules // 10)):
        chosen = rng.sample(usable, k=min(4, len(usable))) if usable else ["सरकार"]
        term_groups[f"syn-terms-{index}"] = {"hi": chosen}
    shipped_entities = ["russia", "north-korea", "usa", "japan", "kim-jong-un", "vladimir-putin", "sergei-lavrov"]
    rule_list: list[dict[str, Any]] = []
    for index in range(rules):
        scope: Any = rng.choice(["sentence"] * 6 + ["paragraph", "article", {"near": 12}, {"near": 30}])
        some_entities = rng.sample(entities, k=3)
        first = [entity["id"] for entity in some_entities]
        if index % 20 == 0:
            first += rng.sample(shipped_entities, k=2)
        groups: list[dict[str, Any]] = [
            {"entities": first},
            {"terms": [rng.choice(list(term_groups))]},
        ]
        if index % 20 == 0:
            groups.append({"entities": rng.sample(shipped_entities, k=2)})
        rule: dict[str, Any] = {
            "id": f"syn-rule-{index}",
            "title": f"Synthetic rule {index}",
            "severity": rng.choice(SEVERITIES),
            "scope": scope,
            "all": groups,
        }
        if index % 3 == 0:
            rule["none"] = [{"terms": ["denial"]}]
        rule_list.append(rule)
    return {"entities": entities, "terms": term_groups, "rules": rule_list}


def large_engine(articles: Sequence[str], aliases: int, rules: int, folder: Path) -> tuple[Engine, float]:
    """The shipped watchlists plus a synthetic file, written as YAML (JSON is YAML) and compiled."""
    for path in SHIPPED.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    data = synthetic_watchlist(articles, aliases, rules)
    (folder / "synthetic.yaml").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    started = time.process_time()
    engine = load_engine([folder])
    return engine, time.process_time() - started


def throughput(tag: Callable[[str], object], articles: Sequence[str], rounds: int) -> float:
    """MB/s (UTF-8 bytes) of `tag` over the articles, best of three timings of `rounds` passes."""
    size = sum(len(article.encode()) for article in articles)
    for article in articles:
        tag(article)
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(rounds):
            for article in articles:
                tag(article)
        best = min(best, time.process_time() - started)
    return size * rounds / best / 1e6


def bare_scan(engine: Engine, articles: Sequence[str]) -> Callable[[str], object]:
    """One pyahocorasick pass over pre-normalized, case-folded text with the engine's alias keys."""
    automaton = ahocorasick.Automaton()
    for key in engine.automaton_keys():
        automaton.add_word(key, len(key))
    automaton.make_automaton()
    lowered = {article: normalize(article).lowered for article in articles}

    def scan(article: str) -> object:
        return sum(1 for _ in automaton.iter(lowered[article]))

    return scan


def _report(label: str, engine: Engine, articles: Sequence[str], rounds: int) -> None:
    ours = throughput(engine.tag, articles, rounds)
    floor = throughput(bare_scan(engine, articles), articles, rounds)
    fired = sum(len(engine.tag(article).rules) for article in articles)
    print(
        f"{label:<44} {ours:7.1f} MB/s   bare Aho-Corasick {floor:7.1f} MB/s"
        f" ({floor / ours:4.1f}x ours)   {fired} rule hits on {len(articles)} articles"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40, help="passes over the corpus per timing")
    parser.add_argument("--aliases", type=int, default=10_000)
    parser.add_argument("--rules", type=int, default=1_000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the large-watchlist run")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    articles = seed_articles()
    size = sum(len(article.encode()) for article in articles)
    source = "../shared/seeds" if SEEDS.is_dir() else "generated text"
    print(f"corpus: {len(articles)} articles, {size / 1000:.1f} KB from {source}; one core")
    _report("shipped watchlists", load_engine([SHIPPED]), articles, args.rounds)
    with tempfile.TemporaryDirectory() as folder:
        engine, compile_s = large_engine(articles, args.aliases, args.rules, Path(folder))
    print(f"synthetic: {args.aliases} aliases, {args.rules} rules compiled in {compile_s:.2f} s")
    _report(f"shipped + {args.aliases} aliases, {args.rules} rules", engine, articles, args.rounds)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.rounds):
            for article in articles:
                engine.tag(article)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
        if engine_build() != "source":  # cProfile sees a native module's functions as one call each
            print(f"the engine ran {engine_build()}: NEWSMON_PURE_PYTHON=1 profiles its source, function by function")


if __name__ == "__main__":
    main()

"""Engine throughput on one core against the peers, same aliases and corpus, in one process and one run.

Every matcher runs over the same articles in the same order. A slow peer stops after a time budget
(at least a few articles): its MB/s is measured on what it did, which is enough for a ratio.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import peers
from bench.corpus import Article
from monitor.engine import load_engine

SHIPPED = [Path(__file__).resolve().parent.parent / "config" / "watchlists"]
MIN_ARTICLES = 5


@dataclass(frozen=True, slots=True)
class PeerResult:
    name: str
    build_s: float
    articles: int
    mb_s: float
    articles_s: float
    #: our MB/s divided by this one's (>1: we are faster)
    ours_faster_by: float
    seed_recall: float
    seed_extra: int
    note: str = ""


def _timed_pass(find: Callable[[str], object], texts: Sequence[str], sizes: Sequence[int], budget_s: float) -> Any:
    done = 0
    total = 0
    started = time.perf_counter()
    for text, size in zip(texts, sizes, strict=True):
        find(text)
        done += 1
        total += size
        if done >= MIN_ARTICLES and time.perf_counter() - started > budget_s:
            break
    elapsed = time.perf_counter() - started
    return done, total / elapsed / 1e6, done / elapsed


def run(
    watchlist: list[Path], articles: Sequence[Article], seeds: Path, budget_s: float, log: Callable[[str], None]
) -> dict[str, Any]:
    """Ours, re, flashtext, spaCy and the bare Aho-Corasick floor; returns rows for the table and JSON."""
    texts = [a.text for a in articles]
    sizes = [a.size for a in articles]
    started = time.perf_counter()
    engine = load_engine(watchlist)
    compile_s = time.perf_counter() - started
    forms = peers.entity_forms(watchlist)
    shipped_forms = peers.entity_forms(SHIPPED)
    shipped_engine = load_engine(SHIPPED)
    log(f"engine: {len(forms)} alias forms compiled in {compile_s:.1f} s; tagging {len(texts)} articles")
    # ours has no budget: every article, the figure the targets are about
    done, ours_mb_s, ours_art_s = _timed_pass(peers.ours(engine), texts, sizes, float("inf"))
    rows = [
        PeerResult(
            "newsmon engine",
            compile_s,
            done,
            ours_mb_s,
            ours_art_s,
            1.0,
            *peers.seed_recall(peers.ours(shipped_engine), seeds),
            "normalize, match, boundaries, rules",
        )
    ]
    builders: list[tuple[str, Callable[[Sequence[peers.Form]], peers.Finder], str]] = [
        ("re alternation", peers.build_re, "lookaround boundaries incl. Devanagari marks"),
        ("flashtext", peers.build_flashtext, "KeywordProcessor, case-insensitive"),
        ("spaCy PhraseMatcher", peers.build_spacy, "blank xx pipeline, attr=LOWER"),
    ]
    for name, build, note in builders:
        log(f"{name}: building")
        try:
            started = time.perf_counter()
            find = build(forms)
            build_s = time.perf_counter() - started
        except ImportError as exc:
            log(f"{name}: skipped ({exc}); install the bench extra")
            continue
        done, mb_s, art_s = _timed_pass(find, texts, sizes, budget_s)
        recall = peers.seed_recall(build(shipped_forms), seeds)
        rows.append(PeerResult(name, build_s, done, mb_s, art_s, ours_mb_s / mb_s, *recall, note))
        log(f"{name}: {mb_s:.2f} MB/s over {done} articles")
    started = time.perf_counter()
    _, floor_find = peers.build_floor(forms)
    build_s = time.perf_counter() - started
    normalized = [peers.floor_input(text) for text in texts]
    done, mb_s, art_s = _timed_pass(floor_find, normalized, sizes, float("inf"))
    _, shipped_floor = peers.build_floor(shipped_forms)
    recall = peers.seed_recall(shipped_floor, seeds, peers.floor_input)
    rows.append(
        PeerResult(
            "bare pyahocorasick", build_s, done, mb_s, art_s, ours_mb_s / mb_s, *recall, "scan of normalized text only"
        )
    )
    return {"aliases_forms": len(forms), "rows": [asdict(row) for row in rows]}

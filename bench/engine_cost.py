"""What the engine costs per article on `bench.run`'s corpus, to compare two versions of the engine.

    .venv/bin/python -m bench.engine_cost [--articles 2000] [--rounds 5] [--out FILE] [--baseline FILE]

Times `Engine.tag(text, published)` over the same deterministic corpus `bench.run` uses (seed 0), with the
shipped watchlists and with the synthetic 10,000-alias / 1,000-rule watchlist (loaded with the shipped
`common.yaml`, so its cue lists and paradigms are the real ones). Each figure is the best of `--rounds`
passes (the least disturbed by other work on the machine), in microseconds per article. With
`--baseline` (a JSON file this command wrote on another checkout), it prints how much more or less each
costs than the baseline: the trusted-alerts issue allows novelty and negation at most +20%.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.corpus import CorpusGenerator
from bench.watchlists import write_watchlist
from monitor.engine import Engine, load_engine

SHIPPED = Path(__file__).resolve().parent.parent / "config" / "watchlists"
#: the corpus's articles are dated as if published mid-January 2026 (time cues are read against it)
PUBLISHED = dt.date(2026, 1, 15)


def _best_pass_us(engine: Engine, texts: Sequence[str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            engine.tag(text, PUBLISHED)
        best = min(best, time.perf_counter() - started)
    return best / len(texts) * 1e6


def measure(articles: int, rounds: int) -> dict[str, float]:
    texts = [article.text for article in CorpusGenerator(0).articles(articles)]
    results = {"shipped_us": _best_pass_us(load_engine([SHIPPED]), texts, rounds)}
    with tempfile.TemporaryDirectory(prefix="newsmon-cost-") as tmp:
        engine = load_engine(write_watchlist(Path(tmp), 10000, 1000, 0))
    results["synthetic_10k_1k_us"] = _best_pass_us(engine, texts, rounds)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--baseline", type=Path, help="JSON written by this command on the version to compare with")
    args = parser.parse_args(argv)
    results = measure(args.articles, args.rounds)
    baseline = json.loads(args.baseline.read_text()) if args.baseline else {}
    for name, value in results.items():
        line = f"{name:24} {value:9.1f} µs/article"
        if name in baseline:
            line += f"   baseline {baseline[name]:9.1f}   {100 * (value / baseline[name] - 1):+6.1f}%"
        print(line)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What the engine costs per article on `bench.run`'s corpus, to compare two versions of the engine.

    .venv/bin/python -m bench.engine_cost [--articles 2000] [--rounds 5] [--out FILE] [--baseline FILE]
    .venv/bin/python -m bench.engine_cost --against OTHER_CHECKOUT [--articles 1000] [--rounds 10]

Times `Engine.tag(text, published)` over the same deterministic corpus `bench.run` uses (seed 0), with the
shipped watchlists and with the synthetic 10,000-alias / 1,000-rule watchlist (loaded with the shipped
`common.yaml`, so its cue lists and paradigms are the real ones). Each figure is the best of `--rounds`
passes (the least disturbed by other work on the machine), in microseconds per article. With
`--baseline` (a JSON file this command wrote on another checkout), it prints how much more or less each
costs than the baseline: the trusted-alerts issue allows novelty and negation at most +20%.

On a loaded machine two runs a minute apart differ by more than that. `--against` compares with another
checkout (say a `git worktree` of the older commit) in alternation: one worker process per checkout,
both fed the same batches of 20 articles in turn, each batch's best time over `--rounds` kept (CPU time
of the worker, and wall time). Both see the same disturbances, so the ratio holds to a few percent.

    .venv/bin/python -m bench.engine_cost --against OTHER_CHECKOUT --instructions [--articles 1000]

counts instead the instructions each checkout runs per article (valgrind's callgrind, two runs each: the
same count on a busy machine as on a quiet one, about 3 minutes a watchlist). Instructions are not time:
the difference between the two ratios is what the processor loses to cache misses and mispredicted
branches (`bench/README.md`, Engine cost).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.corpus import CorpusGenerator
from bench.watchlists import write_watchlist
from monitor.engine import Engine, load_engine
from monitor.engine.native import engine_build

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


#: what both workers below start with (only `bench.corpus`, `bench.watchlists` and `load_engine`, which
#: older checkouts have too): the corpus, the engine, one warm pass; argv: articles, watchlist, a number
_SETUP = """
import datetime as dt, sys, tempfile, time
from pathlib import Path
from bench.corpus import CorpusGenerator
from bench.watchlists import write_watchlist
from monitor.engine import load_engine
articles, which, number = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
try:  # how this checkout's engine runs (an older checkout has no native build: source)
    from monitor.engine.native import engine_build
    build = engine_build()
except ImportError:
    build = "source"
texts = [article.text for article in CorpusGenerator(0).articles(articles)]
if which == "shipped":
    engine = load_engine([Path("config/watchlists")])
else:
    with tempfile.TemporaryDirectory() as tmp:
        engine = load_engine(write_watchlist(Path(tmp), 10000, 1000, 0))
published = dt.date(2026, 1, 15)
for text in texts:
    engine.tag(text, published)
"""
#: what each checkout's worker runs: it tags the batch it is sent (of `number` articles) and answers its
#: wall and CPU seconds
_WORKER = (
    _SETUP
    + """
batches = [texts[at : at + number] for at in range(0, articles, number)]
print(len(batches), flush=True)
print(build, flush=True)
for line in sys.stdin:
    chosen = batches[int(line)]
    wall, cpu = time.perf_counter(), time.process_time()
    for text in chosen:
        engine.tag(text, published)
    print(time.perf_counter() - wall, time.process_time() - cpu, flush=True)
"""
)
#: what `--instructions` runs under callgrind in each checkout: the corpus tagged `number` more times;
#: the difference of two runs' counts (0 and 1) is the tagging alone
_COUNTER = (
    _SETUP
    + """
for _ in range(number):
    for text in texts:
        engine.tag(text, published)
"""
)
#: articles per batch in `--against` (short enough that most batches run undisturbed in some round)
BATCH = 20


def _worker(checkout: Path, articles: int, which: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    command = [sys.executable, "-c", _WORKER, str(articles), which, str(BATCH)]
    return subprocess.Popen(command, cwd=checkout, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _ask(worker: subprocess.Popen[str], batch: int) -> tuple[float, float]:
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write(f"{batch}\n")
    worker.stdin.flush()
    wall, cpu = worker.stdout.readline().split()
    return float(wall), float(cpu)


def interleaved(
    checkouts: Sequence[Path], articles: int, rounds: int, which: str
) -> tuple[list[tuple[float, float]], list[str]]:
    """Per checkout, (wall, CPU) µs per article: the sum over batches of each batch's best over `rounds`,
    the checkouts taking turns batch by batch (which goes first alternates); and how each one's engine
    runs (`native (N modules)` or `source`, `monitor.engine.native.engine_build`)."""
    workers = [_worker(checkout, articles, which) for checkout in checkouts]
    try:
        counts = {int(worker.stdout.readline()) for worker in workers if worker.stdout is not None}
        builds = [worker.stdout.readline().strip() for worker in workers if worker.stdout is not None]
        batches = counts.pop()
        best = [[(float("inf"), float("inf"))] * batches for _ in workers]
        for round_number in range(rounds):
            for batch in range(batches):
                order = list(range(len(workers)))
                for at in order if (round_number + batch) % 2 == 0 else order[::-1]:
                    wall, cpu = _ask(workers[at], batch)
                    kept = best[at][batch]
                    best[at][batch] = (min(kept[0], wall), min(kept[1], cpu))
    finally:
        for worker in workers:
            if worker.stdin is not None:
                worker.stdin.close()
            worker.wait()
    times = [
        (sum(wall for wall, _ in found) / articles * 1e6, sum(cpu for _, cpu in found) / articles * 1e6)
        for found in best
    ]
    return times, builds


def _collected(checkout: Path, articles: int, which: str, passes: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONHASHSEED": "0"}
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", _COUNTER]
    return subprocess.Popen(
        [*command, str(articles), which, str(passes)], cwd=checkout, env=env, stderr=subprocess.PIPE, text=True
    )


def instructions(checkouts: Sequence[Path], articles: int, which: str) -> list[float]:
    """Per checkout, instructions per article (callgrind: the same count however busy the machine, but
    blind to cache misses and mispredicted branches, which time pays for)."""
    counts: list[list[int]] = []
    for passes in (0, 1):  # the checkouts side by side, one core each
        runs = [_collected(checkout, articles, which, passes) for checkout in checkouts]
        found = [re.search(r"Collected : (\d+)", run.communicate()[1]) for run in runs]
        if not all(found):
            raise SystemExit("callgrind gave no count (is valgrind installed?)")
        counts.append([int(match.group(1)) for match in found if match is not None])
    return [(done - started) / articles for started, done in zip(counts[0], counts[1], strict=True)]


def _compare_instructions(other: Path, articles: int) -> None:
    here = Path(__file__).resolve().parent.parent
    for which in ("shipped", "synthetic"):
        mine, theirs = instructions([here, other.resolve()], articles, which)
        change = 100 * (mine / theirs - 1)
        print(f"{which:10} this {mine:11,.0f} instructions/article   other {theirs:11,.0f}   {change:+6.1f}%")


def _compare(other: Path, articles: int, rounds: int) -> None:
    here = Path(__file__).resolve().parent.parent
    for which in ("shipped", "synthetic"):
        [(wall, cpu), (other_wall, other_cpu)], builds = interleaved([here, other.resolve()], articles, rounds, which)
        if which == "shipped":
            print(f"engine build: this {builds[0]}, other {builds[1]}")
        print(
            f"{which:10} this {wall:7.1f} µs/article (CPU {cpu:7.1f})   other {other_wall:7.1f} (CPU {other_cpu:7.1f})"
            f"   {100 * (wall / other_wall - 1):+6.1f}% wall, {100 * (cpu / other_cpu - 1):+6.1f}% CPU"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--baseline", type=Path, help="JSON written by this command on the version to compare with")
    parser.add_argument("--against", type=Path, help="another checkout, timed in alternation with this one")
    parser.add_argument(
        "--instructions", action="store_true", help="with --against: count instructions (valgrind) instead of timing"
    )
    args = parser.parse_args(argv)
    if args.against and args.instructions:
        _compare_instructions(args.against, args.articles)
        return 0
    if args.against:
        _compare(args.against, args.articles, args.rounds)
        return 0
    results = measure(args.articles, args.rounds)
    print(f"engine build: {engine_build()}")
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

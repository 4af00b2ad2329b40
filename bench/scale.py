"""One scaling point in a fresh process, so its peak RSS is its own: compile time, time per article.

    python -m bench.scale --aliases 100000 --rules 1000 --articles 1000

Prints one JSON object. The daemon's modules are imported first, so the RSS is what a daemon with
this watchlist would hold (before any queue or outbox)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import monitor.launch  # noqa: F401  (counted in the RSS, as in a running daemon)
from bench.corpus import CorpusGenerator
from bench.watchlists import write_watchlist
from monitor.engine import load_engine


def measure(aliases: int, rules: int, articles: int, seed: int) -> dict[str, Any]:
    texts = [a.text for a in CorpusGenerator(seed).articles(articles)]
    size = sum(len(t.encode()) for t in texts)
    with tempfile.TemporaryDirectory(prefix="newsmon-scale-") as tmp:
        paths = write_watchlist(Path(tmp), aliases, rules, seed)
        started = time.perf_counter()
        engine = load_engine(paths)
        compile_s = time.perf_counter() - started
    fired = 0
    started = time.perf_counter()
    for text in texts:
        fired += len(engine.tag(text).rules)
    elapsed = time.perf_counter() - started
    return {
        "aliases": aliases,
        "rules": rules,
        "compile_s": compile_s,
        "ms_per_article": elapsed / len(texts) * 1000,
        "mb_s": size / elapsed / 1e6,
        "alerts_per_article": fired / len(texts),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    """VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so it would include the parent's peak."""
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024


def in_subprocess(aliases: int, rules: int, articles: int, seed: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.scale", "--aliases", str(aliases), "--rules", str(rules)]
    command += ["--articles", str(articles), "--seed", str(seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aliases", type=int, required=True)
    parser.add_argument("--rules", type=int, required=True)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(measure(args.aliases, args.rules, args.articles, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

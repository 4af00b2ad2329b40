"""The benchmark suite (issue 6): engine vs peers, scaling, end to end; one table on stdout + JSON.

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python -m bench.run           # ~6 min on 2 cores
    .venv/bin/python -m bench.run --quick                                          # ~1.5 min, smaller sizes

Needs ``mosquitto`` on PATH and the sample articles in ``../shared/seeds``. Writes bench/out/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import e2e, scale, throughput
from bench.corpus import SEEDS, CorpusGenerator
from bench.watchlists import write_watchlist

OUT = Path(__file__).resolve().parent / "out"


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(), "kernel": platform.release()}


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for every target of the issue."""
    rows = {row["name"]: row for row in results["engine"]["rows"]}
    ours = rows["newsmon engine"]
    rule_points = sorted(
        (p for p in results["scaling"] if p["aliases"] == results["sizes"]["base_aliases"]), key=lambda p: p["rules"]
    )
    alias_max = max(results["scaling"], key=lambda p: p["aliases"])
    e = results["e2e"]
    out: list[tuple[str, str, bool]] = [
        ("engine >= 20 MB/s (10k aliases, 1k rules)", f"{ours['mb_s']:.1f} MB/s", ours["mb_s"] >= 20)
    ]
    for name, need in (("re alternation", 10), ("spaCy PhraseMatcher", 3)):
        if name in rows:
            got = rows[name]["ours_faster_by"]
            out.append((f">= {need}x {name}", f"{got:.1f}x", got >= need))
    floor = rows["bare pyahocorasick"]["ours_faster_by"]
    out.append(("within 3x of bare Aho-Corasick", f"{1 / floor:.1f}x slower", 1 / floor <= 3))
    if len(rule_points) >= 2:
        low, high = rule_points[0], rule_points[-1]
        ratio = high["ms_per_article"] / low["ms_per_article"]
        out.append((f"{high['rules']} rules <= 1.5x {low['rules']} rules", f"{ratio:.2f}x", ratio <= 1.5))
    compile_s = alias_max["compile_s"]
    out.append((f"{alias_max['aliases']} aliases compile < 10 s", f"{compile_s:.1f} s", compile_s < 10))
    out.append(
        (
            f"RSS < 500 MB at {alias_max['aliases']} aliases",
            f"{alias_max['peak_rss_mb']:.0f} MB",
            alias_max["peak_rss_mb"] < 500,
        )
    )
    sustained = e["sustained"]["articles_per_s"]
    out.append((">= 1000 articles/s end to end", f"{sustained:.0f}/s", sustained >= 1000))
    if "rate_200" in e:
        p99 = e["rate_200"].get("p99_ms", float("inf"))
        out.append(("p99 < 100 ms at 200/s offered", f"{p99:.0f} ms", p99 < 100))
    peaks = [phase["rss_peak_mb"] for key, phase in e.items() if isinstance(phase, dict) and "rss_peak_mb" in phase]
    out.append(("bounded memory at every rate", f"daemon RSS peak {max(peaks):.0f} MB", max(peaks) < 500))
    out.append(("idle CPU near zero", f"{e['idle_cpu_percent']:.2f} % of a core", e["idle_cpu_percent"] < 1))
    return out


def table(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [f"machine: {m['cores']} cores, {m['cpu']}, Python {m['python']}", ""]
    lines += ["engine, one core, same aliases and corpus", ""]
    lines.append("| matcher | MB/s | articles/s | ours faster by | seed recall | extra entities | build s | articles |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results["engine"]["rows"]:
        lines.append(
            f"| {r['name']} | {r['mb_s']:.2f} | {r['articles_s']:.0f} | {r['ours_faster_by']:.2f}x | "
            f"{r['seed_recall']:.3f} | {r['seed_extra']} | {r['build_s']:.2f} | {r['articles']} |"
        )
    lines += ["", "scaling (own process each)", ""]
    lines.append("| aliases | rules | compile s | ms/article | MB/s | peak RSS MB |")
    lines.append("|---:|---:|---:|---:|---:|---:|")
    for p in results["scaling"]:
        lines.append(
            f"| {p['aliases']} | {p['rules']} | {p['compile_s']:.2f} | {p['ms_per_article']:.2f} | "
            f"{p['mb_s']:.2f} | {p['peak_rss_mb']:.0f} |"
        )
    e = results["e2e"]
    lines += ["", "end to end (rename -> subscriber), private Mosquitto, durable outbox", ""]
    lines.append("| offered/s | articles | delivered/s | p50 ms | p95 ms | p99 ms | max ms | daemon RSS peak MB |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for phase in e.values():
        if not isinstance(phase, dict) or "p50_ms" not in phase:
            continue
        offered = "all at once" if phase["offered_per_s"] is None else str(phase["offered_per_s"])
        lines.append(
            f"| {offered} | {phase['articles']} | {phase['articles_per_s']:.0f} | {phase['p50_ms']:.0f} | "
            f"{phase['p95_ms']:.0f} | {phase['p99_ms']:.0f} | {phase['max_ms']:.0f} | {phase['rss_peak_mb']:.0f} |"
        )
    bare = e["bare_publish"]
    lines.append("")
    lines.append(
        f"bare aiomqtt QoS 1 publish (3 KB): {bare['sequential_per_s']:.0f}/s one at a time, "
        f"{bare['batched_200_per_s']:.0f}/s 200 in flight; daemon idle CPU {e['idle_cpu_percent']:.2f} % of a core"
    )
    lines += ["", "targets", "", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {got} | {'yes' if ok else 'NO'} |" for name, got, ok in targets(results)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller corpus and sizes, shorter phases (~1.5 min)")
    parser.add_argument("--articles", type=int, help="corpus size (default 10000; quick 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", nargs="*", default=[], choices=["engine", "scaling", "e2e"])
    parser.add_argument("--out", type=Path, default=OUT / "results.json")
    args = parser.parse_args()
    quick = args.quick
    articles = args.articles or (1000 if quick else 10000)
    sizes: dict[str, Any] = {
        "base_aliases": 10000,
        "rules": [100, 1000, 10000] if not quick else [100, 1000],
        "aliases": [1000, 10000, 100000] if not quick else [1000, 10000],
    }
    results: dict[str, Any] = {"machine": machine(), "sizes": sizes, "articles": articles, "quick": quick}
    started = time.monotonic()
    log(f"corpus: {articles} articles, seed {args.seed}")
    corpus = list(CorpusGenerator(args.seed).articles(articles))
    results["corpus_mb"] = sum(a.size for a in corpus) / 1e6
    if "engine" not in args.skip:
        with tempfile.TemporaryDirectory(prefix="newsmon-wl-") as tmp:
            watchlist = write_watchlist(Path(tmp), 10000, 1000, args.seed)
            results["engine"] = throughput.run(watchlist, corpus, SEEDS, 3.0 if quick else 8.0, log)
    del corpus
    if "scaling" not in args.skip:
        points = sorted({(10000, r) for r in sizes["rules"]} | {(a, 1000) for a in sizes["aliases"]})
        results["scaling"] = []
        for aliases, rules in points:
            log(f"scaling: {aliases} aliases, {rules} rules")
            results["scaling"].append(scale.in_subprocess(aliases, rules, 300 if quick else 1000, args.seed))
    if "e2e" not in args.skip:
        rates = [50, 200, 1000]
        results["e2e"] = e2e.run(rates, 3 if quick else 8, 1000 if quick else 5000, 3 if quick else 5, args.seed, log)
    results["took_s"] = time.monotonic() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    if not args.skip:
        print(table(results))
    else:
        log("parts skipped: no table; the JSON has what ran")
    log(f"done in {results['took_s']:.0f} s; JSON in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

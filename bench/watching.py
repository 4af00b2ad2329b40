"""Folder watching, both backends: pick-up latency and idle CPU with 10,000 files in the watched tree.

    .venv/bin/python -m bench.watching [--files 10000] [--samples 20] [--idle 10] [--backend inotify watchfiles]

Each backend in a fresh process of its own (its CPU time is its own): a tree of ``--files`` article files
(100 a folder, stamped an hour old, as an inbox that has been running), the folder source of that backend
with the shipped settle time (300 ms) and rescan interval (60 s), run as the daemon runs it. Measured: the
catch-up (start to ready); CPU at idle (process CPU time, every thread, over ``--idle`` seconds with nothing
arriving: % of one core); the pick-up latency of ``--samples`` files renamed into place (written under an
ignored name beside it, then renamed) and of ``--samples`` files written in place in one go (open, write,
close): from the rename or the close to the source handing the key on. No tagging and no broker: the
watcher's own share of the daemon's latency. inotify reads a renamed file at once and waits out the
settle time after an in-place write; watchfiles cannot tell the two, so both wait it out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor.config import WatchSettings
from monitor.sources.backend import folder_source

ARTICLE = "Pact signed\n\nRussia and North Korea signed a new agreement in Moscow today.\n"
PER_FOLDER = 100


def fill(inbox: Path, files: int) -> None:
    old = time.time() - 3600
    for n in range(files):
        path = inbox / f"desk-{n // PER_FOLDER:03d}" / f"article-{n:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(ARTICLE)
        os.utime(path, (old, old))


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process: watchfiles' too
    return usage.ru_utime + usage.ru_stime


async def measure(backend: str, files: int, samples: int, idle_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-watching-") as tmp:
        inbox = Path(tmp) / "inbox"
        fill(inbox, files)
        source = folder_source(WatchSettings(paths=[inbox], backend=backend))
        arrived: dict[str, float] = {}
        seen = asyncio.Event()

        async def emit(key: str) -> None:
            arrived.setdefault(Path(key).name, time.monotonic())
            seen.set()

        started = time.monotonic()
        task = asyncio.create_task(source.run(emit))
        await asyncio.wait_for(source.ready.wait(), 300)
        catch_up = time.monotonic() - started
        await asyncio.sleep(1)  # the catch-up's hand-ons and threads have wound down
        cpu, wall = cpu_s(), time.monotonic()
        await asyncio.sleep(idle_s)
        idle_pct = 100 * (cpu_s() - cpu) / (time.monotonic() - wall)

        async def pick_up(name: str, place: Callable[[Path], float]) -> float:
            seen.clear()
            at = place(inbox / "desk-000" / name)
            while name not in arrived:
                await asyncio.wait_for(seen.wait(), 30)
                seen.clear()
            return arrived[name] - at

        def renamed(path: Path) -> float:
            part = path.with_name(f".{path.name}.part")
            part.write_text(ARTICLE)
            part.rename(path)
            return time.monotonic()

        def in_place(path: Path) -> float:
            path.write_text(ARTICLE)
            return time.monotonic()

        renames = [await pick_up(f"renamed-{n}.txt", renamed) for n in range(samples)]
        writes = [await pick_up(f"written-{n}.txt", in_place) for n in range(samples)]
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return {
        "backend": source.backend,
        "files": files,
        "catch_up_s": round(catch_up, 2),
        "idle_cpu_pct": round(idle_pct, 3),
        "renamed_ms": summary(renames),
        "in_place_ms": summary(writes),
    }


def summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {"median": round(statistics.median(ms), 1), "p95": round(ms[int(0.95 * (len(ms) - 1))], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measured")
    parser.add_argument("--backend", nargs="+", default=["inotify", "watchfiles"])
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child: one backend, JSON out
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(measure(args.backend[0], args.files, args.samples, args.idle))))
        return 0
    rows = []
    for backend in args.backend:
        child = [sys.executable, "-m", "bench.watching", "--one", "--backend", backend]
        child += ["--files", str(args.files), "--samples", str(args.samples), "--idle", str(args.idle)]
        done = subprocess.run(child, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.splitlines()[-1]))  # after any log lines
    print(f"folder watching, {args.files} files in the tree, settle 300 ms, {args.samples} samples each\n")
    print("| backend | catch-up s | idle CPU % of a core | renamed in: median / p95 ms | in place: median / p95 ms |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        renamed, written = row["renamed_ms"], row["in_place_ms"]
        print(
            f"| {row['backend']} | {row['catch_up_s']} | {row['idle_cpu_pct']} | "
            f"{renamed['median']} / {renamed['p95']} | {written['median']} / {written['p95']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Engine time on hostile text: does it stay linear in the article's size?

    .venv/bin/python -m bench.hostile [--sizes 10 20 40 80]

Each case is one pathological article grown to each size (KB): one endless sentence full of agreement
words, sides and clause cues (English and Hindi), a run of written dates, and a run of look-alikes. The
engine reads each trigger in its clause; without bounds, a clause of a whole article makes every trigger
pay for every cue (quadratic). Prints the time per KB at each size: roughly constant means linear.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path

from monitor.engine import Engine, load_engine

SHIPPED = Path(__file__).resolve().parent.parent / "config" / "watchlists"
PUBLISHED = dt.date(2026, 2, 16)

CASES = {
    "en-cues": "Russia and North Korea did not sign a pact and may sign a deal if it is not false and ",
    "hi-cues": "रूस और उत्तर कोरिया ने समझौता नहीं किया और पिछले साल संधि हुई थी तथा करार हो सकता है और ",
    "dates": "Russia and North Korea signed a pact on 19 June 2024 and on 3 January 2025 and ",
    "look-alikes": "Russia owes a great deal to North Korea and signed a decree and a sign of a pact and ",
}


def _seconds(engine: Engine, text: str) -> float:
    started = time.perf_counter()
    engine.tag(text, PUBLISHED)
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 40, 80], help="article sizes in KB")
    args = parser.parse_args(argv)
    engine = load_engine([SHIPPED])
    print(f"{'case':12}" + "".join(f"{size:>8} KB" for size in args.sizes) + "   (ms per KB)")
    for name, unit in CASES.items():
        row = []
        for size in args.sizes:
            text = "Title\n\n" + unit * (size * 1024 // len(unit.encode()) + 1)
            row.append(_seconds(engine, text) * 1000 / size)
        print(f"{name:12}" + "".join(f"{value:11.2f}" for value in row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

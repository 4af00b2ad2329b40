"""The README's picture of the console: a real daemon (stories on) with the sample articles dropped in,
shown by Debian's chromium. The samples' text stays out of the project; only the picture is kept.

    python -m bench.console_screenshot docs/console.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from harness.processes import DaemonProcess, Mosquitto, wait_until
from tests.support import SEEDS
from tests.test_web_browser import ARGS, CHROMIUM


def main(out: Path) -> None:
    seeds = sorted(SEEDS.glob("*.txt"))
    if not seeds:
        raise SystemExit(f"no sample articles in {SEEDS}")
    with tempfile.TemporaryDirectory(prefix="newsmon-shot-") as tmp:
        broker = Mosquitto(Path(tmp) / "broker")
        broker.start()
        daemon = DaemonProcess(Path(tmp) / "daemon", broker.port, stories=True)
        daemon.start()
        try:
            daemon.wait_ready()
            for path in seeds:
                daemon.drop(path.name, path.read_bytes())
            wait_until(lambda: len(daemon.events("article processed")) >= len(seeds), 60, what="the samples")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                page.goto(f"{daemon.web_url}/")
                page.wait_for_selector("article.card")
                page.wait_for_timeout(500)
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out), full_page=False)
                browser.close()
        finally:
            daemon.stop()
            broker.stop()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/console.png"))

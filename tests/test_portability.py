"""What runs where inotify cannot be had (macOS, Windows; a Linux without asyncinotify): the daemon and
the commands import without it and ``[watch] backend = "auto"`` falls back to watchfiles. Proved here by
hiding asyncinotify from a subprocess (a module of that name on PYTHONPATH that refuses to import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.processes import Collector, DaemonProcess, Mosquitto, wait_until
from monitor import events
from tests.support import AGREEMENT_ARTICLE

pytestmark = pytest.mark.e2e

#: imported where asyncinotify is absent: what a Linux-only import would break
NO_INOTIFY = 'raise ImportError("asyncinotify hidden: inotify is not on this platform")\n'


@pytest.fixture
def no_inotify(tmp_path: Path) -> dict[str, str]:
    """An environment in which ``import asyncinotify`` fails, as on macOS or Windows."""
    hiding = tmp_path / "hide-asyncinotify"
    hiding.mkdir()
    (hiding / "asyncinotify.py").write_text(NO_INOTIFY)
    return {"PYTHONPATH": os.pathsep.join([str(hiding), *filter(None, [os.environ.get("PYTHONPATH")])])}


def test_the_daemon_modules_import_and_auto_picks_watchfiles_without_asyncinotify(
    tmp_path: Path, no_inotify: dict[str, str]
) -> None:
    probe = (
        "import sys, monitor.cli, monitor.daemon, monitor.launch, monitor.tail, monitor.reload\n"
        "from monitor.config import WatchSettings\n"
        "from monitor.sources.backend import folder_source\n"
        f"source = folder_source(WatchSettings(paths=[{str(tmp_path / 'inbox')!r}]))\n"
        "print(source.backend, 'asyncinotify' in sys.modules and sys.modules['asyncinotify'] is not None)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env={**os.environ, **no_inotify}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["watchfiles", "False"]


def test_monitor_tag_and_check_run_without_asyncinotify(tmp_path: Path, no_inotify: dict[str, str]) -> None:
    article = tmp_path / "story.txt"
    article.write_text(AGREEMENT_ARTICLE)
    env = {**os.environ, **no_inotify}
    env.pop("MONITOR_CONFIG", None)
    tagged = subprocess.run(
        [sys.executable, "-m", "monitor", "tag", "--json", str(article)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tagged.returncode == 0, tagged.stderr
    assert json.loads(tagged.stdout.splitlines()[0])["rules"], "the sample article fires a shipped rule"
    checked = subprocess.run(
        [sys.executable, "-m", "monitor", "check"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 0, checked.stderr


def test_without_asyncinotify_the_daemon_watches_its_folders_with_watchfiles(
    tmp_path: Path, broker: Mosquitto, no_inotify: dict[str, str]
) -> None:
    daemon = DaemonProcess(tmp_path / "d", broker.port, extra_env={**no_inotify, "MONITOR_WATCH__RESCAN_SECONDS": "0"})
    with Collector(broker.port, "newsmon/alerts/#", client_id="portable") as collector:
        daemon.start()
        try:
            daemon.wait_ready()
            daemon.drop("story.txt", AGREEMENT_ARTICLE)  # no rescans: only the watcher can see it
            wait_until(lambda: bool(collector.payloads("newsmon/alerts/")), 30, what="the alert")
        finally:
            assert daemon.stop() == 0
    [starting] = daemon.events(events.DAEMON_STARTING)
    assert starting["watch_backend"] == "watchfiles"

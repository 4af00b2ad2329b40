"""The code keeps the shape the team agreed on: small functions, small modules, a thin daemon.

Checked here, in the suite the README's test command runs, so that it cannot drift back.
"""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit

from harness.processes import REPO

MONITOR = REPO / "monitor"
MAX_COMPLEXITY = 20
MAX_MODULE_LINES = 400
MAX_DAEMON_LINES = 250


def modules() -> list[Path]:
    return sorted(MONITOR.rglob("*.py"))


def test_no_function_is_past_cyclomatic_complexity_20() -> None:
    too_complex = [
        f"{path.relative_to(REPO)}:{block.lineno} {block.fullname} ({block.complexity})"
        for path in modules()
        for block in cc_visit(path.read_text())
        if block.complexity > MAX_COMPLEXITY
    ]
    assert too_complex == []


def test_no_module_is_over_400_lines() -> None:
    too_long = [
        str(path.relative_to(REPO)) for path in modules() if len(path.read_text().splitlines()) > MAX_MODULE_LINES
    ]
    assert too_long == []


def test_the_daemon_keeps_to_wiring_under_250_lines() -> None:
    assert len((MONITOR / "daemon.py").read_text().splitlines()) < MAX_DAEMON_LINES

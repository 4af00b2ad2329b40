from __future__ import annotations

import re

from harness.processes import REPO


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(python3 -m venv .venv && [^\n]+)\n```", text)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    commands = readme_commands()
    test_command = next(c for c in commands if "pytest" in c)
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines


def test_readme_run_command_starts_the_daemon_with_the_embedded_broker() -> None:
    run_command = next(c for c in readme_commands() if "monitor run" in c)
    assert run_command.endswith("monitor run --embedded-broker")

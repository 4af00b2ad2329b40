from __future__ import annotations

import json
import re

from harness.processes import REPO, WATCHLISTS
from monitor.alerts import build_alert
from monitor.articles import parse_article
from monitor.engine import load_engine


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


def test_the_readme_sample_alert_is_what_the_quickstart_article_produces() -> None:
    """The sample payload is the real alert for the README's quickstart article (ids, hashes and times aside)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    [quickstart] = re.findall(r"printf '([^']+)' > /tmp/a.txt", text)
    sample = json.loads(
        text.split("An alert (`monitor schema alert`", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    )
    article = parse_article("/srv/news/in/a.txt", quickstart.encode().decode("unicode_escape").encode())
    result = load_engine([WATCHLISTS]).tag(article.text)
    [hit] = [hit for hit in result.rules if hit.rule == sample["rule"]["id"]]
    real = build_alert(article, result, hit, watchlist_version="v").model_dump(mode="json", by_alias=True)
    illustrative = {"id", "watchlist_version", "produced_at", "story"}  # the story is decided where batches commit
    assert {k: v for k, v in sample.items() if k not in illustrative} == {
        **{k: v for k, v in real.items() if k not in illustrative},
        "article": {**real["article"], "sha256": sample["article"]["sha256"]},
    }

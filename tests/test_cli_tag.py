"""`monitor tag`: the seed table through the real command, and the shape of its output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.processes import monitor_cli
from tests.engine.test_seeds import ENTITIES, RULES
from tests.support import AGREEMENT_ARTICLE, SEEDS

pytestmark = pytest.mark.e2e


def test_tag_json_on_the_seeds_gives_the_seed_table() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"sample articles not found at {SEEDS}")
    files = sorted(SEEDS.glob("*.txt"))
    result = monitor_cli("tag", "--json", *map(str, files))
    assert result.returncode == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["path"] for d in docs] == [str(f) for f in files]
    for doc in docs:
        prefix = Path(doc["path"]).name[:3]
        assert {e["id"] for e in doc["entities"]} == ENTITIES[prefix], prefix
        assert {r["rule"] for r in doc["rules"]} == RULES[prefix], prefix


def test_tag_json_carries_counts_severity_and_evidence_spans(tmp_path: Path) -> None:
    article = tmp_path / "pact.txt"
    article.write_text(AGREEMENT_ARTICLE, encoding="utf-8")
    result = monitor_cli("tag", "--json", str(article))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["path"] == str(article)
    assert doc["title"] == "Pact signed"
    counts = {e["id"]: e["count"] for e in doc["entities"]}
    assert counts["russia"] == 2  # Russia, Moscow
    [rule] = doc["rules"]
    assert (rule["rule"], rule["severity"]) == ("russia-dprk-agreement", "high")
    text = AGREEMENT_ARTICLE
    for evidence in rule["evidence"]:
        for span in evidence["spans"]:
            assert text[span["start"] : span["end"]] == span["text"]


def test_tag_reports_a_bad_file_and_goes_on_with_the_next(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "pact.txt").write_text(AGREEMENT_ARTICLE, encoding="utf-8")
    result = monitor_cli("tag", "--json", str(tmp_path / "empty.txt"), str(tmp_path / "pact.txt"))
    assert result.returncode == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["error"]
    assert second["rules"][0]["rule"] == "russia-dprk-agreement"


def test_tag_readable_report_names_rule_and_matched_words(tmp_path: Path) -> None:
    article = tmp_path / "pact.txt"
    article.write_text(AGREEMENT_ARTICLE, encoding="utf-8")
    result = monitor_cli("tag", str(article))
    assert result.returncode == 0, result.stderr
    assert "russia-dprk-agreement" in result.stdout
    assert "North Korea" in result.stdout


def test_tag_explain_says_which_group_is_missing(tmp_path: Path) -> None:
    article = tmp_path / "visit.txt"
    article.write_text("Visit\n\nRussia and North Korea held talks in Moscow.\n", encoding="utf-8")
    result = monitor_cli("tag", "--explain", str(article))
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "russia-dprk-agreement" in line)
    assert "not fired" in line
    assert "agreement word" in result.stdout.split("russia-dprk-agreement", 1)[1].split("russia-dprk-military")[0]

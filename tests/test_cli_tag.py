"""`monitor tag`: the seed table through the real command, and the shape of its output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.processes import WATCHLISTS, monitor_cli
from monitor.alerts import build_alert
from monitor.articles import parse_article
from monitor.engine import load_engine
from tests.engine.test_seeds import ENTITIES, RULES
from tests.support import AGREEMENT_ARTICLE, SEEDS

pytestmark = pytest.mark.e2e

PACT = AGREEMENT_ARTICLE


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


NEGATED = "No pact\n\nRussia and North Korea did not sign an agreement in Moscow today.\n"


def test_tag_json_rules_carry_their_novelty(tmp_path: Path) -> None:
    (tmp_path / "pact.txt").write_text(AGREEMENT_ARTICLE, encoding="utf-8")
    (tmp_path / "old.txt").write_text(
        "Old pact\n\nRussia and North Korea signed a treaty last year.\n", encoding="utf-8"
    )
    result = monitor_cli("tag", "--json", str(tmp_path / "pact.txt"), str(tmp_path / "old.txt"))
    assert result.returncode == 0, result.stderr
    new, old = (json.loads(line) for line in result.stdout.splitlines())
    assert [(rule["rule"], rule["novelty"], rule["severity"]) for rule in new["rules"]] == [
        ("russia-dprk-agreement", "new", "high")
    ]
    assert [(rule["rule"], rule["novelty"], rule["severity"]) for rule in old["rules"]] == [
        ("russia-dprk-agreement", "reference", "low")
    ]


def test_tag_explain_names_the_word_that_vetoed_the_trigger_and_its_kind(tmp_path: Path) -> None:
    article = tmp_path / "no-pact.txt"
    article.write_text(NEGATED, encoding="utf-8")
    text = monitor_cli("tag", "--explain", str(article))
    assert text.returncode == 0, text.stderr
    assert "vetoed by 'did not' (negation)" in text.stdout
    as_json = monitor_cli("tag", "--explain", "--json", str(article))
    [agreement] = [rule for rule in json.loads(as_json.stdout)["rules"] if rule["rule"] == "russia-dprk-agreement"]
    [passage] = [passage for passage in agreement["passages"] if not passage["missing"]]
    assert (agreement["fired"], passage["vetoed_as"]) == (False, ["negation"])
    assert [span["text"] for span in passage["vetoed_by"]] == ["did not"]


LONG = PACT.replace(
    "in Moscow today", "in Moscow today, in a ceremony that went on for hours in the great hall of the Kremlin"
)


@pytest.mark.e2e
def test_tag_json_rule_objects_have_the_alert_payloads_field_names(tmp_path: Path) -> None:
    article_path = tmp_path / "pact.txt"
    article_path.write_text(PACT, encoding="utf-8")
    result = monitor_cli("tag", "--json", str(article_path))
    assert result.returncode == 0, result.stderr
    [rule] = json.loads(result.stdout)["rules"]
    article = parse_article(str(article_path), article_path.read_bytes())
    tagged = load_engine([WATCHLISTS]).tag(article.text)
    payload = build_alert(article, tagged, tagged.rules[0], watchlist_version="v").model_dump(mode="json")
    assert set(rule) == {"rule", "id", "title", "severity", "novelty", "evidence"}
    assert rule["rule"] == payload["rule"]["id"]  # the contract: `rule` is the rule id
    assert rule["novelty"] == payload["novelty"]
    assert (rule["id"], rule["evidence"]) == (payload["id"], payload["evidence"])
    assert (rule["title"], rule["severity"]) == (payload["rule"]["title"], payload["rule"]["severity"])


@pytest.mark.e2e
def test_tag_explain_json_prints_one_json_explanation_per_file(tmp_path: Path) -> None:
    (tmp_path / "pact.txt").write_text(PACT, encoding="utf-8")
    (tmp_path / "visit.txt").write_text("Visit\n\nRussia and North Korea held talks in Moscow.\n", encoding="utf-8")
    result = monitor_cli("tag", "--explain", "--json", str(tmp_path / "pact.txt"), str(tmp_path / "visit.txt"))
    assert result.returncode == 0, result.stderr
    pact, visit = (json.loads(line) for line in result.stdout.splitlines())
    fired = {rule["rule"]: rule["fired"] for rule in pact["rules"]}
    assert fired["russia-dprk-agreement"] and not fired["russia-dprk-military"]
    [agreement] = [rule for rule in visit["rules"] if rule["rule"] == "russia-dprk-agreement"]
    assert not agreement["fired"] and "id" not in agreement
    assert "agreement word" in agreement["summary"]
    [qualifying] = [
        p for r in pact["rules"] if r["rule"] == "russia-dprk-agreement" for p in r["passages"] if p["qualifies"]
    ]
    assert {span["source"] for span in qualifying["spans"]} >= {"russia", "north-korea", "terms:agreement"}


@pytest.mark.e2e
def test_tag_with_watchlist_uses_that_file(tmp_path: Path) -> None:
    watchlist = tmp_path / "planets.yaml"
    watchlist.write_text(
        "entities:\n  - {id: mars, name: Mars, kind: place, aliases: {en: [Mars]}}\n"
        "rules:\n  - {id: red, title: Red, severity: low, all: [{entities: [mars]}]}\n"
    )
    (tmp_path / "a.txt").write_text("Mars\n\nRussia and North Korea signed a pact about Mars.\n")
    result = monitor_cli("tag", "--json", "--watchlist", str(watchlist), str(tmp_path / "a.txt"))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [e["id"] for e in doc["entities"]] == ["mars"] and [r["rule"] for r in doc["rules"]] == ["red"]


@pytest.mark.e2e
def test_piped_output_is_not_hard_wrapped(tmp_path: Path) -> None:
    (tmp_path / "long.txt").write_text(LONG, encoding="utf-8")
    sentence = LONG.split("\n\n")[1].strip()
    for args in ([], ["--explain"]):
        result = monitor_cli("tag", *args, str(tmp_path / "long.txt"), env={"COLUMNS": "80"})
        assert result.returncode == 0, result.stderr
        assert any(line.strip() == sentence for line in result.stdout.splitlines()), result.stdout


@pytest.mark.e2e
def test_help_is_written_for_users() -> None:
    result = monitor_cli("--help")
    assert result.returncode == 0
    assert "Thin" not in result.stdout and "``" not in result.stdout
    assert "watchlists" in result.stdout and "MQTT" in result.stdout


@pytest.mark.e2e
def test_tag_outside_the_checkout_falls_back_to_the_shipped_watchlists(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text(PACT, encoding="utf-8")
    result = monitor_cli("tag", "--json", "x.txt", cwd=tmp_path)  # no config/, no config/watchlists here
    assert result.returncode == 0, result.stderr
    assert [rule["rule"] for rule in json.loads(result.stdout)["rules"]] == ["russia-dprk-agreement"]
    checked = monitor_cli("check", cwd=tmp_path)
    assert checked.returncode == 0 and "monitor/watchlists" in checked.stdout


def test_the_shipped_watchlists_are_the_config_folders_files() -> None:
    from monitor.config import PACKAGED_WATCHLISTS

    shipped = {path.name: path.read_bytes() for path in PACKAGED_WATCHLISTS.glob("*.yaml")}
    assert shipped and shipped == {path.name: path.read_bytes() for path in WATCHLISTS.glob("*.yaml")}

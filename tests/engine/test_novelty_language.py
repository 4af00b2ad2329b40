"""The watchlist language of issue 12: `cues:`, `trigger: true`, severity by novelty, `novelty:` filters."""

from __future__ import annotations

from pathlib import Path

from monitor.engine import Engine, load_engine, problems_of

WATCHLIST = """
entities:
  - id: mars
    name: Mars
    kind: place
    aliases:
      en: [Mars]
  - id: venus
    name: Venus
    kind: place
    aliases:
      en: [Venus]
terms:
  probe:
    en: [{text: probe, suffixes: ["", "s"]}]
  launch:
    en: [launched, launches]
cues:
  negation:
    en: [not, no]
  past:
    en: [last year]
  speculative:
    en: [may]
  clause_break:
    en: [but, ";"]
rules:
  - id: planets
    title: Two planets and a probe
    severity: {new: high, reference: low}
    RULE_EXTRA
    all:
      - entities: [mars]
      - entities: [venus]
        GROUP_EXTRA
      - terms: [probe]
"""


def engine(tmp_path: Path, rule_extra: str = "", group_extra: str = "") -> Engine:
    text = WATCHLIST.replace("RULE_EXTRA", rule_extra).replace("GROUP_EXTRA", group_extra)
    (tmp_path / "w.yaml").write_text(text, encoding="utf-8")
    return load_engine([tmp_path])


def firings(tmp_path: Path, text: str, rule_extra: str = "", group_extra: str = "") -> list[tuple[str, str]]:
    loaded = engine(tmp_path, rule_extra, group_extra)
    return [(rule.novelty, rule.severity) for rule in loaded.tag(text).rules]


def test_severity_is_chosen_by_novelty_and_a_novelty_left_out_takes_the_lowest(tmp_path: Path) -> None:
    assert firings(tmp_path, "Mars and Venus share a probe.") == [("new", "high")]
    assert firings(tmp_path, "Mars and Venus shared a probe last year.") == [("reference", "low")]
    assert firings(tmp_path, "Mars and Venus may share a probe.") == [("speculative", "low")]


def test_a_novelty_filter_keeps_the_rule_from_firing_on_other_novelties(tmp_path: Path) -> None:
    assert firings(tmp_path, "Mars and Venus shared a probe last year.", "novelty: [new]") == []
    assert firings(tmp_path, "Mars and Venus share a probe.", "novelty: [new]") == [("new", "high")]


def test_a_punctuation_clause_break_bounds_the_clause(tmp_path: Path) -> None:
    assert firings(tmp_path, "Mars has no rings; Venus and Mars share a probe.") == [("new", "high")]
    assert firings(tmp_path, "Mars and Venus do not share a probe.") == []


def test_a_group_marked_trigger_is_the_one_read_in_its_clause(tmp_path: Path) -> None:
    text = "Mars and a probe, but not Venus."
    assert firings(tmp_path, text) == [("new", "high")]
    assert firings(tmp_path, text, group_extra="trigger: true") == []


def test_an_unknown_cue_kind_is_a_problem_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text("cues:\n  negatoin:\n    en: [not]\n", encoding="utf-8")
    [problem] = problems_of([tmp_path])
    assert problem.file.endswith("w.yaml")
    assert problem.line == 2
    assert "negation" in problem.message


def test_an_unknown_novelty_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(
        WATCHLIST.replace("RULE_EXTRA", "novelty: [fresh]").replace("GROUP_EXTRA", ""), encoding="utf-8"
    )
    [problem] = problems_of([tmp_path])
    assert problem.key.startswith("rules[0].novelty")

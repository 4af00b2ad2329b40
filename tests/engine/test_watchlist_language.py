"""The watchlist language: scopes, min_mentions, topics, several files, and problems with lines."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.engine import Problem, WatchlistError, load_engine, problems_of

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "watchlists"

ENTITIES = """
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
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def rule_file(scope: str, extra: str = "") -> str:
    return f"""
rules:
  - id: planets
    title: Two planets and a probe
    severity: info
    scope: {scope}
    all:
      - entities: [mars]
      - entities: [venus]
      - terms: [probe]
{extra}"""


def fired(folder: Path, text: str) -> list[str]:
    return [rule.rule for rule in load_engine([folder]).tag(text).rules]


def test_shipped_watchlists_have_no_problems() -> None:
    assert problems_of([SHIPPED]) == []


def test_rules_may_use_entities_from_another_file(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES)
    write(tmp_path, "b.yml", rule_file("sentence"))
    assert fired(tmp_path, "Mars and Venus got probes.") == ["planets"]


def test_paragraph_scope(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES + rule_file("paragraph"))
    assert fired(tmp_path, "Mars first. Then Venus.\nA probe.") == ["planets"]
    assert fired(tmp_path, "Mars first. Then Venus.\n\nA probe.") == []


def test_article_scope(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES + rule_file("article"))
    assert fired(tmp_path, "Mars.\n\nVenus.\n\nA probe.") == ["planets"]


def test_near_scope_counts_words(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES + rule_file("{near: 4}"))
    assert fired(tmp_path, "Mars, Venus and a probe.") == ["planets"]
    assert fired(tmp_path, "Mars is very far away from Venus and a probe.") == []


def test_min_mentions_and_topic(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES + rule_file("sentence", "    min_mentions: 2\n    topic: space/planets"))
    assert fired(tmp_path, "Mars, Venus, probe.") == []
    (rule,) = load_engine([tmp_path]).tag("Mars, Venus, probe. Venus, Mars, probes.").rules
    assert rule.topic_suffix == "space/planets"
    assert len(rule.evidence) == 2


def test_a_watchlist_whose_every_alias_folds_tags_text(tmp_path: Path) -> None:
    """No key for the exact automaton at all: the fold automaton alone finds the name."""
    wonsan = "{id: wonsan, name: Wonsan, kind: place, fold: true, aliases: {hi: [वॉनसन]}}"
    write(tmp_path, "a.yaml", f"entities:\n  - {wonsan}\n")
    result = load_engine([tmp_path]).tag("किम वोनसान पहुंचे।")
    assert [(entity.id, entity.count) for entity in result.entities] == [("wonsan", 1)]


def test_an_inflected_form_is_normalized_as_a_whole_like_the_text(tmp_path: Path) -> None:
    """`हिन्` + `दी` meets at a nasal before its own class: the form is `हिंदी`, as the text becomes."""
    hindi = '{id: hindi, name: Hindi, kind: organisation, aliases: {hi: [{text: "हिन्", suffixes: ["दी", "दू"]}]}}'
    write(tmp_path, "a.yaml", f"entities:\n  - {hindi}\n")
    engine = load_engine([tmp_path])
    for text in ("हिन्दी में", "हिंदी में", "हिन्दू"):
        assert [entity.id for entity in engine.tag(text).entities] == ["hindi"], text


def test_version_changes_with_content(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES + rule_file("sentence"))
    before = load_engine([tmp_path]).version
    write(tmp_path, "a.yaml", ENTITIES + rule_file("paragraph"))
    assert load_engine([tmp_path]).version != before


def only_problem(folder: Path) -> Problem:
    with pytest.raises(WatchlistError) as raised:
        load_engine([folder])
    assert len(raised.value.problems) == 1, raised.value.problems
    return raised.value.problems[0]


def test_broken_yaml_has_a_line(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "entities:\n  - id: mars\n    name: [unclosed\n")
    problem = only_problem(tmp_path)
    assert problem.line is not None and problem.key == "(yaml)"


def test_unknown_key_and_wrong_type_name_key_and_line(tmp_path: Path) -> None:
    venus = "    kind: place\n    aliases:\n      en: [Venus]"
    write(tmp_path, "a.yaml", ENTITIES.replace(venus, venus.replace("place", "plnet") + "\n    colour: red"))
    with pytest.raises(WatchlistError) as raised:
        load_engine([tmp_path])
    lines = {(problem.key, problem.line) for problem in raised.value.problems}
    assert lines == {("entities[1].kind", 10), ("entities[1].colour", 13)}
    assert str(raised.value.problems[0]).startswith(f"{tmp_path / 'a.yaml'}:")


def test_unknown_reference(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES + rule_file("sentence").replace("[venus]", "[jupiter]"))
    problem = only_problem(tmp_path)
    assert (problem.key, problem.line) == ("rules[0].all[1].entities[0]", 24)
    assert "unknown entity 'jupiter'" in problem.message


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES)
    again = "entities:\n  - id: mars\n    name: Mars again\n    kind: place\n    aliases: {en: [Red planet]}\n"
    write(tmp_path, "b.yaml", again)
    problem = only_problem(tmp_path)
    assert problem.file.endswith("b.yaml") and problem.line == 2 and "duplicate entity id 'mars'" in problem.message


def test_empty_alias_list(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "entities:\n  - id: mars\n    name: Mars\n    kind: place\n    aliases: {en: []}\n")
    with pytest.raises(WatchlistError) as raised:
        load_engine([tmp_path])
    assert any("no aliases" in problem.message for problem in raised.value.problems)


def test_alias_shared_by_two_entities(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES.replace("en: [Venus]", "en: [Venus, mars]"))
    problem = only_problem(tmp_path)
    assert problem.key == "entities[1].aliases.en[1]" and "also belongs to entity 'mars'" in problem.message


def test_short_alias_needs_case(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES.replace("en: [Mars]", "en: [Ma]"))
    assert "too short" in only_problem(tmp_path).message
    write(tmp_path, "a.yaml", ENTITIES.replace("en: [Mars]", "en: [{text: MA, case: true}]"))
    assert load_engine([tmp_path]).tag("MA and ma").entities[0].count == 1


def test_unknown_paradigm(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES.replace("en: [Mars]", "en: [{text: Mars, forms: planet}]"))
    assert "unknown paradigm 'planet'" in only_problem(tmp_path).message


TRICKY_SCALARS = """
plain: [yes, no, on, off, NO, y, true, False, TRUE, null, ~, '', 0777, 0o17, 0x1F, 1_000, 190:20, 1.5, .5, 1e3]
dates: [2024-01-01, 2024-01-01 10:00:00]
no: Norwegian is a language code, not false
12: a number as a key
merged: {<<: {a: 1}, b: 2}
"""


def test_fast_loader_reads_what_the_round_trip_loader_reads() -> None:
    """Valid files are read by libyaml, so its scalars must be YAML 1.2's like ruamel's (`no` is a string)."""
    from ruamel.yaml import YAML

    from monitor.engine.watchlist import _FastLoader, _plain

    fast = yaml.load(TRICKY_SCALARS, Loader=_FastLoader)
    assert fast == _plain(YAML(typ="rt").load(TRICKY_SCALARS))
    assert fast["no"] and fast["plain"][1] == "no" and fast["plain"][12] == 777


def test_duplicate_key_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES + "terms:\n  other:\n    en: [other]\n")
    problem = only_problem(tmp_path)
    assert problem.key == "(yaml)" and problem.line is not None and "duplicate" in problem.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("entities: !foo [1]\n", 1),
        ("rules:\n  - id: x\n    title: !!python/object/apply:os.system ['echo pwned']\n", 3),
        ("terms:\n  probe:\n    en: [!bar probe]\n", 3),
        ("entities: [{id: mars, name: !x {a: 1}, kind: place, aliases: {en: [Mars]}}]\n", 1),
        ("rules: !!int seven\n", None),  # a standard tag with a value it cannot take: no line, still one problem
    ],
)
def test_a_yaml_tag_is_one_problem_with_file_and_line(tmp_path: Path, text: str, line: int | None) -> None:
    write(tmp_path, "a.yaml", text)
    problem = only_problem(tmp_path)
    assert problem.file == str(tmp_path / "a.yaml") and problem.line == line
    assert problem.key == "(yaml)"


def test_a_file_extends_an_entity_another_file_defines(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES + rule_file("sentence"))
    write(tmp_path, "b.yaml", "extend:\n  mars:\n    aliases:\n      hi: [मंगल]\n      en: [Red Planet]\n")
    assert fired(tmp_path, "The probe reached the Red Planet and Venus.") == ["planets"]
    assert fired(tmp_path, "मंगल और Venus पर probe") == ["planets"]
    entity = load_engine([tmp_path]).tag("Red Planet").entities[0]
    assert (entity.id, entity.name) == ("mars", "Mars")


def test_extending_an_unknown_entity_or_with_a_taken_alias_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES)
    write(tmp_path, "b.yaml", "extend:\n  jupiter:\n    aliases: {en: [Jove]}\n")
    problem = only_problem(tmp_path)
    assert (problem.file, problem.key, problem.line) == (str(tmp_path / "b.yaml"), "extend.jupiter", 2)
    assert "unknown entity 'jupiter'" in problem.message
    write(tmp_path, "b.yaml", "extend:\n  mars:\n    aliases: {en: [Venus]}\n")
    assert "also belongs to entity" in only_problem(tmp_path).message


def test_reference_errors_are_reported_with_schema_errors_of_another_file(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES.replace("kind: place", "kind: planet", 1))  # mars: a schema error
    write(tmp_path, "b.yaml", rule_file("sentence").replace("[venus]", "[jupiter]"))
    problems = problems_of([tmp_path])
    assert {(Path(p.file).name, p.key) for p in problems} == {
        ("a.yaml", "entities[0].kind"),
        ("b.yaml", "rules[0].all[1].entities[0]"),  # jupiter is unknown; mars, broken in a.yaml, is not
    }


def test_a_generated_form_that_is_a_common_name_is_a_warning_not_an_error(tmp_path: Path) -> None:
    india = """
paradigms:
  country: {endings: ["", "ी", "ियों"]}
entities:
  - id: india
    name: India
    kind: country
    aliases:
      hi: [{text: भारत, forms: country}]
"""
    write(tmp_path, "a.yaml", india)
    [problem] = problems_of([tmp_path])
    assert problem.level == "warning" and problem.line == 9 and "'भारती'" in problem.message
    assert [entity.id for entity in load_engine([tmp_path]).tag("भारत और भारती").entities] == ["india"]
    write(tmp_path, "a.yaml", india.replace("forms: country", 'suffixes: ["", "ियों"]'))
    assert problems_of([tmp_path]) == []


def test_a_mistyped_watchlist_key_or_value_gets_a_did_you_mean(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTITIES + rule_file("sentense"))
    problem = only_problem(tmp_path)
    assert (problem.key, problem.line) == ("rules[0].scope.unit", 21)
    assert problem.message.endswith("did you mean 'sentence'?")
    write(tmp_path, "a.yaml", ENTITIES.replace("en: [Mars]", "en: [{text: Mars, form: country}]"))
    assert only_problem(tmp_path).message == "unknown key; did you mean 'forms'?"

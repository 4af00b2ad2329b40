"""The accuracy scorer (bench/accuracy.py) and its development set (bench/devset/).

The metrics are checked on tiny hand-made inputs whose figures are worked out by hand; the set is checked
for consistency (files, labels, watchlist ids, stories, dates). The scorer's accuracy figures are measured,
never asserted: the dev-set run only checks that it scores every article and label.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest

from bench.accuracy import Prediction, as_json, novelty_of, prediction_of, render, run, score
from bench.accuracy_metrics import (
    PRF,
    bcubed,
    class_scores,
    confusion,
    entity_scores,
    fires_scores,
    group_by_entity_sets,
    pairwise,
    wire_copies_opening_stories,
)
from bench.devset_labels import CLASSES, DEVSET, RULES, Label, load_labels, watchlist_entity_ids

# --- metrics on hand-made inputs -----------------------------------------------------------------------


def test_prf_ratios_and_what_is_undefined() -> None:
    assert PRF(3, 1, 2).precision == 0.75
    assert PRF(3, 1, 2).recall == 0.6
    assert PRF(3, 1, 2).f1 == pytest.approx(6 / 9)
    nothing_predicted = PRF(0, 0, 4)
    assert nothing_predicted.precision is None
    assert nothing_predicted.recall == 0.0
    assert nothing_predicted.f1 == 0.0  # from the counts: an empty answer to a non-empty question scores 0
    assert PRF(0, 0, 0).f1 is None


def test_bcubed_of_a_known_clustering() -> None:
    # gold {a, b} {c}; predicted {a} {b, c}
    # a: P 1/1, R 1/2 · b: P 1/2, R 1/2 · c: P 1/2, R 1/1  ->  P = R = 2/3
    gold = {"a": "g1", "b": "g1", "c": "g2"}
    pred = {"a": "p1", "b": "p2", "c": "p2"}
    result = bcubed(gold, pred)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 3)
    assert result.f1 == pytest.approx(2 / 3)


def test_bcubed_of_singletons_and_of_one_big_cluster() -> None:
    gold = {"a": "x", "b": "x", "c": "x", "d": "y"}
    singletons = bcubed(gold, {item: item for item in gold})
    assert singletons.precision == 1.0
    assert singletons.recall == pytest.approx((1 / 3 * 3 + 1) / 4)
    lumped = bcubed(gold, dict.fromkeys(gold, "all"))
    assert lumped.recall == 1.0
    assert lumped.precision == pytest.approx((3 / 4 * 3 + 1 / 4) / 4)


def test_pairwise_counts_pairs_of_one_story() -> None:
    gold = {"a": "g1", "b": "g1", "c": "g1", "d": "g2"}
    pred = {"a": "p1", "b": "p1", "c": "p2", "d": "p2"}
    # gold pairs ab ac bc; predicted pairs ab cd: ab is right, cd wrong, ac and bc missed
    assert pairwise(gold, pred) == PRF(tp=1, fp=1, fn=2)
    assert pairwise(gold, {item: item for item in gold}) == PRF(0, 0, 3)


def test_entity_micro_scores_and_where_they_missed() -> None:
    gold = {"a": frozenset({"russia", "north-korea"}), "b": frozenset({"japan"})}
    pred = {"a": frozenset({"russia"}), "b": frozenset({"japan", "usa"})}
    scores = entity_scores(gold, pred)
    assert scores.micro == PRF(tp=2, fp=1, fn=1)
    assert scores.missed == {"north-korea": ("a",)}
    assert scores.spurious == {"usa": ("b",)}


def test_rule_confusion_firing_and_novelty_classes() -> None:
    gold = {"a": "new", "b": "reference", "c": "none", "d": "speculative", "e": "new"}
    pred = {"a": "new", "b": "new", "c": "new", "e": "reference"}  # d: not fired
    matrix = confusion(gold, pred)
    assert matrix[("speculative", "none")] == 1
    assert matrix[("reference", "new")] == 1
    assert fires_scores(matrix) == PRF(tp=3, fp=1, fn=1)
    assert class_scores(matrix, "new") == PRF(tp=1, fp=2, fn=1)
    assert class_scores(matrix, "reference") == PRF(tp=0, fp=1, fn=1)
    assert class_scores(matrix, "speculative") == PRF(tp=0, fp=0, fn=1)


def test_wire_copies_outside_their_originals_story() -> None:
    stories = {"orig": "s1", "copy1": "s1", "copy2": "s2", "other": "s2"}
    assert wire_copies_opening_stories({"copy1": "orig", "copy2": "orig"}, stories) == ["copy2"]


def test_baseline_groups_identical_entity_sets() -> None:
    groups = group_by_entity_sets(
        {"a": frozenset({"russia", "north-korea"}), "b": frozenset({"north-korea", "russia"}), "c": frozenset()}
    )
    assert groups["a"] == groups["b"] != groups["c"]


# --- reading the product's output ----------------------------------------------------------------------


def test_output_without_novelty_or_story_is_scored_as_the_product_behaves_today() -> None:
    output = {"entities": [{"id": "russia"}], "rules": [{"rule": "russia-dprk-agreement"}]}
    prediction = prediction_of(output)
    assert prediction.rules == {"russia-dprk-agreement": "new"}
    assert prediction.story is None
    assert not prediction.novelty_given
    assert not prediction.story_given


def test_output_with_novelty_and_story() -> None:
    output = {
        "entities": [],
        "rules": [
            {"rule": "russia-dprk-agreement", "novelty": "reference"},
            {"rule": "russia-dprk-agreement", "novelty": "new"},
            {"rule": "russia-dprk-meeting", "novelty": "speculative"},
        ],
        "story": {"id": "st-7"},
    }
    prediction = prediction_of(output)
    assert prediction.rules == {"russia-dprk-agreement": "new", "russia-dprk-meeting": "speculative"}
    assert prediction.story == "st-7"
    assert prediction.novelty_given
    assert prediction.story_given


def test_an_unknown_novelty_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown novelty"):
        novelty_of([{"novelty": "old"}])


def test_score_treats_articles_without_a_story_as_their_own() -> None:
    labels = {
        name: Label(name, "en", "2026-01-01", "dev", "s1", frozenset(), {"agreement": "none"}, wire_of=wire)
        for name, wire in (("a.txt", None), ("b.txt", "a.txt"))
    }
    preds = {name: Prediction(frozenset(), {}, None) for name in labels}
    report = score(labels, preds)
    assert report.bcubed.precision == 1.0
    assert report.bcubed.recall == 0.5
    assert report.wire_copies_opened == ["b.txt"]
    assert report.baseline_bcubed.f1 == 1.0  # both have the same (empty) entity set


# --- the development set -------------------------------------------------------------------------------

LABELS = load_labels()
ARTICLE_SUFFIXES = (".txt", ".json")


def test_every_label_names_a_file_and_every_file_has_a_label() -> None:
    files = {path.name for path in DEVSET.iterdir() if path.suffix in ARTICLE_SUFFIXES}
    assert sorted(set(LABELS) - files) == []
    assert sorted(files - set(LABELS)) == []


def test_every_entity_id_exists_in_the_shipped_watchlists() -> None:
    known = watchlist_entity_ids()
    unknown = {name: sorted(label.entities - known) for name, label in LABELS.items() if label.entities - known}
    assert unknown == {}


def test_every_wire_copy_copies_an_earlier_article_of_its_story() -> None:
    for name, label in LABELS.items():
        if label.wire_of is None:
            continue
        original = LABELS[label.wire_of]
        assert original.story == label.story, name
        assert original.wire_of is None, name
        assert (original.published_at, label.wire_of) < (label.published_at, name), name


def test_no_story_is_split_between_dev_and_heldout() -> None:
    splits: dict[str, set[str]] = {}
    for label in LABELS.values():
        splits.setdefault(label.story, set()).add(label.split)
    assert {story: sorted(s) for story, s in splits.items() if len(s) > 1} == {}
    assert {label.split for label in LABELS.values()} == {"dev", "heldout"}


def test_a_story_spans_at_most_72_hours_of_dates() -> None:
    dates: dict[str, list[dt.date]] = {}
    for label in LABELS.values():
        dates.setdefault(label.story, []).append(dt.date.fromisoformat(label.published_at))
    assert {story: d for story, d in dates.items() if (max(d) - min(d)).days > 3} == {}


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]  # fmt: skip
_HINDI_MONTHS = ["जनवरी", "फरवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर",
                 "दिसंबर"]  # fmt: skip


def _written_dates(day: dt.date) -> list[str]:
    month, short, hindi = _MONTHS[day.month - 1], _MONTHS[day.month - 1][:3], _HINDI_MONTHS[day.month - 1]
    return [
        day.isoformat(),
        f"{day.day} {short} {day.year}",
        f"{day.day} {month} {day.year}",
        f"{short} {day.day}, {day.year}",
        f"{month} {day.day}, {day.year}",
        f"{day.day} {hindi} {day.year}",
    ]


def test_each_article_carries_its_own_date() -> None:
    """JSON in ``published_at``, text files in a dateline or byline, as real outlets write them."""
    wrong = []
    for name, label in LABELS.items():
        text = (DEVSET / name).read_text(encoding="utf-8")
        if name.endswith(".json"):
            ok = str(json.loads(text)["published_at"]).startswith(label.published_at)
        else:
            ok = any(written in text for written in _written_dates(dt.date.fromisoformat(label.published_at)))
        if not ok:
            wrong.append(name)
    assert wrong == []


def test_the_set_is_large_and_mixed_as_the_issue_asks() -> None:
    assert len(LABELS) >= 180
    languages = Counter(label.language for label in LABELS.values())
    assert set(languages) == {"hi", "en", "mixed"}
    assert languages["mixed"] >= 0.15 * len(LABELS)
    heldout = sum(label.split == "heldout" for label in LABELS.values())
    assert 0.25 <= heldout / len(LABELS) <= 0.40
    agreement = Counter(label.rules["agreement"] for label in LABELS.values())
    assert set(agreement) == set(CLASSES)


def test_the_scorer_runs_over_the_dev_set_and_scores_every_article_and_label() -> None:
    dev = {name: label for name, label in LABELS.items() if label.split == "dev"}
    report = run("dev")
    assert report.articles == len(dev)
    assert report.stories == len({label.story for label in dev.values()})
    assert report.wire_copies == sum(label.wire_of is not None for label in dev.values())
    micro = report.entities.micro
    assert micro.tp + micro.fn == sum(len(label.entities) for label in dev.values())
    for key, rule in report.rules.items():
        assert rule.rule == RULES[key]
        assert sum(rule.matrix.values()) == sum(key in label.rules for label in dev.values())
    assert "B-cubed" in render(report)
    assert json.loads(json.dumps(as_json(report)))["articles"] == len(dev)

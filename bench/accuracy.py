"""How well the product tags the labelled development set (issue 12): entities, rules by novelty, stories.

``python -m bench.accuracy [--split dev|heldout|all] [--watchlists PATH...] [--json]``

Every article goes through the product's own ``monitor tag --json`` (``monitor.cli.main``, in process, once
over all the split's files in publication order, so that story grouping sees them as a feed would), and
its output is compared with ``bench/devset/labels.yaml``. The metrics are small pure functions, tested in
``tests/test_accuracy_scorer.py``; the labels and their schema are described in ``bench/devset/README.md``.

The product's output may not carry ``rules[].novelty`` or ``story.id`` yet: then every firing counts as
``new`` and every article is its own story, which is how the product behaves without them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.accuracy_metrics import (
    PRF,
    BCubed,
    EntityScores,
    bcubed,
    class_scores,
    confusion,
    entity_scores,
    fires_scores,
    group_by_entity_sets,
    pairwise,
    wire_copies_opening_stories,
)
from bench.devset_labels import CLASSES, CONFIG, LABELS, NOVELTIES, PRECEDENCE, RULES, WATCHLISTS, Label, load_labels

#: the arguments of the product's command that tags the files (its own code path, run in process)
TAG_ARGS = ("tag", "--json")

SPLITS = ("dev", "heldout", "all")


# --- product output -------------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """What the product said about one article, reduced to what is scored."""

    entities: frozenset[str]
    #: rule id -> novelty, for the rules that fired
    rules: Mapping[str, str]
    story: str | None
    #: the output carried ``rules[].novelty`` / ``story.id`` (False: scored as the product behaves today)
    novelty_given: bool = False
    story_given: bool = False


def novelty_of(firings: Sequence[Mapping[str, Any]]) -> str:
    """One article's novelty for a rule from its firings: ``new`` when the product gives none."""
    given = {str(firing.get("novelty") or "new") for firing in firings}
    unknown = given - set(NOVELTIES)
    if unknown:
        raise ValueError(f"unknown novelty {sorted(unknown)} (expected {', '.join(NOVELTIES)})")
    return next(novelty for novelty in PRECEDENCE if novelty in given)


def prediction_of(output: Mapping[str, Any]) -> Prediction:
    """Reduce one ``monitor tag --json`` object to what is scored."""
    firings: defaultdict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for firing in output.get("rules") or ():
        firings[str(firing["rule"])].append(firing)
    story = output.get("story")
    story_id = story.get("id") if isinstance(story, Mapping) else None
    return Prediction(
        entities=frozenset(str(entity["id"]) for entity in output.get("entities") or ()),
        rules={rule: novelty_of(hits) for rule, hits in firings.items()},
        story=None if story_id is None else str(story_id),
        novelty_given=any("novelty" in hit for hits in firings.values() for hit in hits),
        story_given=isinstance(story, Mapping) and "id" in story,
    )


@contextlib.contextmanager
def _watchlists_env(paths: Sequence[Path]) -> Iterator[None]:
    """The product reads its watchlist paths from settings; the environment beats the config file."""
    key = "MONITOR_WATCHLISTS__PATHS"
    before = os.environ.get(key)
    os.environ[key] = json.dumps([str(path.resolve()) for path in paths])
    try:
        yield
    finally:
        if before is None:
            del os.environ[key]
        else:
            os.environ[key] = before


def tag_articles(files: Sequence[Path], watchlists: Sequence[Path] = (WATCHLISTS,)) -> dict[str, dict[str, Any]]:
    """Run the product's ``monitor tag --json`` over the files once, in process; its objects by file name."""
    from monitor.cli import main as monitor_main

    out = io.StringIO()
    with _watchlists_env(watchlists), contextlib.redirect_stdout(out):
        monitor_main([*TAG_ARGS, "--config", str(CONFIG), *map(str, files)])
    results: dict[str, dict[str, Any]] = {}
    for line in out.getvalue().splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        name = Path(obj["path"]).name
        if "error" in obj:
            raise RuntimeError(f"{name}: the product could not read it: {obj['error']}")
        results[name] = obj
    missing = sorted({path.name for path in files} - results.keys())
    if missing:
        raise RuntimeError(f"the product printed nothing for {', '.join(missing)}")
    return results


# --- the report ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleReport:
    rule: str
    gold: Mapping[str, int]
    matrix: Mapping[tuple[str, str], int]
    fires: PRF
    classes: Mapping[str, PRF]


@dataclass(frozen=True)
class Report:
    split: str
    articles: int
    stories: int
    novelty_given: bool
    story_given: bool
    entities: EntityScores
    rules: Mapping[str, RuleReport]
    pairwise: PRF
    bcubed: BCubed
    wire_copies: int
    wire_copies_opened: list[str]
    baseline_bcubed: BCubed
    #: phenomenon -> (agreement labels the product got right, articles with the phenomenon)
    phenomena: Mapping[str, tuple[int, int]] = field(default_factory=dict)


def rule_report(key: str, labels: Mapping[str, Label], preds: Mapping[str, Prediction]) -> RuleReport:
    rule = RULES[key]
    gold = {name: label.rules[key] for name, label in labels.items() if key in label.rules}
    pred = {name: preds[name].rules[rule] for name in gold if rule in preds[name].rules}
    matrix = confusion(gold, pred)
    return RuleReport(
        rule=rule,
        gold=Counter(gold.values()),
        matrix=matrix,
        fires=fires_scores(matrix),
        classes={cls: class_scores(matrix, cls) for cls in NOVELTIES},
    )


def phenomena_scores(labels: Mapping[str, Label], preds: Mapping[str, Prediction]) -> dict[str, tuple[int, int]]:
    """Per phenomenon tag: on how many of its articles the agreement rule's outcome matches the label."""
    rule = RULES["agreement"]
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for name, label in labels.items():
        ok = preds[name].rules.get(rule, "none") == label.rules["agreement"]
        for tag in label.phenomena:
            total[tag] += 1
            right[tag] += ok
    return {tag: (right[tag], total[tag]) for tag in sorted(total)}


def score(labels: Mapping[str, Label], preds: Mapping[str, Prediction], split: str = "all") -> Report:
    """Every figure of the report, from the labels and the product's predictions for the same articles."""
    gold_story = {name: label.story for name, label in labels.items()}
    pred_story = {name: preds[name].story or f"article:{name}" for name in labels}
    wire_of = {name: label.wire_of for name, label in labels.items() if label.wire_of}
    return Report(
        split=split,
        articles=len(labels),
        stories=len(set(gold_story.values())),
        novelty_given=any(p.novelty_given for p in preds.values()),
        story_given=any(p.story_given for p in preds.values()),
        entities=entity_scores(
            {name: label.entities for name, label in labels.items()}, {name: preds[name].entities for name in labels}
        ),
        rules={key: rule_report(key, labels, preds) for key in RULES},
        pairwise=pairwise(gold_story, pred_story),
        bcubed=bcubed(gold_story, pred_story),
        wire_copies=len(wire_of),
        wire_copies_opened=wire_copies_opening_stories(wire_of, pred_story),
        baseline_bcubed=bcubed(gold_story, group_by_entity_sets({name: preds[name].entities for name in labels})),
        phenomena=phenomena_scores(labels, preds),
    )


def select(labels: Mapping[str, Label], split: str) -> dict[str, Label]:
    return {name: label for name, label in labels.items() if split == "all" or label.split == split}


def run(split: str = "dev", watchlists: Sequence[Path] = (WATCHLISTS,), labels_path: Path = LABELS) -> Report:
    """Tag the split's articles with the product and score them."""
    labels = select(load_labels(labels_path), split)
    folder = labels_path.parent
    files = [folder / name for name in sorted(labels, key=lambda name: (labels[name].published_at, name))]
    outputs = tag_articles(files, watchlists)
    preds = {name: prediction_of(outputs[name]) for name in labels}
    return score(labels, preds, split)


# --- rendering -----------------------------------------------------------------------------------------


def _ratio(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def _prf_line(label: str, prf: PRF) -> str:
    return (
        f"  {label:<14} P {_ratio(prf.precision)}  R {_ratio(prf.recall)}  F1 {_ratio(prf.f1)}"
        f"   (tp {prf.tp}, fp {prf.fp}, fn {prf.fn})"
    )


def _worst(misses: Mapping[str, tuple[str, ...]], kind: str, limit: int = 6) -> list[str]:
    ranked = sorted(misses.items(), key=lambda item: (-len(item[1]), item[0]))[:limit]
    lines = []
    for entity, files in ranked:
        shown = ", ".join(files[:4]) + (", ..." if len(files) > 4 else "")
        lines.append(f"    {kind} {entity:<14} {len(files):>3}  {shown}")
    return lines


def _rule_lines(name: str, rule: RuleReport) -> list[str]:
    gold = ", ".join(f"{rule.gold.get(cls, 0)} {cls}" for cls in CLASSES)
    lines = [f"{rule.rule}  ({name}; labelled: {gold})", _prf_line("fires at all", rule.fires)]
    lines += [_prf_line(cls, rule.classes[cls]) for cls in NOVELTIES]
    lines.append("  confusion (rows: label, columns: product)")
    lines.append("    " + " " * 12 + "".join(f"{cls:>12}" for cls in CLASSES))
    for gold_cls in CLASSES:
        cells = "".join(f"{rule.matrix.get((gold_cls, cls), 0):>12}" for cls in CLASSES)
        lines.append(f"    {gold_cls:<12}{cells}")
    return lines


def render(report: Report) -> str:
    """The readable report."""
    lines = [
        f"newsmon accuracy on bench/devset, split {report.split}: {report.articles} articles, {report.stories} stories"
    ]
    if not report.novelty_given:
        lines.append("  the product's output has no rules[].novelty: every firing is counted as new")
    if not report.story_given:
        lines.append("  the product's output has no story.id: every article is its own story")
    ent = report.entities
    lines += ["", "entities (micro, over article x entity pairs)", _prf_line("entities", ent.micro)]
    if ent.missed or ent.spurious:
        lines.append("  worst misses (entity, articles):")
        lines += _worst(ent.missed, "missed  ") + _worst(ent.spurious, "spurious")
    for name, rule in report.rules.items():
        lines += ["", *_rule_lines(name, rule)]
    wrong = [(tag, ok, n) for tag, (ok, n) in report.phenomena.items() if ok < n]
    if wrong:
        lines += ["", "agreement rule by phenomenon (where not every article is right): right / articles"]
        for tag, ok, n in sorted(wrong, key=lambda item: (item[1] / item[2], item[0]))[:20]:
            lines.append(f"  {tag:<36} {ok:>3} / {n:<3}")
    lines += [
        "",
        f"stories ({report.stories} labelled)",
        _prf_line("pairwise", report.pairwise),
        f"  {'B-cubed':<14} P {_ratio(report.bcubed.precision)}  R {_ratio(report.bcubed.recall)}"
        f"  F1 {_ratio(report.bcubed.f1)}",
        f"  wire copies that opened a story of their own: {len(report.wire_copies_opened)} of {report.wire_copies}"
        + (f" ({', '.join(report.wire_copies_opened)})" if report.wire_copies_opened else ""),
        f"  baseline, one story per identical entity set: B-cubed F1 {_ratio(report.baseline_bcubed.f1)}"
        f" (P {_ratio(report.baseline_bcubed.precision)}, R {_ratio(report.baseline_bcubed.recall)})",
    ]
    return "\n".join(lines)


def as_json(report: Report) -> dict[str, Any]:
    """The report as one JSON object (for tracking figures over time)."""
    return {
        "split": report.split,
        "articles": report.articles,
        "gold_stories": report.stories,
        "novelty_given": report.novelty_given,
        "story_given": report.story_given,
        "entities": {
            **report.entities.micro.as_dict(),
            "missed": {e: list(f) for e, f in report.entities.missed.items()},
            "spurious": {e: list(f) for e, f in report.entities.spurious.items()},
        },
        "rules": {
            key: {
                "rule": rule.rule,
                "labelled": dict(rule.gold),
                "fires": rule.fires.as_dict(),
                "classes": {cls: prf.as_dict() for cls, prf in rule.classes.items()},
                "confusion": {g: {p: rule.matrix.get((g, p), 0) for p in CLASSES} for g in CLASSES},
            }
            for key, rule in report.rules.items()
        },
        "stories": {
            "pairwise": report.pairwise.as_dict(),
            "bcubed": report.bcubed.as_dict(),
            "wire_copies": report.wire_copies,
            "wire_copies_opened": report.wire_copies_opened,
            "baseline_entity_sets_bcubed": report.baseline_bcubed.as_dict(),
        },
        "phenomena": {tag: {"right": ok, "articles": n} for tag, (ok, n) in report.phenomena.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.accuracy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=SPLITS, default="dev", help="which articles (default: dev)")
    parser.add_argument(
        "--watchlists",
        type=Path,
        nargs="+",
        default=[WATCHLISTS],
        help="watchlist files or folders (default: config/watchlists)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    report = run(args.split, args.watchlists)
    if args.json:
        print(json.dumps(as_json(report), indent=2, ensure_ascii=False))
    else:
        print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

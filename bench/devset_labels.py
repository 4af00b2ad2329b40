"""The labelled development set (``bench/devset/``): its labels, read and checked, and the names they use.

Shared by the scorer (``bench/accuracy.py``) and the tests that keep the labels consistent with the files
and the shipped watchlists. The schema is described in ``bench/devset/README.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DEVSET = REPO / "bench" / "devset"
LABELS = DEVSET / "labels.yaml"
CONFIG = REPO / "config" / "monitor.toml"
WATCHLISTS = REPO / "config" / "watchlists"

NOVELTIES = ("new", "reference", "speculative")
#: ``none``: the rule must not fire
CLASSES = ("none", *NOVELTIES)
#: which novelty an article gets when a rule fired more than once on it: its news beats its background
PRECEDENCE = ("new", "speculative", "reference")
#: label key -> rule id of the shipped watchlist
RULES = {
    "agreement": "russia-dprk-agreement",
    "military": "russia-dprk-military",
    "meeting": "russia-dprk-meeting",
}


@dataclass(frozen=True)
class Label:
    """What an analyst says about one article (one entry of labels.yaml)."""

    file: str
    language: str
    published_at: str
    split: str
    story: str
    entities: frozenset[str]
    #: label key (agreement, military, meeting) -> class; only the keys labelled for this article
    rules: Mapping[str, str]
    wire_of: str | None = None
    phenomena: tuple[str, ...] = ()
    note: str | None = None


def load_labels(path: Path = LABELS) -> dict[str, Label]:
    """labels.yaml as Label objects, by file name; a malformed entry is an error naming the file."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: the top level must be a mapping of file name -> label")
    labels: dict[str, Label] = {}
    for name, entry in doc.items():
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: {name}: the label must be a mapping")
        rules = {key: str(entry[key]) for key in RULES if key in entry}
        for key, value in rules.items():
            if value not in CLASSES:
                raise ValueError(f"{path}: {name}: {key} must be one of {', '.join(CLASSES)}, not {value!r}")
        if "agreement" not in rules:
            raise ValueError(f"{path}: {name}: agreement is required")
        labels[str(name)] = Label(
            file=str(name),
            language=str(entry["language"]),
            published_at=str(entry["published_at"]),
            split=str(entry["split"]),
            story=str(entry["story"]),
            entities=frozenset(entry.get("entities") or ()),
            rules=rules,
            wire_of=entry.get("wire_of"),
            phenomena=tuple(entry.get("phenomena") or ()),
            note=entry.get("note"),
        )
    return labels


def watchlist_entity_ids(paths: Sequence[Path] = (WATCHLISTS,)) -> frozenset[str]:
    """Every entity id the given watchlist files (or folders of them) define."""
    ids: set[str] = set()
    for path in paths:
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
        for file in files:
            doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
            ids.update(str(entity["id"]) for entity in doc.get("entities") or ())
    return frozenset(ids)

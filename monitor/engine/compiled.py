"""What compiling the watchlists makes: the automata's key values, the compiled rules, their anchors.

Plain frozen data, read by `match.py` and `rules.py` on every article and built by `compile.py`; the
automata are pyahocorasick objects whose values are `KeyValue`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from monitor.engine.result import Novelty, Severity

#: the target of a surname alias (`coref: true`) of an entity: `match.py` keeps its hits as the
#: entity when another alias of the entity is found in the article, and drops them otherwise
COREF_PREFIX = "coref:"


@dataclass(frozen=True, slots=True)
class Candidate:
    """What a key means: an entity or term group (`target`), verified against the normalized text."""

    target: str
    role: Literal["match", "exclude"]
    #: normalized form the text must equal (lowered unless case-sensitive); None: folded match suffices
    exact: str | None
    case_sensitive: bool
    #: for a Latin spelling of a folding key (`latin_words.py`): the folded key the text must fold to
    folded: str | None = None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    title: str
    severity: Severity
    unit: Literal["sentence", "paragraph", "article", "near"]
    near_words: int
    groups: tuple[frozenset[str], ...]
    group_labels: tuple[str, ...]
    vetoes: frozenset[str]
    min_mentions: int
    topic_suffix: str
    #: every entity and term group in `groups`
    targets: frozenset[str]
    #: target -> bit k for each group k it is in, and bit len(groups) for a veto (near windows)
    target_masks: dict[str, int]
    #: the group whose words are the act reported: its clause is read for negation and time cues
    trigger: frozenset[str] = frozenset()
    #: the severity of a firing by its novelty (`severity` is the highest of them)
    severities: tuple[tuple[Novelty, Severity], ...] = ()
    #: the novelties the rule fires on
    novelties: frozenset[Novelty] = frozenset({"new", "reference", "speculative"})
    #: the groups other than the trigger made only of entities: the act's sides (`sides.py`)
    sides: tuple[frozenset[str], ...] = ()
    #: a `new` trigger word needs an act in its clause (`ClauseReader.acted`), else it is `reference`
    needs_act: bool = False
    #: `none:` groups with `near`: each vetoes a trigger word within its number of words (same sentence)
    near_vetoes: tuple[tuple[frozenset[str], int], ...] = ()

    def severity_of(self, novelty: Novelty) -> Severity:
        for found, severity in self.severities:
            if found == novelty:
                return severity
        return self.severity


@dataclass(frozen=True, slots=True)
class CompiledCues:
    """The clause cues (`cues:` of the watchlists): their own automata, run only over the sentences
    of passages that qualify (rare), so the hot path pays nothing for them. Targets are `cues:<kind>`."""

    exact_automaton: Any
    fold_automaton: Any
    #: clause breaks that start with punctuation (`;`, `, and`), by their first character, longest
    #: first: not words, so found by plain search, one per character (`,`), not one per mark
    break_marks: tuple[tuple[str, tuple[str, ...]], ...]
    #: the refer-back cues' keys alone (None: they need the folding automaton): a sentence where none
    #: is found refers back to nothing, known without reading all its cues (most trigger sentences
    #: asked are of that kind, and reading a sentence's cues costs ten times this look)
    refer_back_automaton: Any = None


@dataclass(frozen=True, slots=True)
class EntityInfo:
    id: str
    name: str
    kind: str


class KeyCheck(NamedTuple):
    """A candidate of a key that is checked where the key was found (exclusions, case, inner
    separators that must be the alias's own)."""

    #: what the text there must equal (lowered, folded for the folding automaton); None: no comparison
    verify: str | None
    #: the key's length in the text
    length: int
    candidate: Candidate


class KeyValue(NamedTuple):
    """What an automaton key stands for: pyahocorasick reports it with each hit.

    A NamedTuple, not a dataclass: `find_hits` unpacks it in its loop over the hits, the engine's
    hottest line (about 1% slower than a plain tuple; attribute access would be slower still).
    """

    #: where the key starts, back from the hit's last character
    back: int
    #: its length in the text
    length: int
    #: targets that need no further check
    fast: tuple[str, ...]
    #: how many spaces the text must have there (0: any)
    spaces: int
    #: the candidates that need a check
    checks: tuple[KeyCheck, ...]


@dataclass(frozen=True, slots=True)
class Compiled:
    #: keys over the lower-cased scan text (aliases matched exactly, and terms), `KeyValue`s; None when
    #: there are none (pyahocorasick cannot search with an empty automaton)
    exact_automaton: Any
    #: keys over the folded scan text (aliases that fold spelling variants); None when there are none
    fold_automaton: Any
    entities: dict[str, EntityInfo]
    rules: tuple[CompiledRule, ...]
    #: target -> indexes of the rules anchored on a group holding it. Each rule is anchored on its two
    #: groups with the fewest keys: it can be complete only when a target of each was seen, and two
    #: sets of rules intersected in C leave few to check (one anchor leaves every rule of a name)
    rules_by_anchor: dict[str, tuple[int, ...]]
    #: the same for each rule's second anchor (rules with one `all` group have none)
    rules_by_second: dict[str, tuple[int, ...]]
    #: rules with a single `all` group: complete when their anchor is seen
    single_group: frozenset[int]
    #: per rule, its `all` groups other than the anchors: what is left to check once they are seen
    unanchored: tuple[tuple[frozenset[str], ...], ...]
    read_also: tuple[str, ...]
    version: str
    #: targets of surname aliases (`COREF_PREFIX` + entity id), resolved after matching
    coref_targets: frozenset[str] = frozenset()
    #: whether the folded text folds Latin spellings too: only for a folding alias whose Latin
    #: spellings are not all keys of the folding automaton (`latin_words.py`)
    latin_fold: bool = False
    #: None when no watchlist has cues: rules then fire as before, every firing `new`
    cues: CompiledCues | None = None

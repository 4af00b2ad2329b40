"""Watchlist files: the YAML language analysts write, its pydantic models, and loading with line numbers.

This is the only engine module that touches files. Everything it returns is plain validated data;
`compile.py` turns it into the automaton and rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError

from monitor.engine.result import Novelty, Severity
from monitor.problems import Problem, validation_message
from monitor.topics import SUFFIX_PATTERN

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
#: a term group lists its words by language, and under `exclude` the phrases that hold one of them in
#: another sense (`a great deal`, `अवैध करार दिया`): a term inside such a phrase is not the term
TermKey = Literal["exclude"] | Language


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _alias_from_string(value: object) -> object:
    return {"text": value} if isinstance(value, str) else value


class AliasSpec(_Strict):
    """One alias or term; a plain string in YAML is `{text: ...}` with no inflection."""

    text: Annotated[str, Field(min_length=1)]
    #: a named paradigm (`country`, `noun-a`, ...)
    forms: str | None = None
    #: explicit endings appended to the alias ("" keeps the bare form)
    suffixes: list[str] | None = None
    #: spelling-variant folding; unset: inherit from the entity
    fold: bool | None = None
    #: match Latin letters case-sensitively (`US` but not `us`)
    case: bool = False
    #: a phrase in Devanagari also matches written as one word (`नॉर्थ कोरिया` = `नॉर्थकोरिया`); unset:
    #: yes for every phrase whose words are all Devanagari
    joined: bool | None = None
    #: a surname alone (`किम`, `Kim`): it counts only where the article names the entity by another of
    #: its aliases too (anywhere in the article)
    coref: bool = False


Alias = Annotated[AliasSpec, BeforeValidator(_alias_from_string)]


class Paradigm(_Strict):
    """Inflected forms: strip `stem` from the alias, then append each ending."""

    stem: str = ""
    endings: Annotated[list[str], Field(min_length=1)]


class Entity(_Strict):
    id: Identifier
    name: Annotated[str, Field(min_length=1)]
    kind: Literal["country", "person", "place", "organisation"]
    #: fold spelling variants of every alias of this entity (transliterated names)
    fold: bool = False
    aliases: dict[Language, list[Alias]]
    #: look-alikes: a hit inside one of these is not this entity
    exclude: list[Alias] = []


class Extension(_Strict):
    """More aliases and look-alikes for an entity another file defines (a local spelling, a team's
    own watchlist adding to a shared one), under `extend: {<entity id>: ...}`."""

    aliases: dict[Language, list[Alias]] = {}
    exclude: list[Alias] = []


class Group(_Strict):
    """Present when any of its entities or term groups is found in the scope."""

    label: str | None = None
    entities: list[Identifier] = []
    terms: list[Identifier] = []
    #: the group whose words are the act the rule reports (default: the rule's last `all` group):
    #: its clause is checked for negation, questions, falsehood and time cues
    trigger: bool = False
    #: in `none:` only: the group vetoes only a trigger word at most this many words from one of its
    #: words in the same sentence (a football club signing a player), not the whole scope
    near: Annotated[int, Field(ge=1)] | None = None


class ScopeSpec(_Strict):
    unit: Literal["sentence", "paragraph", "article", "near"]
    near: Annotated[int, Field(ge=1)] | None = None


def _scope_from_yaml(value: object) -> object:
    if isinstance(value, str):
        return {"unit": value}
    if isinstance(value, dict) and set(value) == {"near"}:
        return {"unit": "near", "near": value["near"]}
    return value


Scope = Annotated[ScopeSpec, BeforeValidator(_scope_from_yaml)]


#: what a cue list says about the clause it is in (see `monitor/engine/cues.py`)
CueKind = Literal[
    "negation",
    "question",
    "condition",
    "falsehood",
    "qualifier",
    "speculative",
    "past",
    "pluperfect",
    "recent",
    "clause_break",
    "refer_back",
    "partner",
    "subordinate",
    "relative",
    "complement",
    "lookalike",
    "report",
    "act",
    "light_verb",
    "determiner",
]


class Rule(_Strict):
    id: Identifier
    title: Annotated[str, Field(min_length=1)]
    #: one severity, or one per novelty (a novelty left out takes the lowest listed)
    severity: Severity | Annotated[dict[Novelty, Severity], Field(min_length=1)]
    #: the novelties the rule fires on (default: all)
    novelty: Annotated[list[Novelty], Field(min_length=1)] | None = None
    scope: Scope = ScopeSpec(unit="sentence")
    all: Annotated[list[Group], Field(min_length=1)]
    none: list[Group] = []
    #: fire only when at least this many passages qualify
    min_mentions: Annotated[int, Field(ge=1)] = 1
    #: extra MQTT topic level under the rule's topic
    topic: Annotated[str, Field(pattern=SUFFIX_PATTERN)] = ""
    #: a trigger word is news only with an act in its clause (`act` and `light_verb` cues: signed,
    #: concluded, हस्ताक्षर, समझौता हुआ); without one the agreement is presupposed: `reference`
    needs_act: bool = False


class WatchlistFile(_Strict):
    read_also: list[Annotated[str, Field(min_length=1)]] = []
    paradigms: dict[Identifier, Paradigm] = {}
    entities: list[Entity] = []
    extend: dict[Identifier, Extension] = {}
    terms: dict[Identifier, dict[TermKey, list[Alias]]] = {}
    #: clause cues by kind: words that negate, question, date or refer back (see README)
    cues: dict[CueKind, dict[Language, list[Alias]]] = {}
    rules: list[Rule] = []


@dataclass(frozen=True)
class LoadedFile:
    """A validated file with its text, parsed again (with line numbers) only to point at a problem."""

    path: str
    content: WatchlistFile
    text: str
    #: names (entity ids, term groups, paradigms) the file defines in a part that failed validation:
    #: the cross-file checks run on the rest (`salvage`) and do not call these unknown
    broken: frozenset[str] = frozenset()

    @cached_property
    def tree(self) -> Any:
        return _round_trip().load(self.text)

    def line_of(self, *keys: str | int) -> int | None:
        return line_of(self.tree, keys)


class _KnownTagsOnly(RoundTripConstructor):
    """The round-trip constructor, refusing a tag it has no constructor for (`!foo`, `!!python/...`)
    at its line, where the stock one builds a tagged value the models cannot place."""

    def refuse_tag(self, node: Any) -> None:
        raise ConstructorError(None, None, f"unknown tag {node.tag!r}: a watchlist is plain YAML", node.start_mark)


_KnownTagsOnly.add_constructor(None, _KnownTagsOnly.refuse_tag)


def _round_trip() -> YAML:
    loader = YAML(typ="rt")
    loader.Constructor = _KnownTagsOnly
    return loader


def line_of(tree: Any, keys: Sequence[str | int]) -> int | None:
    """1-based line of the deepest key of `keys` that exists in the round-trip YAML tree (and has a
    recorded position)."""
    line: int | None = None
    node = tree
    for key in keys:
        if isinstance(node, CommentedMap) and key in node:
            position = node.lc.key(key)
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            position = node.lc.item(key)
        else:
            break
        if not position:
            break
        line = position[0] + 1
        node = node[key]
    return line


def dotted(keys: Sequence[str | int]) -> str:
    """`('rules', 0, 'scope')` -> `rules[0].scope`."""
    text = ""
    for key in keys:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text or "(file)"


def _plain(node: Any) -> Any:
    """Round-trip YAML nodes -> plain Python values, so pydantic sees ordinary types."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def watchlist_files(paths: Sequence[Path]) -> Iterator[Path]:
    """The files named and the `*.yaml`/`*.yml` files of the folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(child for child in path.iterdir() if child.suffix in {".yaml", ".yml"})
        else:
            yield path


class _FastLoader(yaml.CSafeLoader):
    """libyaml with the YAML 1.2 scalars of the round-trip loader (`no`, `on` stay strings, `0777` is
    777), refusing duplicate keys like it: a file it loads gives the round-trip loader's data."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:  # type: ignore[override]
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(self.construct_object(key_node, deep=True))
            if key in mapping:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value = str(self.construct_scalar(node)).replace("_", "")
        sign = -1 if value.startswith("-") else 1
        digits = value.lstrip("+-")
        base = {"0b": 2, "0o": 8, "0x": 16}.get(digits[:2], 10)
        return sign * int(digits[2:] if base != 10 else digits, base)


# the round-trip loader's YAML 1.2 resolvers (ruamel.yaml.resolver), in its order, instead of 1.1's
_FastLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "float",
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    ("int", r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$", "-+0123456789"),
    ("merge", r"^(?:<<)$", "<"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
    ("value", r"^(?:=)$", "="),
):
    _FastLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern, re.X), list(_first))
_FastLoader.add_constructor("tag:yaml.org,2002:int", _FastLoader.construct_yaml_int)


def _fast_load(text: str) -> WatchlistFile | None:
    """The file's content through libyaml, or None when anything is off (the slow path then says what)."""
    try:
        data = yaml.load(text, Loader=_FastLoader)
        if data is None:
            data = {}
        return WatchlistFile.model_validate(data) if isinstance(data, dict) else None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return None


def load_file(path: Path) -> tuple[LoadedFile | None, list[Problem]]:
    """Parse and validate one file; problems carry the file and the YAML line.

    A valid file takes the fast path (libyaml, C); the round-trip parser, which knows the line of
    every key, reads a file only to report its problems (10x slower: minutes on big watchlists).
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        return None, [Problem(name, "(file)", f"cannot read: {error.strerror or error}")]
    except UnicodeDecodeError as error:
        return None, [Problem(name, "(file)", f"not UTF-8: {error.reason}")]
    content = _fast_load(text)
    if content is not None:
        return LoadedFile(name, content, text), []
    try:
        return _slow_load(name, text)
    except (ValueError, TypeError, RecursionError) as error:  # a standard tag with a bad value: `!!int x`
        return None, [Problem(name, "(yaml)", f"cannot be read: {error}")]


def _slow_load(name: str, text: str) -> tuple[LoadedFile | None, list[Problem]]:
    """The round-trip parse of a file the fast path refused, to say what is wrong and where."""
    try:
        tree = _round_trip().load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        return None, [Problem(name, "(yaml)", str(error.problem or error.context or error), line)]
    if tree is None:
        tree = CommentedMap()
    if not isinstance(tree, CommentedMap):
        return None, [Problem(name, "(file)", "a watchlist file is a mapping of sections", 1)]
    data = _plain(tree)
    try:
        content = WatchlistFile.model_validate(data)
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            keys = [key for key in detail["loc"] if isinstance(key, str | int)]
            message = validation_message(detail, WatchlistFile)
            problems.append(Problem(name, dotted(keys), message, line_of(tree, keys)))
        kept, broken = salvage(data)
        return LoadedFile(name, kept, text, broken), problems
    return LoadedFile(name, content, text), []


def salvage(data: dict[str, Any]) -> tuple[WatchlistFile, frozenset[str]]:
    """The valid part of a file that failed validation (whole sections; the entries of a mapping
    section one by one, since dropping one keeps the others' keys) and the names the dropped parts
    define, so that the cross-file checks report their problems in the same run."""
    kept: dict[str, Any] = {}
    broken: set[str] = set()
    for section, value in data.items():
        if section not in WatchlistFile.model_fields or _valid({section: value}):
            kept[section] = value
        elif isinstance(value, dict):
            kept[section] = {key: entry for key, entry in value.items() if _valid({section: {key: entry}})}
            broken.update(str(key) for key in value if key not in kept[section])
        elif isinstance(value, list):
            broken.update(str(item["id"]) for item in value if isinstance(item, dict) and "id" in item)
    kept = {section: value for section, value in kept.items() if section in WatchlistFile.model_fields}
    return WatchlistFile.model_validate(kept), frozenset(broken)


def _valid(data: dict[str, Any]) -> bool:
    try:
        WatchlistFile.model_validate(data)
    except ValidationError:
        return False
    return True

"""Validated watchlists -> one Aho-Corasick automaton and compiled rules (`compiled.py`); cross-file checks.

Every alias and term of every file becomes keys of a single automaton over *folded* text. A key's
candidates say what a hit means and how to verify it: exact aliases compare the normalized text,
so folding widens only the aliases that opted into it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ahocorasick

from monitor.engine.compiled import Candidate, Compiled, CompiledRule, EntityInfo, KeyValue
from monitor.engine.normalize import fold, lower, normalize_phrase
from monitor.engine.segment import SEPARATOR, is_word_char, scan_text
from monitor.engine.watchlist import AliasSpec, Entity, LoadedFile, Paradigm, Rule, dotted
from monitor.problems import Problem

TERMS_PREFIX = "terms:"
MIN_ALIAS_LENGTH = 3


@dataclass(frozen=True, slots=True)
class _Located:
    """An item of a loaded file with its key path, for problems that point at a line."""

    file: LoadedFile
    keys: tuple[str | int, ...]

    def problem(self, message: str, *more_keys: str | int) -> Problem:
        keys = (*self.keys, *more_keys)
        return Problem(self.file.path, dotted(keys), message, self.file.line_of(*keys))


def alias_forms(alias: AliasSpec, paradigms: dict[str, Paradigm]) -> list[str]:
    """The alias and its allowed inflections, normalized."""
    base = normalize_phrase(alias.text)
    if alias.forms is not None:
        paradigm = paradigms[alias.forms]
        stem = base.removesuffix(normalize_phrase(paradigm.stem)) if paradigm.stem else base
        return [stem + normalize_phrase(ending) for ending in paradigm.endings]
    if alias.suffixes is not None:
        return [base + normalize_phrase(suffix) for suffix in alias.suffixes]
    return [base]


def _entity_aliases(entity: Entity, where: _Located) -> Iterator[tuple[AliasSpec, _Located]]:
    for language, aliases in entity.aliases.items():
        for index, alias in enumerate(aliases):
            yield alias, _Located(where.file, (*where.keys, "aliases", language, index))


def _check_alias(alias: AliasSpec, where: _Located, paradigms: dict[str, Paradigm]) -> list[Problem]:
    problems = []
    if alias.forms is not None and alias.suffixes is not None:
        problems.append(where.problem("give either forms or suffixes, not both"))
    if alias.forms is not None:
        paradigm = paradigms.get(alias.forms)
        if paradigm is None:
            problems.append(where.problem(f"unknown paradigm {alias.forms!r}", "forms"))
        elif paradigm.stem and not normalize_phrase(alias.text).endswith(normalize_phrase(paradigm.stem)):
            problems.append(where.problem(f"paradigm {alias.forms!r} needs an alias ending in {paradigm.stem!r}"))
    if alias.fold and alias.case:
        problems.append(where.problem("a case-sensitive alias cannot also fold spelling variants"))
    length = len(normalize_phrase(alias.text).replace(" ", ""))
    if length < MIN_ALIAS_LENGTH and not alias.case:
        problems.append(
            where.problem(f"alias {alias.text!r} is too short ({length} letters); mark an acronym `case: true`")
        )
    if alias.case and not re.search("[A-Za-z]", alias.text):
        problems.append(where.problem("`case: true` only makes sense for Latin letters"))
    return problems


def _collide(first: Candidate, second: Candidate) -> bool:
    """Two candidates under one folded key match the same text unless both are exact and differ."""
    return first.exact is None or second.exact is None or first.exact == second.exact


def _key_candidates(
    alias: AliasSpec, target: str, role: Literal["match", "exclude"], folds: bool, paradigms: dict[str, Paradigm]
) -> Iterator[tuple[str, Candidate]]:
    for form in alias_forms(alias, paradigms):
        lowered = lower(form)
        exact = None if folds else (form if alias.case else lowered)
        yield fold(lowered), Candidate(target, role, exact, alias.case)


def _spaces_only(key: str) -> bool:
    """Whether the key's only non-word characters are single spaces (the separator is a space)."""
    return scan_text(key) == key and "  " not in key


def _automata(keys: dict[str, list[Candidate]]) -> tuple[Any, Any, dict[str, int]]:
    """The exact and the folding automaton over scan text, and how many keys each target has.

    A key is wrapped in separators where it starts or ends with a letter, so it matches only whole
    words of the scan text (where every non-word character is a separator): no boundary checks per
    hit. Keys with inner separators are verified against the real text (a line break or a comma is
    not the space the alias has); case-sensitive and exclusion candidates always are.
    """
    entries: dict[tuple[bool, str], list[tuple[str, Candidate]]] = {}
    key_counts: dict[str, int] = {}
    for folded_key, candidates in keys.items():
        for candidate in dict.fromkeys(candidates):
            folds = candidate.exact is None
            key = folded_key if candidate.exact is None else lower(candidate.exact)
            entries.setdefault((folds, key), []).append((key, candidate))
            key_counts[candidate.target] = key_counts.get(candidate.target, 0) + 1
    automata: dict[bool, Any] = {}
    grouped: dict[tuple[bool, str], list[tuple[int, str, Candidate]]] = {}
    for (folds, key), pairs in entries.items():
        lead = 1 if is_word_char(key[0]) else 0
        wrapped = SEPARATOR * lead + scan_text(key) + SEPARATOR * (1 if is_word_char(key[-1]) else 0)
        for _, candidate in pairs:
            grouped.setdefault((folds, wrapped), []).append((len(wrapped) - lead, key, candidate))
    for (folds, wrapped), found in grouped.items():
        back = found[0][0]
        keys_here = {key for _, key, _ in found}
        only_key = next(iter(keys_here)) if len(keys_here) == 1 else None
        # a key whose only non-word characters are single spaces is verified by counting the
        # spaces of the text there (a comma or a line break is a separator too, but not a space)
        spaces = only_key.count(" ") if only_key is not None and _spaces_only(only_key) else None
        fast: list[str] = []
        checks: list[tuple[str | None, int, Candidate]] = []
        for _, key, candidate in found:
            verify = None if spaces is not None or SEPARATOR not in scan_text(key) else key
            if verify is None and candidate.role == "match" and not candidate.case_sensitive:
                fast.append(candidate.target)
            else:
                checks.append((verify, len(key), candidate))
        automaton = automata.get(folds)
        if automaton is None:
            automaton = automata[folds] = ahocorasick.Automaton()
        length = len(only_key) if only_key is not None else min(len(key) for key in keys_here)
        value: KeyValue = (back, length, tuple(dict.fromkeys(fast)), spaces or 0, tuple(checks))
        automaton.add_word(wrapped, value)
    for automaton in automata.values():
        automaton.make_automaton()
    return automata.get(False), automata.get(True), key_counts


def _target_masks(groups: Sequence[frozenset[str]], vetoes: frozenset[str]) -> dict[str, int]:
    masks: dict[str, int] = dict.fromkeys(vetoes, 1 << len(groups))
    for position, group in enumerate(groups):
        for target in group:
            masks[target] = masks.get(target, 0) | 1 << position
    return masks


def check_and_compile(files: Sequence[LoadedFile]) -> tuple[Compiled | None, list[Problem]]:
    """Cross-file validation (references, duplicates, shared and short aliases), then compilation."""
    problems: list[Problem] = []
    paradigms: dict[str, Paradigm] = {}
    entities: dict[str, tuple[Entity, _Located]] = {}
    term_groups: dict[str, tuple[dict[str, list[AliasSpec]], _Located]] = {}
    rules: dict[str, tuple[Rule, _Located]] = {}
    read_also: list[str] = []

    def first_definition(kind: str, name: str, seen: dict[str, Any], where: _Located) -> bool:
        if name in seen:
            earlier = seen[name][1] if isinstance(seen[name], tuple) else None
            place = f" (first in {earlier.file.path}:{earlier.file.line_of(*earlier.keys)})" if earlier else ""
            problems.append(where.problem(f"duplicate {kind} {name!r}{place}"))
            return False
        return True

    for file in files:
        content = file.content
        read_also.extend(content.read_also)
        for name, paradigm in content.paradigms.items():
            if first_definition("paradigm", name, paradigms, _Located(file, ("paradigms", name))):
                paradigms[name] = paradigm
        for index, entity in enumerate(content.entities):
            where = _Located(file, ("entities", index))
            if first_definition("entity id", entity.id, entities, _Located(file, ("entities", index, "id"))):
                entities[entity.id] = (entity, where)
        for name, by_language in content.terms.items():
            where = _Located(file, ("terms", name))
            if first_definition("term group", name, term_groups, where):
                term_groups[name] = (by_language, where)
        for index, rule in enumerate(content.rules):
            where = _Located(file, ("rules", index))
            if first_definition("rule id", rule.id, rules, _Located(file, ("rules", index, "id"))):
                rules[rule.id] = (rule, where)

    keys: dict[str, list[Candidate]] = {}
    for entity, where in entities.values():
        if not any(entity.aliases.values()):
            problems.append(where.problem(f"entity {entity.id!r} has no aliases", "aliases"))
        for language, aliases in entity.aliases.items():
            if not aliases:
                problems.append(where.problem("empty alias list", "aliases", language))
        for alias, alias_where in _entity_aliases(entity, where):
            problems.extend(_check_alias(alias, alias_where, paradigms))
            if alias.forms is not None and alias.forms not in paradigms:
                continue
            folds = entity.fold if alias.fold is None else alias.fold
            for key, candidate in _key_candidates(alias, entity.id, "match", folds, paradigms):
                for other in keys.get(key, ()):
                    if other.target != entity.id and other.role == "match" and _collide(other, candidate):
                        problems.append(
                            alias_where.problem(f"alias {alias.text!r} also belongs to entity {other.target!r}")
                        )
                        break
                keys.setdefault(key, []).append(candidate)
        for index, alias in enumerate(entity.exclude):
            exclude_where = _Located(where.file, (*where.keys, "exclude", index))
            problems.extend(_check_alias(alias, exclude_where, paradigms))
            if alias.forms is not None and alias.forms not in paradigms:
                continue
            for key, candidate in _key_candidates(alias, entity.id, "exclude", alias.fold or False, paradigms):
                keys.setdefault(key, []).append(candidate)
    for name, (by_language, where) in term_groups.items():
        if not any(by_language.values()):
            problems.append(where.problem(f"term group {name!r} has no terms"))
        for language, terms in by_language.items():
            for index, term in enumerate(terms):
                term_where = _Located(where.file, (*where.keys, language, index))
                problems.extend(_check_alias(term, term_where, paradigms))
                if term.forms is not None and term.forms not in paradigms:
                    continue
                for key, candidate in _key_candidates(
                    term, TERMS_PREFIX + name, "match", term.fold or False, paradigms
                ):
                    keys.setdefault(key, []).append(candidate)

    compiled_rules: list[CompiledRule] = []
    for rule, where in rules.values():
        groups: list[frozenset[str]] = []
        labels: list[str] = []
        for section in ("all", "none"):
            for index, group in enumerate(getattr(rule, section)):
                if not group.entities and not group.terms:
                    problems.append(where.problem("a group needs entities or terms", section, index))
                for position, entity_id in enumerate(group.entities):
                    if entity_id not in entities:
                        problems.append(
                            where.problem(f"unknown entity {entity_id!r}", section, index, "entities", position)
                        )
                for position, term_name in enumerate(group.terms):
                    if term_name not in term_groups:
                        problems.append(
                            where.problem(f"unknown term group {term_name!r}", section, index, "terms", position)
                        )
        for group in rule.all:
            groups.append(frozenset(group.entities) | {TERMS_PREFIX + name for name in group.terms})
            labels.append(group.label or " | ".join([*group.entities, *(TERMS_PREFIX + t for t in group.terms)]))
        vetoes = frozenset(
            target
            for group in rule.none
            for target in (*group.entities, *(TERMS_PREFIX + name for name in group.terms))
        )
        if rule.scope.unit == "near" and rule.scope.near is None:
            problems.append(where.problem("`near` needs a number of words", "scope"))
        compiled_rules.append(
            CompiledRule(
                id=rule.id,
                title=rule.title,
                severity=rule.severity,
                unit=rule.scope.unit,
                near_words=rule.scope.near or 0,
                groups=tuple(groups),
                group_labels=tuple(labels),
                vetoes=vetoes,
                min_mentions=rule.min_mentions,
                topic_suffix=rule.topic,
                targets=frozenset().union(*groups),
                target_masks=_target_masks(groups, vetoes),
            )
        )
    if problems:
        return None, problems

    exact_automaton, fold_automaton, key_counts = _automata(keys)
    rules_by_anchor: dict[str, list[int]] = {}
    rules_by_second: dict[str, list[int]] = {}
    unanchored: list[tuple[frozenset[str], ...]] = []
    for index, compiled_rule in enumerate(compiled_rules):
        # terms are common words and names are rare: anchor on names when the rule has them
        weights = [
            sum(key_counts.get(target, 0) * (10 if target.startswith(TERMS_PREFIX) else 1) for target in group)
            for group in compiled_rule.groups
        ]
        anchors = sorted(range(len(weights)), key=weights.__getitem__)[:2]
        for by_target, anchor in zip((rules_by_anchor, rules_by_second), anchors, strict=False):
            for target in compiled_rule.groups[anchor]:
                by_target.setdefault(target, []).append(index)
        unanchored.append(
            tuple(group for position, group in enumerate(compiled_rule.groups) if position not in anchors)
        )
    # the validated content, not the text: comments and layout do not change the version
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.content.model_dump_json().encode())
    return (
        Compiled(
            exact_automaton=exact_automaton,
            fold_automaton=fold_automaton,
            entities={
                entity.id: EntityInfo(entity.id, entity.name, entity.kind) for entity, _ in entities.values()
            },
            rules=tuple(compiled_rules),
            rules_by_anchor={target: tuple(indexes) for target, indexes in rules_by_anchor.items()},
            rules_by_second={target: tuple(indexes) for target, indexes in rules_by_second.items()},
            single_group=frozenset(index for index, rule in enumerate(compiled_rules) if len(rule.groups) == 1),
            unanchored=tuple(unanchored),
            read_also=tuple(dict.fromkeys(read_also)),
            version=digest.hexdigest()[:12],
        ),
        [],
    )

"""Validated watchlists -> one Aho-Corasick automaton and compiled rules (`compiled.py`); cross-file checks.

Every alias and term of every file becomes keys of a single automaton over *folded* text. A key's
candidates say what a hit means and how to verify it: exact aliases compare the normalized text,
so folding widens only the aliases that opted into it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from monitor.engine.aliases import Located, check_alias, key_forms
from monitor.engine.automata import automata
from monitor.engine.compile_cues import CUES_PREFIX, break_marks, refer_back_automaton
from monitor.engine.compiled import COREF_PREFIX, Candidate, Compiled, CompiledCues, CompiledRule, EntityInfo
from monitor.engine.latin_words import with_latin_spellings
from monitor.engine.normalize import fold, lower
from monitor.engine.result import NOVELTIES, SEVERITIES, Novelty, Severity
from monitor.engine.segment import is_word_char
from monitor.engine.watchlist import AliasSpec, Entity, Extension, LoadedFile, Paradigm, Rule
from monitor.problems import Problem

TERMS_PREFIX = "terms:"


def _entity_aliases(entity: Entity, where: Located) -> Iterator[tuple[AliasSpec, Located]]:
    for language, aliases in entity.aliases.items():
        for index, alias in enumerate(aliases):
            yield alias, where.more("aliases", language, index)


def _collide(first: Candidate, second: Candidate) -> bool:
    """Two candidates under one folded key match the same text unless both are exact and differ."""
    return first.exact is None or second.exact is None or first.exact == second.exact


def _key_candidates(
    alias: AliasSpec, target: str, role: Literal["match", "exclude"], folds: bool, paradigms: dict[str, Paradigm]
) -> Iterator[tuple[str, Candidate]]:
    if alias.coref and role == "match":
        target = COREF_PREFIX + target
    for form in key_forms(alias, paradigms):
        lowered = lower(form)
        exact = None if folds else (form if alias.case else lowered)
        yield fold(lowered), Candidate(target, role, exact, alias.case)


def _target_masks(groups: Sequence[frozenset[str]], vetoes: frozenset[str]) -> dict[str, int]:
    masks: dict[str, int] = dict.fromkeys(vetoes, 1 << len(groups))
    for position, group in enumerate(groups):
        for target in group:
            masks[target] = masks.get(target, 0) | 1 << position
    return masks


@dataclass(frozen=True, slots=True)
class _Definitions:
    """What the files define, by name: the first definition of each, with where it is."""

    paradigms: dict[str, Paradigm]
    entities: dict[str, tuple[Entity, Located]]
    term_groups: dict[str, tuple[dict[str, list[AliasSpec]], Located]]
    rules: dict[str, tuple[Rule, Located]]
    read_also: tuple[str, ...]
    #: `extend:` entries of every file, in file order: (entity id, extension, where)
    extensions: list[tuple[str, Extension, Located]]
    #: names defined in parts of files that failed validation (reported there): not unknown
    broken: frozenset[str]
    #: clause cues by kind, from every file (files add to a kind)
    cues: dict[str, list[tuple[AliasSpec, Located]]]


def _is_first(kind: str, name: str, seen: dict[str, Any], where: Located, problems: list[Problem]) -> bool:
    """Whether `name` is not in `seen` yet; a duplicate is a problem (saying where the first is)."""
    if name not in seen:
        return True
    earlier = seen[name][1] if isinstance(seen[name], tuple) else None
    place = f" (first in {earlier.file.path}:{earlier.file.line_of(*earlier.keys)})" if earlier else ""
    problems.append(where.problem(f"duplicate {kind} {name!r}{place}"))
    return False


def _collect_definitions(files: Sequence[LoadedFile]) -> tuple[_Definitions, list[Problem]]:
    """Step 1: paradigms, entities, term groups and rules of all files; duplicates are problems."""
    problems: list[Problem] = []
    read_also = tuple(dict.fromkeys(marker for file in files for marker in file.content.read_also))
    broken = frozenset().union(*(file.broken for file in files))
    found = _Definitions({}, {}, {}, {}, read_also, [], broken, {})
    for file in files:
        content = file.content
        for kind, by_language in content.cues.items():
            found.cues.setdefault(kind, []).extend(
                (cue, Located(file, ("cues", kind, language, index)))
                for language, cues in by_language.items()
                for index, cue in enumerate(cues)
            )
        for name, paradigm in content.paradigms.items():
            if _is_first("paradigm", name, found.paradigms, Located(file, ("paradigms", name)), problems):
                found.paradigms[name] = paradigm
        for index, entity in enumerate(content.entities):
            id_where = Located(file, ("entities", index, "id"))
            if _is_first("entity id", entity.id, found.entities, id_where, problems):
                found.entities[entity.id] = (entity, Located(file, ("entities", index)))
        found.extensions.extend((name, more, Located(file, ("extend", name))) for name, more in content.extend.items())
        for name, by_language in content.terms.items():
            where = Located(file, ("terms", name))
            if _is_first("term group", name, found.term_groups, where, problems):
                found.term_groups[name] = (by_language, where)
        for index, rule in enumerate(content.rules):
            id_where = Located(file, ("rules", index, "id"))
            if _is_first("rule id", rule.id, found.rules, id_where, problems):
                found.rules[rule.id] = (rule, Located(file, ("rules", index)))
    return found, problems


class _AliasKeys:
    """Folded key -> candidates, for every alias, look-alike and term added; their problems."""

    def __init__(self, paradigms: dict[str, Paradigm]) -> None:
        self.paradigms = paradigms
        self.keys: dict[str, list[Candidate]] = {}
        self.problems: list[Problem] = []

    def add(
        self, alias: AliasSpec, where: Located, target: str, role: Literal["match", "exclude"], folds: bool
    ) -> None:
        """The alias's keys (none when its paradigm is unknown); an entity alias (`match` of an
        entity) that matches another entity's is a problem."""
        self.problems.extend(check_alias(alias, where, self.paradigms, short_ok=target.startswith(CUES_PREFIX)))
        if alias.forms is not None and alias.forms not in self.paradigms:
            return
        unique = role == "match" and not target.startswith((TERMS_PREFIX, CUES_PREFIX))
        for key, candidate in _key_candidates(alias, target, role, folds, self.paradigms):
            if unique and (other := _shared_with(self.keys.get(key, ()), candidate)) is not None:
                self.problems.append(where.problem(f"alias {alias.text!r} also belongs to entity {other!r}"))
            self.keys.setdefault(key, []).append(candidate)


def _shared_with(others: Sequence[Candidate], candidate: Candidate) -> str | None:
    """Another entity that an alias key of `candidate`'s entity matches too, if any."""
    mine = candidate.target.removeprefix(COREF_PREFIX)
    for other in others:
        theirs = other.target.removeprefix(COREF_PREFIX)
        if theirs != mine and other.role == "match" and _collide(other, candidate):
            return theirs
    return None


def _add_entity(entity: Entity, where: Located, keys: _AliasKeys) -> None:
    if not any(entity.aliases.values()):
        keys.problems.append(where.problem(f"entity {entity.id!r} has no aliases", "aliases"))
    for language, aliases in entity.aliases.items():
        if not aliases:
            keys.problems.append(where.problem("empty alias list", "aliases", language))
    for alias, alias_where in _entity_aliases(entity, where):
        keys.add(alias, alias_where, entity.id, "match", entity.fold if alias.fold is None else alias.fold)
    for index, alias in enumerate(entity.exclude):
        keys.add(alias, where.more("exclude", index), entity.id, "exclude", alias.fold or False)


def _add_extension(
    entity_id: str, more: Extension, where: Located, definitions: _Definitions, keys: _AliasKeys
) -> None:
    if entity_id not in definitions.entities:
        if entity_id in definitions.broken:
            return
        keys.problems.append(
            where.problem(f"unknown entity {entity_id!r}: `extend` adds to an entity defined elsewhere")
        )
        return
    entity = definitions.entities[entity_id][0]
    for language, aliases in more.aliases.items():
        for index, alias in enumerate(aliases):
            folds = entity.fold if alias.fold is None else alias.fold
            keys.add(alias, where.more("aliases", language, index), entity_id, "match", folds)
    for index, alias in enumerate(more.exclude):
        keys.add(alias, where.more("exclude", index), entity_id, "exclude", alias.fold or False)


def _add_term_group(name: str, by_language: dict[str, list[AliasSpec]], where: Located, keys: _AliasKeys) -> None:
    if not any(terms for language, terms in by_language.items() if language != "exclude"):
        keys.problems.append(where.problem(f"term group {name!r} has no terms"))
    for language, terms in by_language.items():
        role: Literal["match", "exclude"] = "exclude" if language == "exclude" else "match"
        for index, term in enumerate(terms):
            keys.add(term, where.more(language, index), TERMS_PREFIX + name, role, term.fold or False)


def _alias_keys(definitions: _Definitions) -> _AliasKeys:
    """Step 2: the keys of every alias, look-alike and term, and the problems of the aliases."""
    keys = _AliasKeys(definitions.paradigms)
    for entity, where in definitions.entities.values():
        _add_entity(entity, where, keys)
    for entity_id, more, where in definitions.extensions:
        _add_extension(entity_id, more, where, definitions, keys)
    for name, (by_language, where) in definitions.term_groups.items():
        _add_term_group(name, by_language, where, keys)
    return keys


def _rule_problems(rule: Rule, where: Located, definitions: _Definitions) -> list[Problem]:
    """Empty groups, unknown entities and term groups, a `near` scope without its number."""
    problems = []
    for section in ("all", "none"):
        for index, group in enumerate(getattr(rule, section)):
            if not group.entities and not group.terms:
                problems.append(where.problem("a group needs entities or terms", section, index))
            for position, entity_id in enumerate(group.entities):
                if entity_id not in definitions.entities and entity_id not in definitions.broken:
                    problems.append(
                        where.problem(f"unknown entity {entity_id!r}", section, index, "entities", position)
                    )
            for position, term_name in enumerate(group.terms):
                if term_name not in definitions.term_groups and term_name not in definitions.broken:
                    problems.append(
                        where.problem(f"unknown term group {term_name!r}", section, index, "terms", position)
                    )
    problems.extend(
        where.problem("`near` is for `none:` groups", "all", index, "near")
        for index, group in enumerate(rule.all)
        if group.near is not None
    )
    if rule.scope.unit == "near" and rule.scope.near is None:
        problems.append(where.problem("`near` needs a number of words", "scope"))
    return problems


def _severities(rule: Rule) -> tuple[Severity, tuple[tuple[Novelty, Severity], ...]]:
    """The rule's highest severity and its severity per novelty (one left out: the lowest listed)."""
    if isinstance(rule.severity, str):
        return rule.severity, tuple((novelty, rule.severity) for novelty in NOVELTIES)
    given = rule.severity
    lowest = min(given.values(), key=SEVERITIES.index)
    by_novelty = tuple((novelty, given.get(novelty, lowest)) for novelty in NOVELTIES)
    return max(given.values(), key=SEVERITIES.index), by_novelty


def _vetoes(rule: Rule) -> tuple[frozenset[str], tuple[tuple[frozenset[str], int], ...]]:
    """The targets of the `none:` groups that veto the whole scope, and those with `near` and their reach."""
    vetoes = frozenset(
        target
        for group in rule.none
        if group.near is None
        for target in (*group.entities, *(TERMS_PREFIX + name for name in group.terms))
    )
    near_vetoes = tuple(
        (frozenset(group.entities) | {TERMS_PREFIX + name for name in group.terms}, group.near)
        for group in rule.none
        if group.near is not None
    )
    return vetoes, near_vetoes


def _compile_rule(rule: Rule) -> CompiledRule:
    groups = [frozenset(group.entities) | {TERMS_PREFIX + name for name in group.terms} for group in rule.all]
    marked = [group for group, spec in zip(groups, rule.all, strict=True) if spec.trigger]
    severity, severities = _severities(rule)
    labels = [
        group.label or " | ".join([*group.entities, *(TERMS_PREFIX + t for t in group.terms)]) for group in rule.all
    ]
    vetoes, near_vetoes = _vetoes(rule)
    trigger = frozenset().union(*marked) if marked else groups[-1]
    sides = tuple(
        group
        for group, spec in zip(groups, rule.all, strict=True)
        if spec.entities and not spec.terms and group != trigger  # a side names parties, not roles
    )
    return CompiledRule(
        id=rule.id,
        title=rule.title,
        severity=severity,
        unit=rule.scope.unit,
        near_words=rule.scope.near or 0,
        groups=tuple(groups),
        group_labels=tuple(labels),
        vetoes=vetoes,
        min_mentions=rule.min_mentions,
        topic_suffix=rule.topic,
        targets=frozenset().union(*groups),
        target_masks=_target_masks(groups, vetoes),
        trigger=trigger,
        severities=severities,
        novelties=frozenset(rule.novelty or NOVELTIES),
        sides=sides,
        needs_act=rule.needs_act,
        near_vetoes=near_vetoes,
    )


def _compile_cues(definitions: _Definitions, keys: _AliasKeys) -> CompiledCues | None:
    """The cue lists as automata of their own (built like the terms'), and the punctuation breaks.

    `keys` is a fresh `_AliasKeys`: its problems (an unknown paradigm) are reported with the rest.
    """
    if not definitions.cues:
        return None
    marks: list[str] = []
    for kind, cues in definitions.cues.items():
        for cue, where in cues:
            if kind == "clause_break" and not is_word_char(cue.text.strip()[:1] or cue.text):
                marks.append(cue.text.strip() or cue.text)  # ";", or a comma with its word (", and")
            else:
                keys.add(cue, where, CUES_PREFIX + kind, "match", cue.fold or False)
    exact, folding, _ = automata(keys.keys, latin_text=False)  # as `match.find_window` reads cues
    return CompiledCues(exact, folding, break_marks(marks), refer_back_automaton(keys.keys))


def _compile_rules(definitions: _Definitions) -> tuple[list[CompiledRule], list[Problem]]:
    """Step 3: every rule compiled, and the problems of its references."""
    problems: list[Problem] = []
    compiled: list[CompiledRule] = []
    for rule, where in definitions.rules.values():
        problems.extend(_rule_problems(rule, where, definitions))
        compiled.append(_compile_rule(rule))
    return compiled, problems


def _choose_anchors(
    rules: Sequence[CompiledRule], key_counts: dict[str, int]
) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]], tuple[tuple[frozenset[str], ...], ...]]:
    """Step 4: each rule's two groups with the fewest keys (see `Compiled.rules_by_anchor`): rules by
    a target of their first and of their second anchor, and each rule's other groups."""
    by_anchor: dict[str, list[int]] = {}
    by_second: dict[str, list[int]] = {}
    unanchored: list[tuple[frozenset[str], ...]] = []
    for index, rule in enumerate(rules):
        # terms are common words and names are rare: anchor on names when the rule has them
        weights = [
            sum(key_counts.get(target, 0) * (10 if target.startswith(TERMS_PREFIX) else 1) for target in group)
            for group in rule.groups
        ]
        anchors = sorted(range(len(weights)), key=weights.__getitem__)[:2]
        for by_target, anchor in zip((by_anchor, by_second), anchors, strict=False):
            for target in rule.groups[anchor]:
                by_target.setdefault(target, []).append(index)
        unanchored.append(tuple(group for position, group in enumerate(rule.groups) if position not in anchors))
    return (
        {target: tuple(indexes) for target, indexes in by_anchor.items()},
        {target: tuple(indexes) for target, indexes in by_second.items()},
        tuple(unanchored),
    )


def _version(files: Sequence[LoadedFile]) -> str:
    """Step 5: a hash of the validated content, not the text: comments and layout do not change it."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.content.model_dump_json().encode())
    return digest.hexdigest()[:12]


def check_and_compile(files: Sequence[LoadedFile]) -> tuple[Compiled | None, list[Problem]]:
    """Cross-file validation (references, duplicates, shared and short aliases), then compilation."""
    definitions, problems = _collect_definitions(files)
    alias_keys = _alias_keys(definitions)
    rules, rule_problems = _compile_rules(definitions)
    cue_keys = _AliasKeys(definitions.paradigms)
    cues = _compile_cues(definitions, cue_keys)
    problems += alias_keys.problems + rule_problems + cue_keys.problems
    if any(problem.level == "error" for problem in problems):
        return None, problems
    keys, text_folds_latin = with_latin_spellings(alias_keys.keys)
    exact_automaton, fold_automaton, key_counts = automata(keys, latin_text=text_folds_latin)
    rules_by_anchor, rules_by_second, unanchored = _choose_anchors(rules, key_counts)
    entities = {
        entity.id: EntityInfo(entity.id, entity.name, entity.kind) for entity, _ in definitions.entities.values()
    }
    compiled = Compiled(
        exact_automaton=exact_automaton,
        fold_automaton=fold_automaton,
        entities=entities,
        rules=tuple(rules),
        rules_by_anchor=rules_by_anchor,
        rules_by_second=rules_by_second,
        single_group=frozenset(index for index, rule in enumerate(rules) if len(rule.groups) == 1),
        unanchored=unanchored,
        read_also=definitions.read_also,
        version=_version(files),
        coref_targets=frozenset(
            candidate.target
            for candidates in alias_keys.keys.values()
            for candidate in candidates
            if candidate.target.startswith(COREF_PREFIX)
        ),
        latin_fold=text_folds_latin,
        cues=cues,
    )
    return compiled, problems  # warnings only

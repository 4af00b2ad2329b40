"""Rule evaluation over scopes (sentence, paragraph, article, near N words), with evidence and reasons."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, reduce
from itertools import chain, repeat
from operator import or_

from monitor.engine.compiled import Compiled, CompiledRule
from monitor.engine.match import Hits
from monitor.engine.normalize import NormalizedText
from monitor.engine.result import Evidence, RuleHit, Severity, Span
from monitor.engine.segment import PARAGRAPH_END, SENTENCE_END, Range, bounds, trimmed_unit


@dataclass(frozen=True, slots=True)
class PassageCheck:
    """One passage a rule looked at: which of its groups were there, and what vetoed it."""

    start: int
    end: int
    text: str
    present: tuple[str, ...]
    missing: tuple[str, ...]
    vetoed_by: tuple[Span, ...]
    spans: tuple[Span, ...]

    @property
    def qualifies(self) -> bool:
        return not self.missing and not self.vetoed_by


@dataclass(frozen=True, slots=True)
class RuleExplanation:
    rule: str
    title: str
    severity: Severity
    fired: bool
    summary: str
    passages: tuple[PassageCheck, ...]


class _ArticleIndex:
    """One article's hits indexed for evaluation (by unit, by target, by word number) and mapped to
    the original text, computed lazily and shared by all rules evaluated on it.

    Each hit's unit (sentence, paragraph, article) is found once per unit kind, in one C-level map
    of bisects; a rule's qualifying units are then set intersections over the hits of its targets,
    and objects (passages, spans) are built only for the units that qualify. Hits are passed around
    as indexes into the parallel lists of `Hits`, never as objects.
    """

    def __init__(self, normalized: NormalizedText, hits: Hits) -> None:
        self.normalized = normalized
        self.hits = hits
        self._unit_of_hit: dict[str, list[int]] = {}
        self._original: dict[int, tuple[int, int]] = {}
        self._spans: dict[tuple[int, str], Span] = {}
        self._ranges: dict[Range, tuple[int, int, str]] = {}

    def bounds(self, unit: str) -> list[int]:
        if unit == "sentence":
            return self.sentence_bounds
        if unit == "paragraph":
            return self.paragraph_bounds
        return [len(self.normalized.text)]

    @cached_property
    def sentence_bounds(self) -> list[int]:
        return bounds(self.normalized.text, SENTENCE_END)

    @cached_property
    def paragraph_bounds(self) -> list[int]:
        return bounds(self.normalized.text, PARAGRAPH_END)

    def units_with(self, unit: str, targets: frozenset[str]) -> set[int]:
        """Indexes of the units (of this kind) holding a hit of any of `targets`."""
        unit_of_hit = self._unit_of_hit.get(unit)
        if unit_of_hit is None:
            unit_bounds = self.bounds(unit)
            unit_of_hit = list(map(bisect_right, repeat(unit_bounds), self.hits.starts))
            self._unit_of_hit[unit] = unit_of_hit
        by_target = self._hits_by_target
        found: set[int] = set()
        for target in targets if len(targets) <= len(by_target) else by_target.keys() & targets:
            indexes = by_target.get(target)
            if indexes is not None:
                found.update(map(unit_of_hit.__getitem__, indexes))
        return found

    @cached_property
    def _hits_by_target(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for index, targets in enumerate(self.hits.targets):
            for target in targets:
                indexes = found.get(target)
                if indexes is None:
                    found[target] = [index]
                else:
                    indexes.append(index)
        return found

    def relevant(self, targets: frozenset[str]) -> list[int]:
        """Sorted indexes of the hits with any of `targets` (cost: those hits, not all of them)."""
        by_target = self._hits_by_target
        lists = [by_target[target] for target in (by_target.keys() & targets)]
        if len(lists) == 1:
            return lists[0]
        return sorted(set(chain.from_iterable(lists)))

    def unit_hits(self, unit: str, index: int, relevant: list[int]) -> tuple[Range | None, list[int]]:
        """A unit's trimmed range and its hits among `relevant` (sorted hit indexes)."""
        unit_bounds = self.bounds(unit)
        low = unit_bounds[index - 1] if index else 0
        high = unit_bounds[index]
        starts = self.hits.starts
        first, last = bisect_left(starts, low), bisect_left(starts, high)
        chosen = relevant[bisect_left(relevant, first) : bisect_left(relevant, last)]
        return trimmed_unit(self.normalized.text, unit_bounds, index), chosen

    @cached_property
    def word_numbers(self) -> list[int]:
        """For each hit, how many words start before it: words are runs between separators."""
        scan = self.hits.scan
        numbers = []
        count = 0
        previous = 0
        for start in self.hits.starts:
            count += len(scan[previous:start].split())
            numbers.append(count)
            previous = start
        return numbers

    def span(self, index: int, source: str) -> Span:
        """Hit `index` in the original text; mapped once per article, however many rules show it."""
        key = (index, source)
        span = self._spans.get(key)
        if span is None:
            original = self._original.get(index)
            if original is None:
                to_original = self.normalized.to_original
                original = to_original.start(self.hits.starts[index]), to_original.end(self.hits.ends[index])
                self._original[index] = original
            start, end = original
            span = self._spans[key] = Span(start, end, self.normalized.original[start:end], source)
        return span

    def original(self, start: int, end: int) -> tuple[int, int, str]:
        """A passage in the original text; mapped once per article (many rules fire on one sentence)."""
        found = self._ranges.get((start, end))
        if found is None:
            to_original = self.normalized.to_original
            original_start, original_end = to_original.start(start), to_original.end(end)
            found = original_start, original_end, self.normalized.original[original_start:original_end]
            self._ranges[start, end] = found
        return found

    def passage(self, rule: CompiledRule, start: int, end: int, hits: Sequence[int], explain: bool) -> PassageCheck:
        """Without `explain` the passage is known to qualify: only its range and spans are built."""
        relevant = rule.targets
        present: tuple[str, ...] = ()
        missing: tuple[str, ...] = ()
        all_targets = self.hits.targets
        spans = []
        vetoes = []
        if explain:
            seen = {target for index in hits for target in all_targets[index]}
            labelled = list(zip(rule.groups, rule.group_labels, strict=True))
            present = tuple(label for group, label in labelled if group & seen)
            missing = tuple(label for group, label in labelled if not group & seen)
            vetoing = rule.vetoes
            for index in hits:
                for target in all_targets[index]:
                    if target in relevant:
                        spans.append(self.span(index, target))
                        break
                for target in all_targets[index]:
                    if target in vetoing:
                        vetoes.append(self.span(index, target))
                        break
        else:
            for index in hits:
                for target in all_targets[index]:
                    if target in relevant:
                        spans.append(self.span(index, target))
                        break
        return PassageCheck(
            *self.original(start, end),
            present,
            missing,
            tuple(vetoes),
            tuple(spans),
        )


def _unit_passages(article: _ArticleIndex, rule: CompiledRule, explain: bool) -> list[PassageCheck]:
    """Passages (units with any of the rule's words); without `explain`, only the qualifying ones."""
    unit = rule.unit
    if explain:
        chosen = article.units_with(unit, rule.targets | rule.vetoes)
    else:
        chosen = article.units_with(unit, rule.groups[0])
        for group in rule.groups[1:]:
            if not chosen:
                break
            chosen &= article.units_with(unit, group)
        if chosen and rule.vetoes:
            chosen -= article.units_with(unit, rule.vetoes)
    passages = []
    relevant = article.relevant(rule.targets | rule.vetoes) if chosen else []
    for index in sorted(chosen):
        unit_range, hits = article.unit_hits(unit, index, relevant)
        if unit_range is not None:
            passages.append(article.passage(rule, *unit_range, hits, explain))
    return passages


def _near_passages(article: _ArticleIndex, rule: CompiledRule, explain: bool) -> list[PassageCheck]:
    """Windows of at most `near` words, each starting at a hit of one of the rule's groups.

    Each hit is a bit mask of the groups it satisfies (and a veto bit), so a window qualifies when
    the OR of its masks is all groups and no veto; the window's end only moves forward.
    """
    indexes = article.relevant(rule.targets | rule.vetoes)
    all_targets = article.hits.targets
    target_masks = rule.target_masks
    masks = []
    for index in indexes:
        mask = 0
        for target in all_targets[index]:
            mask |= target_masks.get(target, 0)
        masks.append(mask)
    word_numbers = article.word_numbers
    numbers = [word_numbers[index] for index in indexes]
    full = (1 << len(rule.groups)) - 1
    passages = []
    covered_until = -1
    last = 0
    ends = article.hits.ends
    starts = article.hits.starts
    for first, index in enumerate(indexes):
        last = max(last, first)
        while last + 1 < len(indexes) and numbers[last + 1] - numbers[first] <= rule.near_words:
            last += 1
        if starts[index] < covered_until or not masks[first] & full:
            continue
        seen = reduce(or_, masks[first : last + 1])
        if seen == full:
            covered_until = ends[indexes[last]]
        elif not explain:
            continue
        window = indexes[first : last + 1]
        passages.append(article.passage(rule, starts[index], ends[indexes[last]], window, explain))
    return passages


def _evidence(article: _ArticleIndex, rule: CompiledRule, passage: PassageCheck) -> tuple[Evidence, ...]:
    """A passage as evidence; for article scope, the sentences holding the matched words."""
    if rule.unit != "article":
        return (Evidence(passage.start, passage.end, passage.text, passage.spans),)
    # the passage's spans are its hits with a target of the rule, in order
    sentence_bounds = article.sentence_bounds
    by_sentence: dict[int, list[Span]] = {}
    starts = article.hits.starts
    for index, span in zip(article.relevant(rule.targets), passage.spans, strict=True):
        start = starts[index]
        by_sentence.setdefault(bisect_right(sentence_bounds, start), []).append(span)
    evidence = []
    for index, spans in by_sentence.items():
        sentence = trimmed_unit(article.normalized.text, sentence_bounds, index)
        if sentence is not None:
            evidence.append(Evidence(*article.original(*sentence), tuple(spans)))
    return tuple(evidence)


def _mentions(rule: CompiledRule, qualifying: list[PassageCheck]) -> int:
    if rule.unit == "article":
        return sum(len(passage.spans) for passage in qualifying)
    return len(qualifying)


def evaluate(
    compiled: Compiled,
    normalized: NormalizedText,
    hits: Hits,
    explain: bool,
) -> tuple[tuple[RuleHit, ...], tuple[RuleExplanation, ...]]:
    """Rules whose every `all` group was seen somewhere are checked passage by passage.

    Each rule is looked at only when targets of its two anchor groups (those with the fewest keys) were
    seen, so the cost follows the rules an article can fire, not the size of the watchlist.
    """
    seen = set(chain.from_iterable(hits.targets))
    by_anchor, by_second, unanchored = compiled.rules_by_anchor, compiled.rules_by_second, compiled.unanchored
    candidates = set(chain.from_iterable(by_anchor[target] for target in by_anchor.keys() & seen))
    if candidates:
        seconds = set(chain.from_iterable(by_second[target] for target in by_second.keys() & seen))
        candidates = (candidates & seconds) | (candidates & compiled.single_group)
    complete_rules = {index for index in candidates if not any(map(seen.isdisjoint, unanchored[index]))}
    article = _ArticleIndex(normalized, hits)
    fired: list[RuleHit] = []
    explanations: list[RuleExplanation] = []
    for index in range(len(compiled.rules)) if explain else sorted(complete_rules):
        rule = compiled.rules[index]
        complete = index in complete_rules
        passages: list[PassageCheck] = []
        if complete:
            find_passages = _near_passages if rule.unit == "near" else _unit_passages
            passages = find_passages(article, rule, explain)
        qualifying = [passage for passage in passages if passage.qualifies]
        mentions = _mentions(rule, qualifying)
        does_fire = bool(qualifying) and mentions >= rule.min_mentions
        if does_fire:
            evidence = tuple(item for passage in qualifying for item in _evidence(article, rule, passage))
            fired.append(RuleHit(rule.id, rule.title, rule.severity, rule.topic_suffix, evidence))
        if explain:
            explanations.append(
                RuleExplanation(
                    rule.id,
                    rule.title,
                    rule.severity,
                    does_fire,
                    _summary(rule, complete, _groups_seen(rule, seen), passages, mentions, does_fire),
                    tuple(passages),
                )
            )
    return tuple(fired), tuple(explanations)


def _groups_seen(rule: CompiledRule, seen: set[str]) -> set[int]:
    return {position for position, group in enumerate(rule.groups) if group & seen}


def _summary(
    rule: CompiledRule,
    complete: bool,
    groups_seen: set[int],
    passages: list[PassageCheck],
    mentions: int,
    fired: bool,
) -> str:
    scope = f"near {rule.near_words} words" if rule.unit == "near" else f"one {rule.unit}"
    if not complete:
        missing = [label for position, label in enumerate(rule.group_labels) if position not in groups_seen]
        return "never found anywhere in the article: " + "; ".join(missing)
    qualifying = sum(passage.qualifies for passage in passages)
    vetoed = sum(not passage.missing and bool(passage.vetoed_by) for passage in passages)
    if fired:
        return f"fired: {qualifying} passage(s) with every group in {scope}"
    if qualifying:
        return f"only {mentions} mention(s), needs {rule.min_mentions}"
    if vetoed:
        return f"every group met in {scope} {vetoed} time(s), but vetoed each time"
    return f"its groups never come together in {scope}"

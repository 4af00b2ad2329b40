"""Rule evaluation over scopes (sentence, paragraph, article, near N words), with evidence and reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from monitor.engine.compile import Compiled, CompiledRule
from monitor.engine.match import Hit
from monitor.engine.normalize import NormalizedText
from monitor.engine.result import Evidence, RuleHit, Severity, Span
from monitor.engine.segment import Range, paragraphs, sentences, unit_of, word_numbers


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


class _Article:
    """Lazily computed views of one article, shared by all rules evaluated on it."""

    def __init__(self, normalized: NormalizedText, hits: list[Hit], dropped: list[Range]) -> None:
        self.normalized = normalized
        self.hits = hits
        self.dropped = dropped

    @cached_property
    def sentences(self) -> list[Range]:
        return sentences(self.normalized.text, self.dropped)

    @cached_property
    def paragraphs(self) -> list[Range]:
        return paragraphs(self.normalized.text)

    def word_numbers(self, hits: Sequence[Hit]) -> list[int]:
        return word_numbers(self.normalized.lowered, [hit.start for hit in hits])

    def units(self, unit: str) -> list[Range]:
        if unit == "sentence":
            return self.sentences
        if unit == "paragraph":
            return self.paragraphs
        return [(0, len(self.normalized.text))]

    def span(self, hit: Hit, source: str) -> Span:
        start = self.normalized.to_original.start(hit.start)
        end = self.normalized.to_original.end(hit.end)
        return Span(start, end, self.normalized.original[start:end], source)

    def passage(self, rule: CompiledRule, start: int, end: int, hits: Sequence[Hit]) -> PassageCheck:
        relevant = rule.targets
        seen = {target for hit in hits for target in hit.targets}
        present = tuple(label for group, label in zip(rule.groups, rule.group_labels, strict=True) if group & seen)
        missing = tuple(
            label for group, label in zip(rule.groups, rule.group_labels, strict=True) if not group & seen
        )
        spans = []
        vetoes = []
        for hit in hits:
            source = next((target for target in hit.targets if target in relevant), None)
            if source is not None:
                spans.append(self.span(hit, source))
            veto = next((target for target in hit.targets if target in rule.vetoes), None)
            if veto is not None:
                vetoes.append(self.span(hit, veto))
        original_start = self.normalized.to_original.start(start)
        original_end = self.normalized.to_original.end(end)
        return PassageCheck(
            original_start,
            original_end,
            self.normalized.original[original_start:original_end],
            present,
            missing,
            tuple(vetoes),
            tuple(spans),
        )


def _qualifies(rule: CompiledRule, hits: Sequence[Hit]) -> bool:
    seen = {target for hit in hits for target in hit.targets}
    return all(group & seen for group in rule.groups) and not rule.vetoes & seen


def _unit_passages(article: _Article, rule: CompiledRule, explain: bool) -> list[PassageCheck]:
    """Passages (units with any of the rule's words); without `explain`, only the qualifying ones."""
    units = article.units(rule.unit)
    starts = [start for start, _ in units]
    by_unit: dict[int, list[Hit]] = {}
    interesting = rule.targets | rule.vetoes
    for hit in article.hits:
        if interesting.intersection(hit.targets):
            index = unit_of(units, starts, hit.start)
            if index is not None:
                by_unit.setdefault(index, []).append(hit)
    return [
        article.passage(rule, *units[index], hits)
        for index, hits in sorted(by_unit.items())
        if explain or _qualifies(rule, hits)
    ]


def _near_passages(article: _Article, rule: CompiledRule, explain: bool) -> list[PassageCheck]:
    """Windows of at most `near` words, each starting at a hit of one of the rule's groups."""
    interesting = rule.targets | rule.vetoes
    hits = [hit for hit in article.hits if interesting.intersection(hit.targets)]
    numbers = article.word_numbers(hits)
    passages = []
    covered_until = -1
    for first, hit in enumerate(hits):
        if hit.start < covered_until or not rule.targets.intersection(hit.targets):
            continue
        last = first
        while last + 1 < len(hits) and numbers[last + 1] - numbers[first] <= rule.near_words:
            last += 1
        window = hits[first : last + 1]
        if _qualifies(rule, window):
            covered_until = hits[last].end
        elif not explain:
            continue
        passages.append(article.passage(rule, hit.start, hits[last].end, window))
    return passages


def _evidence(article: _Article, rule: CompiledRule, passage: PassageCheck) -> tuple[Evidence, ...]:
    """A passage as evidence; for article scope, the sentences holding the matched words."""
    if rule.unit != "article":
        return (Evidence(passage.start, passage.end, passage.text, passage.spans),)
    to_original = article.normalized.to_original
    evidence = []
    for start, end in article.sentences:
        original_start, original_end = to_original.start(start), to_original.end(end)
        spans = tuple(span for span in passage.spans if original_start <= span.start < original_end)
        if spans:
            text = article.normalized.original[original_start:original_end]
            evidence.append(Evidence(original_start, original_end, text, spans))
    return tuple(evidence)


def _mentions(rule: CompiledRule, qualifying: list[PassageCheck]) -> int:
    if rule.unit == "article":
        return sum(len(passage.spans) for passage in qualifying)
    return len(qualifying)


def evaluate(
    compiled: Compiled,
    normalized: NormalizedText,
    hits: list[Hit],
    dropped: list[Range],
    explain: bool,
) -> tuple[tuple[RuleHit, ...], tuple[RuleExplanation, ...]]:
    """Rules whose every `all` group was seen somewhere are checked passage by passage."""
    seen = {target for hit in hits for target in hit.targets}
    groups_seen: dict[int, set[int]] = {}
    for target in seen:
        for index in compiled.rules_by_target.get(target, ()):
            rule = compiled.rules[index]
            groups_seen.setdefault(index, set()).update(
                position for position, group in enumerate(rule.groups) if target in group
            )
    article = _Article(normalized, hits, dropped)
    fired: list[RuleHit] = []
    explanations: list[RuleExplanation] = []
    for index, rule in enumerate(compiled.rules):
        complete = len(groups_seen.get(index, ())) == len(rule.groups)
        if not complete and not explain:
            continue
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
                    _summary(rule, complete, groups_seen.get(index, set()), passages, mentions, does_fire),
                    tuple(passages),
                )
            )
    return tuple(fired), tuple(explanations)


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

"""Rule evaluation over scopes (sentence, paragraph, article, near N words), with evidence and reasons."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from functools import reduce
from itertools import chain
from operator import or_

from monitor.engine.assertion import ClauseReader
from monitor.engine.assess import refer_back_passages
from monitor.engine.compiled import Compiled, CompiledRule
from monitor.engine.match import Hits
from monitor.engine.normalize import NormalizedText
from monitor.engine.passages import ArticleIndex, PassageCheck
from monitor.engine.result import Evidence, Novelty, RuleHit, Severity, Span, best_novelty
from monitor.engine.segment import trimmed_unit


@dataclass(frozen=True, slots=True)
class RuleExplanation:
    rule: str
    title: str
    severity: Severity
    fired: bool
    summary: str
    passages: tuple[PassageCheck, ...]
    #: the firing's novelty (None: did not fire); `severity` is then the severity for it
    novelty: Novelty | None = None


def _qualifying_units(article: ArticleIndex, rule: CompiledRule) -> set[int]:
    chosen = set(article.units_with(rule.unit, rule.groups[0]))
    for group in rule.groups[1:]:
        if not chosen:
            break
        chosen &= article.units_with(rule.unit, group)
    if chosen and rule.vetoes:
        chosen -= article.units_with(rule.unit, rule.vetoes)
    return chosen


def _unit_passages(
    article: ArticleIndex, rule: CompiledRule, explain: bool, reader: ClauseReader | None
) -> list[PassageCheck | None]:
    """Passages (units with any of the rule's words); without `explain`, only the qualifying ones.
    With clause cues, sentences that refer back (`assess.refer_back_passages`) too."""
    unit = rule.unit
    qualifying = _qualifying_units(article, rule)
    chosen = article.units_with(unit, rule.targets | rule.vetoes) if explain else qualifying
    passages: list[PassageCheck | None] = []
    relevant = article.relevant(rule.targets | rule.vetoes) if chosen else []
    settles = _settles(rule, explain)
    for index in sorted(chosen):
        unit_range, hits = article.unit_hits(unit, index, relevant)
        if unit_range is not None:
            passages.append(article.passage(rule, *unit_range, hits, explain))
            if settles and _last_new(passages) and _settled(rule, passages):
                break
    if reader is not None and unit == "sentence" and (explain or not _already_new(rule, passages)):
        passages.extend(refer_back_passages(article, rule, qualifying, reader, explain))
    return passages


#: once a firing is `new`, its evidence holds at most this many `new` passages (or its `min_mentions`);
#: each more costs about 40 µs an article on the bench corpus (its clause read, its spans mapped)
NEW_EVIDENCE = 1


def _settles(rule: CompiledRule, explain: bool) -> bool:
    """Whether the rule's passages are read only until its firing is settled (`_settled`); `--explain`
    reads them all."""
    return not explain and "new" in rule.novelties


def _settled(rule: CompiledRule, passages: list[PassageCheck | None]) -> bool:
    """Whether the rule fires `new` on `NEW_EVIDENCE` passages (and its mentions): later passages cannot
    change the firing (the best novelty wins) and mostly restate the act, so they are not read."""
    new = sum(passage is not None and passage.novelty == "new" for passage in passages)
    return new >= max(rule.min_mentions, NEW_EVIDENCE)


def _last_new(passages: list[PassageCheck | None]) -> bool:
    return passages[-1] is not None and passages[-1].novelty == "new"


def _already_new(rule: CompiledRule, passages: list[PassageCheck | None]) -> bool:
    """Whether the rule fires as `new` on its own sentences: refer-back passages could add evidence
    but not change the firing, so they are not looked for (the common case of a firing article)."""
    new = sum(passage is not None and passage.novelty == "new" for passage in passages)
    return "new" in rule.novelties and new >= rule.min_mentions and new > 0


def _near_passages(
    article: ArticleIndex, rule: CompiledRule, explain: bool, reader: ClauseReader | None
) -> list[PassageCheck | None]:
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
    passages: list[PassageCheck | None] = []
    settles = _settles(rule, explain)
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
        if settles and _last_new(passages) and _settled(rule, passages):
            break
    return passages


def _evidence(article: ArticleIndex, rule: CompiledRule, passage: PassageCheck) -> tuple[Evidence, ...]:
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
    published: dt.date | None = None,
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
    article = ArticleIndex(normalized, hits)
    cues = compiled.cues
    reader = None
    if cues is not None and (complete_rules or explain):  # nothing to read: no sentence bounds either
        reader = ClauseReader(cues, normalized, article.sentence_bounds, published, hits.scan)
    article.reader = reader
    fired: list[RuleHit] = []
    explanations: list[RuleExplanation] = []
    for index in range(len(compiled.rules)) if explain else sorted(complete_rules):
        rule = compiled.rules[index]
        complete = index in complete_rules
        passages = _passages(article, rule, explain, reader) if complete else []
        qualifying = [passage for passage in passages if passage.qualifies and passage.novelty in rule.novelties]
        mentions = _mentions(rule, qualifying)
        hit = _firing(article, rule, qualifying) if qualifying and mentions >= rule.min_mentions else None
        if hit is not None:
            fired.append(hit)
        if explain:
            summary = _summary(rule, complete, _groups_seen(rule, seen), passages, mentions, hit is not None)
            explanations.append(_explanation(rule, hit, summary, passages))
    return tuple(fired), tuple(explanations)


def _passages(
    article: ArticleIndex, rule: CompiledRule, explain: bool, reader: ClauseReader | None
) -> list[PassageCheck]:
    """The rule's passages, read in their trigger's clause when there are cues (`ArticleIndex.passage`)."""
    find_passages = _near_passages if rule.unit == "near" else _unit_passages
    found = find_passages(article, rule, explain, reader)
    passages = [passage for passage in found if passage is not None]  # None: vetoed in its clause
    if reader is None or rule.unit != "sentence":
        return passages
    return sorted(passages, key=_start)  # refer-back passages come last


def _explanation(
    rule: CompiledRule, hit: RuleHit | None, summary: str, passages: list[PassageCheck]
) -> RuleExplanation:
    if hit is None:
        return RuleExplanation(rule.id, rule.title, rule.severity, False, summary, tuple(passages))
    return RuleExplanation(rule.id, rule.title, hit.severity, True, summary, tuple(passages), hit.novelty)


def _firing(article: ArticleIndex, rule: CompiledRule, qualifying: list[PassageCheck]) -> RuleHit:
    """The rule's firing: its best novelty over the passages, that novelty's severity, all the evidence."""
    novelty = best_novelty([passage.novelty for passage in qualifying])
    evidence = tuple(item for passage in qualifying for item in _evidence(article, rule, passage))
    return RuleHit(rule.id, rule.title, rule.severity_of(novelty), rule.topic_suffix, evidence, novelty)


def _start(passage: PassageCheck) -> int:
    return passage.start


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
    allowed = sum(passage.qualifies and passage.novelty in rule.novelties for passage in passages)
    if qualifying and not allowed:
        found = sorted({passage.novelty for passage in passages if passage.qualifies})
        return f"only {', '.join(found)} passage(s); fires on {', '.join(sorted(rule.novelties))}"
    if qualifying:
        return f"only {mentions} mention(s), needs {rule.min_mentions}"
    if vetoed:
        return f"every group met in {scope} {vetoed} time(s), but vetoed each time"
    return f"its groups never come together in {scope}"

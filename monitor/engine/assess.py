"""Refer-back passages: a trigger sentence that takes the sides it lacks from the sentence before."""

from __future__ import annotations

from monitor.engine.assertion import DENYING, ClauseReader
from monitor.engine.compiled import CompiledRule
from monitor.engine.passages import ArticleIndex, PassageCheck


def refer_back_passages(
    article: ArticleIndex, rule: CompiledRule, chosen: set[int], reader: ClauseReader, explain: bool
) -> list[PassageCheck | None]:
    """Sentence passages made of a sentence with the trigger and a refer-back cue ("The pact …",
    "दोनों देशों ने …") and the sentence before it, which holds the groups it lacks. News writes
    one-sentence paragraphs, so the sentence before may open the paragraph before. Only the second
    sentence's trigger hits count (the first one qualifies on its own or not)."""
    unit = "sentence"
    candidates = article.units_with(unit, rule.trigger) - chosen
    if not candidates:
        return []
    per_group = [article.units_with(unit, group) for group in rule.groups]
    vetoed = article.units_with(unit, rule.vetoes) if rule.vetoes else set()
    relevant: list[int] | None = None
    passages = []
    for index in sorted(candidates):
        if index in vetoed:
            continue
        prior = reader.sentence_before(index)
        if prior < 0 or prior in vetoed or not _groups_in(per_group, index, prior):
            continue
        before, current = reader.sentence(prior), reader.sentence(index)
        if before is None or current is None:
            continue
        if relevant is None:
            relevant = article.relevant(rule.targets | rule.vetoes)
        triggers = _trigger_starts(article, rule, article.hits_between(current[0], current[1], relevant))
        if not reader.refers_back(index, triggers):
            continue
        hits = article.hits_between(before[0], current[1], relevant)
        if _denied_before(article, rule, reader, hits, current[0]):
            continue
        parties = _parties(article, rule, reader, hits, current[0])
        if parties is not None:
            passages.append(article.passage(rule, before[0], current[1], parties, explain, trigger_from=current[0]))
    return passages


def _groups_in(per_group: list[set[int]], index: int, prior: int) -> bool:
    """Whether each group (its sentences) is in sentence `index` or in `prior` (a loop: `all` over a
    generator cost twice as much, a few times a rule)."""
    for units in per_group:  # noqa: SIM110 (the loop is the point)
        if index not in units and prior not in units:
            return False
    return True


def _trigger_starts(article: ArticleIndex, rule: CompiledRule, hits: list[int]) -> list[int]:
    """Where the trigger words among `hits` start."""
    starts, targets = article.hits.starts, article.hits.targets
    return [starts[index] for index in hits if not rule.trigger.isdisjoint(targets[index])]


def _denied_before(
    article: ArticleIndex, rule: CompiledRule, reader: ClauseReader, hits: list[int], current: int
) -> bool:
    """Whether the sentence before names the act only to deny it (each of its trigger words vetoed
    by a negation or falsehood) and this sentence dates its own act by no cue: its "the pact" is
    then the denied one ("Russia has never had any deal with North Korea. A newspaper had reported
    that the two countries signed the pact."). With a time cue of its own it reports an act of its
    own ("… The two countries signed a fisheries deal on Friday.")."""
    starts, ends, targets = article.hits.starts, article.hits.ends, article.hits.targets
    triggers = [index for index in hits if not rule.trigger.isdisjoint(targets[index])]
    before = [reader.verdict(starts[index], ends[index]) for index in triggers if starts[index] < current]
    if not before or not all(any(cue.kind in DENYING for cue in verdict.vetoes) for verdict in before):
        return False
    after = [reader.verdict(starts[index], ends[index]) for index in triggers if starts[index] >= current]
    return all(verdict.cue is None for verdict in after)


def _parties(
    article: ArticleIndex, rule: CompiledRule, reader: ClauseReader, hits: list[int], current: int
) -> list[int] | None:
    """The hits without the sides the sentence before names where they are not parties to its own
    trigger (`sides.py`: "… an agreement with Belarus, Russia's closest ally. The agreement …"), or
    None when a group is then missing."""
    if not rule.sides:
        return hits
    starts, ends, targets = article.hits.starts, article.hits.ends, article.hits.targets
    cuts = []
    for index in hits:
        if starts[index] < current and not rule.trigger.isdisjoint(targets[index]):
            found = reader.side_cut(starts[index], ends[index])
            if found is None:
                return hits  # a trigger there whose sides all count
            cuts.append(found[0])
    if not cuts:
        return hits
    cut = max(cuts)
    sides = frozenset().union(*rule.sides)
    kept = [
        index for index in hits if starts[index] >= current or starts[index] < cut or sides.isdisjoint(targets[index])
    ]
    seen = {target for index in kept for target in targets[index]}
    return kept if all(not group.isdisjoint(seen) for group in rule.groups) else None

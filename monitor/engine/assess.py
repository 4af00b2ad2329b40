"""Clause analysis applied to a rule's passages: vetoes and novelty per passage, and refer-back passages.

The glue between the passages a rule found (`passages.py`) and what their trigger asserts
(`assertion.py`): called only for passages that qualify on their groups, so its cost is the rare firing.
"""

from __future__ import annotations

from dataclasses import replace

from monitor.engine.assertion import CUES_PREFIX, ClauseReader, best_novelty
from monitor.engine.compiled import CompiledRule
from monitor.engine.passages import ArticleIndex, PassageCheck
from monitor.engine.segment import trimmed_unit


def assessed(article: ArticleIndex, rule: CompiledRule, passage: PassageCheck, reader: ClauseReader) -> PassageCheck:
    """The passage with its novelty (the best of its trigger hits'), or vetoed by the cues that veto
    every trigger hit in it; a passage that does not qualify on its groups is returned as it is."""
    if not passage.qualifies:
        return passage
    starts, ends, targets = article.hits.starts, article.hits.ends, article.hits.targets
    trigger = rule.trigger
    verdicts = [
        reader.verdict(starts[index], ends[index])
        for index in passage.hits
        if starts[index] >= passage.trigger_from and not trigger.isdisjoint(targets[index])
    ]
    novelties = [verdict.novelty for verdict in verdicts if verdict.novelty is not None]
    if novelties or not verdicts:
        return replace(passage, novelty=best_novelty(novelties)) if novelties else passage
    cues = dict.fromkeys(cue for verdict in verdicts for cue in verdict.vetoes)
    vetoes = tuple(article.original_span(cue.start, cue.end, CUES_PREFIX + cue.kind) for cue in cues)
    return replace(passage, vetoed_by=vetoes)


def refer_back_passages(
    article: ArticleIndex, rule: CompiledRule, chosen: set[int], reader: ClauseReader, explain: bool
) -> list[PassageCheck]:
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
    text, sentence_bounds = article.normalized.text, article.sentence_bounds
    relevant: list[int] | None = None
    passages = []
    for index in sorted(candidates):
        prior = index - 1
        while prior >= 0 and trimmed_unit(text, sentence_bounds, prior) is None:  # blank lines
            prior -= 1
        if prior < 0 or index in vetoed or prior in vetoed:
            continue
        if not all(index in units or prior in units for units in per_group):
            continue
        before, current = trimmed_unit(text, sentence_bounds, prior), trimmed_unit(text, sentence_bounds, index)
        if before is None or current is None or not reader.refers_back(index):
            continue
        if relevant is None:
            relevant = article.relevant(rule.targets | rule.vetoes)
        hits = article.hits_between(before[0], current[1], relevant)
        passages.append(article.passage(rule, before[0], current[1], hits, explain, trigger_from=current[0]))
    return passages

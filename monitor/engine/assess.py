"""Refer-back passages: a trigger sentence that takes the sides it lacks from the sentence before."""

from __future__ import annotations

from monitor.engine.assertion import ClauseReader
from monitor.engine.compiled import CompiledRule
from monitor.engine.passages import ArticleIndex, PassageCheck
from monitor.engine.segment import trimmed_unit


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

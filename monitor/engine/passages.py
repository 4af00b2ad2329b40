"""An article's hits indexed for rule evaluation, and the passages (units, windows) rules look at."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, repeat

from monitor.engine.assertion import ClauseReader
from monitor.engine.compile_cues import CUES_PREFIX
from monitor.engine.compiled import CompiledRule
from monitor.engine.match import Hits
from monitor.engine.normalize import NormalizedText
from monitor.engine.novelty import Verdict
from monitor.engine.result import Novelty, Span, best_novelty, new_span
from monitor.engine.segment import PARAGRAPH_END, SENTENCE_END, Range, bounds, trimmed_unit
from monitor.engine.sides import Cue


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
    #: what the trigger asserts (set by clause analysis; `new` without cues)
    novelty: Novelty = "new"

    @property
    def qualifies(self) -> bool:
        return not self.missing and not self.vetoed_by


class ArticleIndex:
    """One article's hits indexed for evaluation (by unit, by target, by word number) and mapped to
    the original text, computed lazily and shared by all rules evaluated on it.

    Each hit's unit (sentence, paragraph, article) is found once per unit kind, in one C-level map
    of bisects; a rule's qualifying units are then set intersections over the hits of its targets,
    and objects (passages, spans) are built only for the units that qualify. Hits are passed around
    as indexes into the parallel lists of `Hits`, never as objects.
    """

    def __init__(self, normalized: NormalizedText, hits: Hits, reader: ClauseReader | None = None) -> None:
        self.normalized = normalized
        self.hits = hits
        #: the clause cues' reader: passages that qualify on their groups are read in their trigger's clause
        self.reader = reader
        self._unit_of_hit: dict[str, list[int]] = {}
        self._original: dict[int, tuple[int, int]] = {}
        self._spans: dict[tuple[int, str], Span] = {}
        self._ranges: dict[Range, tuple[int, int, str]] = {}
        self._units_with: dict[tuple[str, frozenset[str]], set[int]] = {}

    def bounds(self, unit: str) -> list[int]:
        if unit == "sentence":
            return self.sentence_bounds
        if unit == "paragraph":
            return self.paragraph_bounds
        return [len(self.normalized.text)]

    @cached_property
    def sentence_bounds(self) -> list[int]:
        # one C-level finditer: finding each sentence mark with str.find and trying the pattern there
        # runs fewer instructions but takes longer (a Python step per mark: 29 against 23 µs an article)
        return bounds(self.normalized.text, SENTENCE_END)

    @cached_property
    def paragraph_bounds(self) -> list[int]:
        return bounds(self.normalized.text, PARAGRAPH_END)

    def units_with(self, unit: str, targets: frozenset[str]) -> set[int]:
        """Indexes of the units (of this kind) holding a hit of any of `targets`, computed once per
        article for each group (rules share their groups): shared, so never changed in place."""
        key = (unit, targets)
        known = self._units_with.get(key)
        if known is None:
            known = self._units_with[key] = self._find_units_with(unit, targets)
        return known

    def _find_units_with(self, unit: str, targets: frozenset[str]) -> set[int]:
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

    def _words_apart(self, first: int, other: int) -> int:
        """`abs(word_numbers[other] - word_numbers[first])`, counted over the stretches between the two
        hits alone when the article's word numbers are not known (a `near` veto word looks only at its
        sentence: counting every word of the article for it cost more than the rest of its check)."""
        if "word_numbers" in self.__dict__:
            numbers = self.word_numbers
            return abs(numbers[other] - numbers[first])
        low, high = (first, other) if first <= other else (other, first)
        starts, scan = self.hits.starts, self.hits.scan
        return sum(len(scan[starts[index - 1] : starts[index]].split()) for index in range(low + 1, high + 1))

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
            span = self._spans[key] = new_span(start, end, self.normalized.original[start:end], source)
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

    def passage(
        self, rule: CompiledRule, start: int, end: int, hits: Sequence[int], explain: bool, trigger_from: int = 0
    ) -> PassageCheck | None:
        """Without `explain` the passage is known to qualify on its groups: it is read in its trigger's
        clause (None when vetoed there), then only its range and spans are built."""
        novelty: Novelty = "new"
        if not explain and (self.reader is not None or rule.near_vetoes):
            found, _ = self._asserted(rule, hits, trigger_from)
            if found is None:
                return None
            novelty = found
        if explain:
            return self._explained(rule, start, end, hits, trigger_from)
        relevant = rule.targets
        all_targets = self.hits.targets
        spans = []
        for index in hits:
            for target in all_targets[index]:
                if target in relevant:
                    spans.append(self.span(index, target))
                    break
        return PassageCheck(*self.original(start, end), (), (), (), tuple(spans), novelty)

    def _explained(
        self, rule: CompiledRule, start: int, end: int, hits: Sequence[int], trigger_from: int
    ) -> PassageCheck:
        """A passage for `--explain`: its groups present and missing, and what vetoed it (a `none:`
        group in the scope, or the cues in its trigger's clause)."""
        relevant = rule.targets
        all_targets = self.hits.targets
        seen = {target for index in hits for target in all_targets[index]}
        labelled = list(zip(rule.groups, rule.group_labels, strict=True))
        present = tuple(label for group, label in labelled if group & seen)
        missing = tuple(label for group, label in labelled if not group & seen)
        vetoing = rule.vetoes
        spans = []
        vetoes = []
        for index in hits:
            for target in all_targets[index]:
                if target in relevant:
                    spans.append(self.span(index, target))
                    break
            for target in all_targets[index]:
                if target in vetoing:
                    vetoes.append(self.span(index, target))
                    break
        novelty: Novelty = "new"
        if (self.reader is not None or rule.near_vetoes) and not missing and not vetoes:
            found, cue_vetoes = self._asserted(rule, hits, trigger_from)
            vetoes.extend(cue_vetoes)
            novelty = found or "new"
        return PassageCheck(*self.original(start, end), present, missing, tuple(vetoes), tuple(spans), novelty)

    def _asserted(
        self, rule: CompiledRule, hits: Sequence[int], trigger_from: int
    ) -> tuple[Novelty | None, tuple[Span, ...]]:
        """The best novelty of the passage's trigger hits (those from `trigger_from` on), or None and
        the cues (or `near` veto words) that veto every one of them."""
        starts, targets = self.hits.starts, self.hits.targets
        trigger = rule.trigger
        verdicts = []
        for index in hits:
            if starts[index] >= trigger_from and not trigger.isdisjoint(targets[index]):
                verdict = self._hit_verdict(rule, hits, index)
                if verdict.novelty == "new":  # the best there is: the other hits cannot change it
                    return "new", ()
                verdicts.append(verdict)
        novelties = [verdict.novelty for verdict in verdicts if verdict.novelty is not None]
        if novelties or not verdicts:
            return (best_novelty(novelties) if novelties else "new"), ()
        cues = dict.fromkeys(cue for verdict in verdicts for cue in verdict.vetoes)
        return None, tuple(self.original_span(cue.start, cue.end, _source(cue)) for cue in cues)

    def _hit_verdict(self, rule: CompiledRule, hits: Sequence[int], index: int) -> Verdict:
        """What trigger hit `index` asserts: vetoed by a `near` veto word, by its clause, or by where
        its sides stand; `reference` for an agreement without an act when the rule `needs_act`."""
        near = self._near_veto(rule, index) if rule.near_vetoes else None
        if near is not None:
            return Verdict(None, (near,))
        reader = self.reader
        if reader is None:
            return Verdict("new")
        start, end = self.hits.starts[index], self.hits.ends[index]
        verdict = reader.verdict(start, end)
        if verdict.novelty is not None and rule.sides:
            verdict = self._placed(rule, hits, index, verdict)
        if verdict.novelty == "new" and rule.needs_act and not reader.acted(start, end):
            return Verdict("reference")
        return verdict

    def _near_veto(self, rule: CompiledRule, trigger: int) -> Cue | None:
        """A word of a `none:` group with `near` that vetoes the trigger hit `trigger`: at most its
        number of words away, in the same sentence and (with cues) in the trigger's clause, not in an
        aside ("Zenit signed a North Korean striker"; not "…signed a sports accord, under which players …")."""
        starts, ends, targets = self.hits.starts, self.hits.ends, self.hits.targets
        bounds, reader = self.sentence_bounds, self.reader
        sentence = bisect_right(bounds, starts[trigger])
        for group, reach in rule.near_vetoes:
            for other in self.relevant(group):
                if bisect_right(bounds, starts[other]) != sentence or self._words_apart(trigger, other) > reach:
                    continue
                if reader is None or reader.in_clause(starts[trigger], ends[trigger], starts[other]):
                    return Cue(starts[other], ends[other], next(t for t in targets[other] if t in group))
        return None

    def _placed(self, rule: CompiledRule, hits: Sequence[int], trigger: int, verdict: Verdict) -> Verdict:
        """The verdict, or a veto when a side of the rule is named only where it is not a party: after
        the trigger's partner or in a subordinate clause after it (`sides.py`)."""
        assert self.reader is not None
        starts, targets = self.hits.starts, self.hits.targets
        cut = self.reader.side_cut(starts[trigger], self.hits.ends[trigger])
        if cut is None:
            return verdict
        position, cue = cut
        for side in rule.sides:
            if not any(starts[index] < position and not side.isdisjoint(targets[index]) for index in hits):
                return Verdict(None, (cue,))
        return verdict

    def hits_between(self, start: int, end: int, relevant: list[int]) -> list[int]:
        """The hits among `relevant` (sorted hit indexes) that start in [start, end) (normalized)."""
        starts = self.hits.starts
        first, last = bisect_left(starts, start), bisect_left(starts, end)
        return relevant[bisect_left(relevant, first) : bisect_left(relevant, last)]

    def original_span(self, start: int, end: int, source: str) -> Span:
        """Any stretch of normalized text (a cue) as a span of the original text."""
        to_original = self.normalized.to_original
        first, last = to_original.start(start), to_original.end(end)
        return Span(first, last, self.normalized.original[first:last], source)


def _source(cue: Cue) -> str:
    """What a veto shows as its source: a cue's kind (`cues:negation`), or the target of a `near`
    veto word (`terms:sports`: its kind is the target itself, with its prefix)."""
    return cue.kind if ":" in cue.kind else CUES_PREFIX + cue.kind

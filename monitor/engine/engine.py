"""The engine: compiled watchlists applied to one article at a time. Pure and synchronous."""

from __future__ import annotations

import datetime as dt
import gc
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from monitor.engine.compile import check_and_compile
from monitor.engine.compiled import Compiled
from monitor.engine.match import Hits, find_hits
from monitor.engine.normalize import NormalizedText, normalize
from monitor.engine.result import EntityHit, Span, TagResult
from monitor.engine.rules import RuleExplanation, evaluate
from monitor.engine.segment import SEPARATOR, Range, dropped_lines, dropped_lines_pattern
from monitor.engine.watchlist import LoadedFile, load_file, watchlist_files
from monitor.problems import Problem


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything `monitor tag --explain` shows: the result, every rule's reasons, all matched words."""

    result: TagResult
    rules: tuple[RuleExplanation, ...]
    spans: tuple[Span, ...]
    #: related-article and tag lines left out of tagging, as they appear in the original
    dropped: tuple[str, ...]


class WatchlistError(Exception):
    """Raised by `load_engine` with every problem found, so an analyst can fix them all in one go."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


#: at most this many entity hits are kept for reuse (a few MB)
_CACHED_ENTITY_HITS = 50_000


class Engine:
    """Tags article text with the compiled watchlists; build it with `load_engine`."""

    def __init__(self, compiled: Compiled) -> None:
        self._compiled = compiled
        self._dropped_pattern = dropped_lines_pattern(compiled.read_also)
        self.version: str = compiled.version
        self.rule_ids: frozenset[str] = frozenset(rule.id for rule in compiled.rules)
        #: entity hits are immutable and recur (same entity, same count): built once, not per article
        self._entity_hits: dict[tuple[str, int], EntityHit] = {}

    def __getstate__(self) -> dict[str, object]:
        """Pickled for the workers without the cache of entity hits."""
        return {**self.__dict__, "_entity_hits": {}}

    def automaton_keys(self) -> list[str]:
        """Every key of the automata (lower-case aliases and terms, folded where they fold), for benchmarks."""
        automata = (self._compiled.exact_automaton, self._compiled.fold_automaton)
        return [str(key).strip(SEPARATOR) for automaton in automata if automaton is not None for key in automaton]

    def _scan(self, text: str) -> tuple[NormalizedText, list[Range], Hits]:
        normalized = normalize(text)
        dropped = dropped_lines(normalized.lowered, self._dropped_pattern)
        return normalized, dropped, find_hits(self._compiled, normalized, dropped)

    def _entities(self, hits: Hits) -> tuple[EntityHit, ...]:
        entities = self._compiled.entities
        cache = self._entity_hits
        found: list[EntityHit] = []
        for key in Counter(chain.from_iterable(hits.targets)).items():
            entity_hit = cache.get(key)
            if entity_hit is None:
                target, count = key
                info = entities.get(target)
                if info is None:
                    continue
                entity_hit = EntityHit(target, info.name, info.kind, count)
                if len(cache) < _CACHED_ENTITY_HITS:
                    cache[key] = entity_hit
            found.append(entity_hit)
        return tuple(found)

    def _notes(self, normalized: NormalizedText, dropped: list[Range]) -> tuple[str, ...]:
        return tuple(f"dropped line: {line}" for line in _dropped_text(normalized, dropped))

    def tag(self, text: str, published: dt.date | None = None) -> TagResult:
        """`published` is the article's own date: a time cue is read against it (None: unknown)."""
        return self.tag_scanned(text, published)[0]

    def tag_scanned(self, text: str, published: dt.date | None = None) -> tuple[TagResult, str]:
        """`tag`, and the normalised lower-case text it scanned (the history archive indexes it: one
        normalisation for both)."""
        normalized, dropped, hits = self._scan(text)
        rules, _ = evaluate(self._compiled, normalized, hits, explain=False, published=published)
        return TagResult(self._entities(hits), rules, self._notes(normalized, dropped)), normalized.lowered

    def explain(self, text: str, published: dt.date | None = None) -> Explanation:
        normalized, dropped, hits = self._scan(text)
        rules, explanations = evaluate(self._compiled, normalized, hits, explain=True, published=published)
        spans: list[Span] = []
        for hit in hits:
            start, end = normalized.to_original.start(hit.start), normalized.to_original.end(hit.end)
            spans.extend(Span(start, end, text[start:end], target) for target in hit.targets)
        return Explanation(
            TagResult(self._entities(hits), rules, self._notes(normalized, dropped)),
            explanations,
            tuple(spans),
            _dropped_text(normalized, dropped),
        )


def _dropped_text(normalized: NormalizedText, dropped: list[Range]) -> tuple[str, ...]:
    to_original = normalized.to_original
    return tuple(normalized.original[to_original.start(start) : to_original.end(end)] for start, end in dropped)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Loading allocates millions of objects and frees no cycles: the collections those allocations
    trigger would rescan the ever larger heap again and again (100,000 aliases: 15 s instead of 6)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load(paths: Sequence[Path]) -> tuple[Engine | None, list[Problem]]:
    with _no_cyclic_gc():
        return _load_files(paths)


def _load_files(paths: Sequence[Path]) -> tuple[Engine | None, list[Problem]]:
    loaded: list[LoadedFile] = []
    problems: list[Problem] = []
    files = list(watchlist_files(paths))
    if not files:
        named = ", ".join(str(path) for path in paths) or "(none)"
        return None, [Problem(named, "(paths)", "no watchlist files found")]
    for path in files:
        file, file_problems = load_file(path)
        problems.extend(file_problems)
        if file is not None:  # a file with problems too: the cross-file checks report theirs in the same run
            loaded.append(file)
    compiled, more_problems = check_and_compile(loaded)
    problems.extend(more_problems)
    if compiled is None or any(problem.level == "error" for problem in problems):
        return None, problems
    return Engine(compiled), problems


def load_engine(paths: Sequence[Path]) -> Engine:
    """Load, validate and compile watchlist files and folders; raises WatchlistError with every problem
    (warnings alone do not stop it: `monitor check` shows them)."""
    engine, problems = _load(paths)
    if engine is None:
        raise WatchlistError(problems)
    return engine


def problems_of(paths: Sequence[Path]) -> list[Problem]:
    """Every problem in the watchlists, errors and warnings (empty when they are clean), for `monitor check`."""
    return _load(paths)[1]

"""What a qualifying passage's trigger asserts: vetoed by its clause, or new, reference or speculative.

A rule's trigger (its last `all` group, or the one marked `trigger: true`) is the act it reports; the
trigger's *clause* is the stretch of its sentence between the clause breaks around it (`but`, `लेकिन`,
`;`). A negation, question, condition or falsehood cue in that clause, or a `?` ending the sentence,
vetoes the trigger ("Russia denied that it signed a pact" does not count; "Russia denied the report,
but on Friday it signed a pact" does). Of the time cues in the clause (recent, past, speculative, and
explicit dates well before the article's own), the one nearest the trigger decides its novelty; a
Hindi pluperfect (`हुई थी`) decides only when the clause has no other time cue.

The cues are found by their own automata (`CompiledCues`, made like the terms') over only the
sentences of passages that qualify, which are few: the hot path pays nothing for them.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

from monitor.engine.compiled import CompiledCues
from monitor.engine.match import TextPiece, find_keys
from monitor.engine.normalize import NormalizedText
from monitor.engine.result import Novelty
from monitor.engine.segment import trimmed_unit

CUES_PREFIX = "cues:"
#: cue kinds that veto the trigger in their clause
VETO_KINDS = frozenset({"negation", "question", "condition", "falsehood"})
#: the time cues, nearest to the trigger wins; a pluperfect counts only without any of these
_TIME_KINDS: dict[str, Novelty] = {"recent": "new", "past": "reference", "speculative": "speculative"}
#: which novelty a rule reports when its passages differ: the article's news wins
NOVELTY_ORDER: tuple[Novelty, ...] = ("new", "speculative", "reference")
#: a date at least this many days before the article's own is background (a follow-up a day or
#: two after the signing still reports it as news)
OLD_AFTER_DAYS = 7
#: a Latin-script negation or modal cue after the trigger counts only this many words after it
LATIN_AFTER_WORDS = 3
_DIRECTED = VETO_KINDS - {"falsehood"} | {"speculative"}
_DIGITS = "0-9\u0966-\u096f"
_YEAR = re.compile(f"(?<![{_DIGITS}])[12\u0967\u0968][{_DIGITS}]{{3}}(?![{_DIGITS}])")
_DIGIT = re.compile(f"[{_DIGITS}]")


@dataclass(frozen=True, slots=True)
class Cue:
    """A cue found in a sentence, in normalized coordinates."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one trigger hit asserts: `novelty` None when vetoed (by `vetoes`); `cue` decided it."""

    novelty: Novelty | None
    vetoes: tuple[Cue, ...] = ()
    cue: Cue | None = None


@dataclass(frozen=True, slots=True)
class _Sentence:
    start: int
    end: int
    cues: tuple[Cue, ...]
    breaks: tuple[Cue, ...]
    question: Cue | None


def best_novelty(novelties: list[Novelty]) -> Novelty:
    return min(novelties, key=NOVELTY_ORDER.index)


class ClauseReader:
    """One article's sentences read for cues, each once, on demand."""

    def __init__(
        self, cues: CompiledCues, normalized: NormalizedText, sentence_bounds: list[int], published: dt.date | None
    ) -> None:
        self._cues = cues
        self._normalized = normalized
        self._bounds = sentence_bounds
        self._published = published
        self._sentences: dict[int, _Sentence] = {}

    def sentence_of(self, position: int) -> int:
        return bisect_right(self._bounds, position)

    def _sentence(self, index: int) -> _Sentence:
        found = self._sentences.get(index)
        if found is None:
            found = self._sentences[index] = self._read(index)
        return found

    def _read(self, index: int) -> _Sentence:
        text = self._normalized.text
        unit = trimmed_unit(text, self._bounds, index)
        if unit is None:
            return _Sentence(0, 0, (), (), None)
        start, end = unit
        piece = TextPiece(text[start:end], self._normalized.lowered[start:end])
        hits = find_keys(self._cues.exact_automaton, self._cues.fold_automaton, piece, [])
        cues = [
            Cue(start + first, start + last, target.removeprefix(CUES_PREFIX))
            for first, last, targets in zip(hits.starts, hits.ends, hits.targets, strict=True)
            for target in targets
        ]
        for mark in self._cues.break_marks:
            at = piece.text.find(mark)
            while at >= 0:
                cues.append(Cue(start + at, start + at + len(mark), "clause_break"))
                at = piece.text.find(mark, at + len(mark))
        cues.sort(key=lambda cue: cue.start)
        question = Cue(end - 1, end, "question") if piece.text.endswith("?") else None
        breaks = tuple(cue for cue in cues if cue.kind == "clause_break")
        return _Sentence(start, end, tuple(cues), breaks, question)

    def refers_back(self, index: int) -> bool:
        return any(cue.kind == "refer_back" for cue in self._sentence(index).cues)

    def verdict(self, start: int, end: int) -> Verdict:
        """What the trigger hit at [start, end) asserts, read in its clause."""
        sentence = self._sentence(self.sentence_of(start))
        low = max((cue.end for cue in sentence.breaks if cue.end <= start), default=sentence.start)
        high = min((cue.start for cue in sentence.breaks if cue.start >= end), default=sentence.end)
        in_clause = [cue for cue in sentence.cues if low <= cue.start and cue.end <= high and self._governs(cue, end)]
        vetoes = [cue for cue in in_clause if cue.kind in VETO_KINDS]
        if sentence.question is not None:
            vetoes.append(sentence.question)
        if vetoes:
            return Verdict(None, tuple(vetoes))
        timed = [cue for cue in in_clause if cue.kind in _TIME_KINDS] + self._old_dates(low, high)
        return _novelty(timed, [cue for cue in in_clause if cue.kind == "pluperfect"], start, end)

    def _governs(self, cue: Cue, trigger_end: int) -> bool:
        """Whether a cue can bear on the trigger: English negation and modality precede what they
        govern ("did not sign", "may sign"; "a pact was not signed" just after), so a Latin-script
        cue later in the clause counts only within `LATIN_AFTER_WORDS`; Hindi puts them after the
        verb (हस्ताक्षर नहीं किए, कर सकते हैं), anywhere in the clause."""
        if cue.start < trigger_end or cue.kind not in _DIRECTED:
            return True
        text = self._normalized.text
        if not text[cue.start].isascii():
            return True
        return len(text[trigger_end : cue.start].split()) <= LATIN_AFTER_WORDS

    @cached_property
    def _own_year(self) -> int:
        """The article's year; an article of unknown date is read as of today (it is news now)."""
        return (self._published or dt.datetime.now(dt.UTC).date()).year

    def _old_dates(self, low: int, high: int) -> list[Cue]:
        """Years before the article's own, and (with its date known) dates well before it, as past cues."""
        text = self._normalized.text[low:high]
        if not _DIGIT.search(text):
            return []
        found = [
            Cue(low + match.start(), low + match.end(), "past")
            for match in _YEAR.finditer(text)
            if 1800 <= int(match.group()) < self._own_year
        ]
        if found or self._published is None:
            return found
        return [Cue(low + at, low + at + length, "past") for at, length in _dates_before(text, self._published)]


def _novelty(timed: list[Cue], pluperfect: list[Cue], start: int, end: int) -> Verdict:
    """The time cue nearest the trigger decides; a speculative cue beats a recent one ("expected to
    sign … this week" is still to come); a pluperfect only without any other time cue."""

    def distance(cue: Cue) -> int:
        return start - cue.end if cue.end <= start else max(cue.start - end, 0)

    if timed:
        nearest = min(timed, key=distance)
        speculative = [cue for cue in timed if cue.kind == "speculative"]
        if nearest.kind == "recent" and speculative:
            nearest = min(speculative, key=distance)
        return Verdict(_TIME_KINDS[nearest.kind], cue=nearest)
    if pluperfect:
        return Verdict("reference", cue=min(pluperfect, key=distance))
    return Verdict("new")


def _dates_before(text: str, published: dt.date) -> list[tuple[int, int]]:
    """Where `text` writes a date (with a day or a month, and digits) well before `published`."""
    from dateparser.search import search_dates  # type: ignore[import-untyped]  # slow to import, rarely needed

    base = dt.datetime.combine(published, dt.time())
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "REQUIRE_PARTS": ["month"]}
    found = search_dates(text, languages=["en", "hi"], settings=settings) or []
    old = []
    for written, when in found:
        if _DIGIT.search(written) and (published - when.date()).days >= OLD_AFTER_DAYS:
            at = text.find(written)
            if at >= 0:
                old.append((at, len(written)))
    return old

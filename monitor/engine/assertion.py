"""What a qualifying passage's trigger asserts: vetoed by its clause, or new, reference or speculative.

A rule's trigger (its last `all` group, or the one marked `trigger: true`) is the act it reports; the
trigger's *clause* is the stretch of its sentence between the clause breaks around it (`but`, `लेकिन`,
`;`). A negation, question, condition or falsehood cue in that clause, or a `?` ending the sentence,
vetoes the trigger ("Russia denied that it signed a pact" does not count; "Russia denied the report,
but on Friday it signed a pact" does). Of the time cues in the clause (recent, past, speculative, and
explicit dates well before the article's own), the one nearest the trigger decides its novelty; a
Hindi pluperfect (`हुई थी`) decides only when the clause has no other time cue.

The cues are found by their own automata (`CompiledCues`, made like the terms', run by the same
`find_keys`) over only the sentences of passages that qualify: an article that fires nothing pays nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left, bisect_right
from functools import cached_property

from monitor.engine.asides import in_other_aside
from monitor.engine.compile_cues import CUES_PREFIX
from monitor.engine.compiled import CompiledCues
from monitor.engine.match import unchecked_window_hits
from monitor.engine.normalize import NormalizedText
from monitor.engine.novelty import TIME_KINDS, Verdict, nearest_novelty
from monitor.engine.segment import trimmed_unit
from monitor.engine.sentence_cues import SentenceCues, read_cues
from monitor.engine.sides import Cue, side_cut
from monitor.engine.written_dates import DIGITS as _DIGITS
from monitor.engine.written_dates import dates_before

#: cue kinds that veto the trigger in their clause
VETO_KINDS = frozenset({"negation", "question", "condition", "falsehood", "qualifier"})
#: the veto kinds that deny an act (a question or a condition only leaves it open)
DENYING = frozenset({"negation", "falsehood"})
#: a date at least this many days before the article's own is background (a follow-up a day or
#: two after the signing still reports it as news)
OLD_AFTER_DAYS = 7
#: how far a clause reaches from its trigger, in characters (a long news clause is 200-300)
CLAUSE_REACH = 400
#: a Latin-script negation or modal cue after the trigger counts only this many words after it
LATIN_AFTER_WORDS = 3
#: a `determiner` ("the", "इस") makes a trigger sentence refer back when it stands at most this many
#: words before a trigger word ("The mutual defence treaty …", "इस रक्षा संधि …")
DETERMINER_WORDS = 3
#: a `qualifier` ("alleged", "any", "कथित") bears only on a trigger word at most this many words after it
#: (a noun phrase with a name in it: "any Russia–North Korea arms deal")
QUALIFIER_WORDS = 5
_DIRECTED = VETO_KINDS - {"falsehood", "qualifier"} | {"speculative"}
_YEAR = re.compile(f"(?<![{_DIGITS}])[12\u0967\u0968][{_DIGITS}]{{3}}(?![{_DIGITS}])")
_DIGIT = re.compile(f"[{_DIGITS}]")


_NEW = Verdict("new")
_REFER_BACK, _DETERMINER = CUES_PREFIX + "refer_back", CUES_PREFIX + "determiner"


class ClauseReader:
    """One article read for cues: each sentence once, the first time a passage in it qualifies."""

    def __init__(
        self,
        cues: CompiledCues,
        normalized: NormalizedText,
        sentence_bounds: list[int],
        published: dt.date | None,
        scan: str = "",
    ) -> None:
        self._cues = cues
        self._scan = scan
        self._normalized = normalized
        self._bounds = sentence_bounds
        self._published = published
        self._verdicts: dict[int, Verdict] = {}
        self._cuts: dict[tuple[int, int], tuple[int, Cue] | None] = {}
        self._clauses: dict[int, tuple[SentenceCues, int, int, int]] = {}
        self._ranges: dict[int, tuple[int, int]] = {}
        self._before: dict[int, int] = {}
        self._sentence_cues: dict[int, SentenceCues] = {}

    def _cues_of(self, index: int) -> SentenceCues:
        """The cues of sentence `index`, found once: the cue automaton runs over that sentence's
        stretch of the scan text only (a firing article needs a few sentences, not all of them)."""
        known = self._sentence_cues.get(index)
        if known is None:
            known = self._sentence_cues[index] = read_cues(
                self._cues, self._normalized, *self._sentence_range(index), self._scan
            )
        return known

    def _sentence_range(self, index: int) -> tuple[int, int]:
        known = self._ranges.get(index)
        if known is None:
            unit = trimmed_unit(self._normalized.text, self._bounds, index)
            known = self._ranges[index] = unit if unit is not None else (0, 0)
        return known

    def sentence(self, index: int) -> tuple[int, int] | None:
        """Sentence `index`, trimmed (None: a blank line); found once."""
        found = self._sentence_range(index)
        return None if found == (0, 0) else found

    def sentence_before(self, index: int) -> int:
        """The sentence before sentence `index`, blank lines skipped (-1: none): news writes
        one-sentence paragraphs, so it may open the paragraph before."""
        known = self._before.get(index)
        if known is None:
            known = index - 1
            while known >= 0 and self.sentence(known) is None:
                known -= 1
            self._before[index] = known
        return known

    def may_refer_back(self, index: int, triggers: list[int]) -> bool:
        """False when sentence `index` cannot refer back (`refers_back`): a sentence not read yet is
        first looked at for the refer-back keys alone (`CompiledCues.refer_back_automaton`), before
        the work of pairing it with the sentence before."""
        keys = self._cues.refer_back_automaton
        if keys is None or index in self._sentence_cues:
            return True
        found = unchecked_window_hits(keys, self._normalized, *self._sentence_range(index), self._scan)
        return any(
            _REFER_BACK in targets or (_DETERMINER in targets and self._determines(end, triggers))
            for _, end, targets in found
        )

    def refers_back(self, index: int, triggers: list[int]) -> bool:
        """Whether sentence `index` has a refer-back cue ("The pact …", "दोनों देशों ने …"), or a
        determiner at most `DETERMINER_WORDS` words before one of its trigger words (starting at
        `triggers`): "The mutual defence treaty …", "इस रक्षा संधि …" name an agreement already
        known, where "A shipping agreement was signed" introduces one of its own."""
        if not self.may_refer_back(index, triggers):
            return False
        found = self._cues_of(index)
        return bool(found.refer_back) or any(self._determines(end, triggers) for end in found.determiners)

    def _determines(self, end: int, triggers: list[int]) -> bool:
        """Whether a determiner ending at `end` stands before a trigger word (starting at `triggers`)."""
        text = self._normalized.text
        return any(end <= trigger and text.count(" ", end, trigger) <= DETERMINER_WORDS + 1 for trigger in triggers)

    def verdict(self, start: int, end: int) -> Verdict:
        """What the trigger hit at [start, end) asserts, read in its clause (once per hit)."""
        known = self._verdicts.get(start)
        if known is None:
            known = self._verdicts[start] = self._verdict(start, end)
        return known

    def _clause(self, start: int, end: int) -> tuple[SentenceCues, int, int, int]:
        """The cues of the trigger's sentence, its clause [low, high) and the sentence's end (found
        once per trigger hit: its verdict and its sides both ask)."""
        known = self._clauses.get(start)
        if known is None:
            known = self._clauses[start] = self._find_clause(start, end)
        return known

    def _find_clause(self, start: int, end: int) -> tuple[SentenceCues, int, int, int]:
        index = bisect_right(self._bounds, start)
        found = self._cues_of(index)
        sentence_start, sentence_end = self._sentence_range(index)
        before = bisect_right(found.break_ends, start)
        low = max(found.break_ends[before - 1], sentence_start) if before else sentence_start
        after = bisect_left(found.break_starts, end)
        high = min(found.break_starts[after], sentence_end) if after < len(found.break_starts) else sentence_end
        # a clause is read at most CLAUSE_REACH characters each side of its trigger: a run-on "sentence"
        # of a whole (hostile) article would otherwise make every trigger read every cue
        low, high = max(low, start - CLAUSE_REACH), min(high, end + CLAUSE_REACH)
        # a reported clause opening after the trigger is what someone said of the act, not the act
        # ("signed a pact on Friday and said it had no military part"; "हस्ताक्षर किए और कहा कि … नहीं है")
        reported = bisect_left(found.complements, end)
        if reported < len(found.complements):
            high = min(high, found.complements[reported])
        return found, low, high, sentence_end

    def side_cut(self, start: int, end: int) -> tuple[int, Cue] | None:
        """Where the sides of the trigger at [start, end) stop counting, and the cue (`sides.py`)."""
        found, low, high, _ = self._clause(start, end)
        if not found.placing:
            return None
        key = (start, end)
        if key not in self._cuts:
            self._cuts[key] = side_cut(self._normalized.text, found.placing, low, high, start, end)
        return self._cuts[key]

    def acted(self, start: int, end: int) -> bool:
        """Whether the trigger word at [start, end) is an act in its clause: an `act` cue there (the
        word itself when it is one: "signed", "हस्ताक्षर") or a `light_verb` after it ("समझौता हुआ";
        a participle before it is background: "हुए समझौते के बाद"). "Analysts say the pact deepens
        ties", "संधि से दक्षिण कोरिया चिंतित है" presuppose the agreement: background."""
        found, low, high, _ = self._clause(start, end)
        return any(low <= cue.start < high and (cue.kind == "act" or cue.start >= end) for cue in found.acts)

    def _refuted_next(self, index: int) -> list[Cue]:
        """The falsehood cues of the sentence after sentence `index` when it names the report again:
        a claim reported in one sentence is refuted in the next ("Yonhap reported that … signed an
        arms deal. The Kremlin called the report baseless."; "… दावा किया गया। मॉस्को ने इन खबरों
        का खंडन किया।")."""
        after = index + 1
        while after < len(self._bounds) and trimmed_unit(self._normalized.text, self._bounds, after) is None:
            after += 1
        if after >= len(self._bounds):
            return []
        found = self._cues_of(after)
        if not found.reports:
            return []
        return [
            Cue(found.starts[at], found.ends[at], "falsehood")
            for at, kind in enumerate(found.kinds)
            if kind == "falsehood"
        ]

    def in_clause(self, start: int, end: int, at: int) -> bool:
        """Whether position `at` is in the clause of the trigger at [start, end), outside the asides
        that do not hold the trigger (where a `near` veto word bears on it, `passages.py`)."""
        found, low, high, _ = self._clause(start, end)
        return low <= at < high and not any(a <= at < b and not a <= start < b for a, b in found.asides)

    def _verdict(self, start: int, end: int) -> Verdict:
        found, low, high, sentence_end = self._clause(start, end)
        first, last = bisect_left(found.starts, low), bisect_left(found.starts, high)
        # a question mark asks the clause it ends ("… signed a pact on Friday; what does it mean?" signed one)
        question = high == sentence_end and self._normalized.text[sentence_end - 1 : sentence_end] == "?"
        if first == last and not question and not _DIGIT.search(self._normalized.text, low, high):
            return _NEW  # the common clause: no cue at all
        in_clause = self._bearing(found, range(first, last), high, start, end)
        vetoes = [cue for cue in in_clause if cue.kind in VETO_KINDS]
        if question:
            vetoes.append(Cue(sentence_end - 1, sentence_end, "question"))
        if not vetoes and found.reports and any(cue.kind == "report" and cue.start < start for cue in in_clause):
            vetoes = _refuted_later(found, end, sentence_end) or self._refuted_next(bisect_right(self._bounds, start))
        if vetoes:
            return Verdict(None, tuple(vetoes))
        timed = [cue for cue in in_clause if cue.kind in TIME_KINDS] + self._old_dates(low, high)
        pluperfect = [cue for cue in in_clause if cue.kind == "pluperfect"]
        return nearest_novelty(self._normalized.text, timed, pluperfect, start, end)

    def _bearing(self, found: SentenceCues, at: range, high: int, start: int, end: int) -> list[Cue]:
        """The cues of the clause (indexes `at` of `found`) that bear on the trigger at [start, end)."""
        return [
            cue
            for index in at
            if found.ends[index] <= high
            and self._governs(cue := Cue(found.starts[index], found.ends[index], found.kinds[index]), start, end)
            and not (found.asides and in_other_aside(found.asides, cue, start, cue.kind in VETO_KINDS))
        ]

    def _governs(self, cue: Cue, trigger_start: int, trigger_end: int) -> bool:
        """Whether a cue can bear on the trigger. A `qualifier` qualifies the noun just after it
        ("the alleged deal", "any arms deal", "कथित समझौते"), not the clause ("signed an accord to
        curb alleged smuggling"). English negation and modality precede what they govern ("did not
        sign", "may sign"; "a pact was not signed" just after), so a Latin-script cue later in the
        clause counts only within `LATIN_AFTER_WORDS` and with no comma between: "The pact, signed
        on Friday, is yet to be ratified" does not unsign it. Hindi puts them after the verb
        (हस्ताक्षर नहीं किए, कर सकते हैं), anywhere in the clause."""
        text = self._normalized.text
        if cue.kind == "qualifier":
            return cue.end <= trigger_start and text.count(" ", cue.end, trigger_start) <= QUALIFIER_WORDS + 1
        if cue.start < trigger_end or cue.kind not in _DIRECTED:
            return True
        if not text[cue.start].isascii():
            return True
        near = text.count(" ", trigger_end, cue.start) <= LATIN_AFTER_WORDS + 1
        return near and text.find(",", trigger_end, cue.start) < 0

    @cached_property
    def _own_year(self) -> int:
        """The article's year; an article of unknown date is read as of today (it is news now)."""
        return (self._published or dt.datetime.now(dt.UTC).date()).year

    def _old_dates(self, low: int, high: int) -> list[Cue]:
        """Years before the article's own, and (with its date known) dates well before it, as past cues."""
        if not _DIGIT.search(self._normalized.text, low, high):
            return []
        text = self._normalized.text[low:high]
        found = [
            Cue(low + match.start(), low + match.end(), "past")
            for match in _YEAR.finditer(text)
            if 1800 <= int(match.group()) < self._own_year
        ]
        if found or self._published is None:
            return found
        return [
            Cue(low + at, low + at + length, "past")
            for at, length in dates_before(text, self._published, OLD_AFTER_DAYS)
        ]


def _refuted_later(found: SentenceCues, after: int, sentence_end: int) -> list[Cue]:
    """The falsehood cues after the trigger, to its sentence's end (in later clauses and asides too): a
    clause that reports a claim ("Yonhap reported that Russia and North Korea signed an arms deal") is
    refuted by a denial after it ("…, but Moscow denied it"; "…, जिसका क्रेमलिन ने खंडन किया")."""
    at = bisect_left(found.starts, after)
    return [
        Cue(found.starts[index], found.ends[index], "falsehood")
        for index in range(at, len(found.starts))
        if found.starts[index] < sentence_end and found.kinds[index] == "falsehood"
    ]

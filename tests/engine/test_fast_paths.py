"""The engine's fast paths find exactly what the general ways find (they exist only to cost less)."""

from __future__ import annotations

import dataclasses
import itertools
import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.engine import Engine
from monitor.engine.assertion import ClauseReader
from monitor.engine.match import _leftmost_longest, _longest_of, find_keys, find_window
from monitor.engine.normalize import normalize
from monitor.engine.passages import ArticleIndex
from monitor.engine.result import Span, new_span
from monitor.engine.segment import SENTENCE_END, bounds, scan_text

CLAUSES = [
    "Russia did not sign a pact with North Korea earlier today, officials said.",
    "It was signed earlier; whether it holds is unclear?",
    "रूस और उत्तर कोरिया ने पिछले साल समझौते पर हस्ताक्षर किए थे, लेकिन आज नहीं।",
    "The two countries may sign the deal next week, but not before Friday.",
    "यह समझौता इस हफ्ते हुआ था।",
    "U.S. officials said 3.5 million... Really?! Yes.",
    "The pact was signed in Moscow.",
    "दोनों देशों ने इस समझौते पर हस्ताक्षर किए।",
    "Both sides met; the two leaders then spoke.",
    "Their visit to Pyongyang ended on Monday.",
    "उस मुलाकात के बाद वार्ता हुई।",
]


@given(st.lists(st.sampled_from(CLAUSES), min_size=1, max_size=4), st.data())
def test_a_window_finds_what_find_keys_finds_in_the_window_alone(
    shipped: Engine, chosen: list[str], data: st.DataObject
) -> None:
    normalized = normalize(" ".join(chosen))
    low = data.draw(st.integers(0, len(normalized.text)))
    high = data.draw(st.integers(low, len(normalized.text)))
    cues = shipped._compiled.cues
    assert cues is not None
    piece = normalize(normalized.text[low:high])
    alone = find_keys(cues.exact_automaton, cues.fold_automaton, piece, [])
    hits = zip(alone.starts, alone.ends, alone.targets, strict=True)
    expected = [(low + start, low + end, found) for start, end, found in hits]
    scan = scan_text(normalized.lowered)
    assert find_window(cues.exact_automaton, cues.fold_automaton, normalized, low, high, scan) == expected
    assert find_window(cues.exact_automaton, cues.fold_automaton, normalized, low, high) == expected


def test_overlapping_cues_in_a_window_are_resolved_leftmost_longest(shipped: Engine) -> None:
    normalized = normalize("They met earlier today in Moscow.")
    cues = shipped._compiled.cues
    assert cues is not None
    found = find_window(cues.exact_automaton, cues.fold_automaton, normalized, 5, len(normalized.text))
    assert [(normalized.text[start:end], targets) for start, end, targets in found] == [
        ("earlier today", ("cues:recent",))
    ]


@given(st.lists(st.sampled_from(CLAUSES), min_size=1, max_size=5), st.booleans(), st.data())
def test_refer_back_found_by_its_own_keys_is_what_the_sentence_cues_say(
    shipped: Engine, chosen: list[str], with_scan: bool, data: st.DataObject
) -> None:
    cues = shipped._compiled.cues
    assert cues is not None and cues.refer_back_automaton is not None
    normalized = normalize("\n".join(chosen))
    sentence_bounds = bounds(normalized.text, SENTENCE_END)
    scan = scan_text(normalized.lowered) if with_scan else ""
    quick = ClauseReader(cues, normalized, sentence_bounds, None, scan)
    general = ClauseReader(dataclasses.replace(cues, refer_back_automaton=None), normalized, sentence_bounds, None)
    # every word as a trigger, then some of them: the determiner path ("इस रक्षा संधि …", a determiner
    # near a trigger word, which the quick look checks too) is compared as well
    words = [m.start() for m in re.finditer(r"\w+", normalized.text)]
    found = [quick.refers_back(index, words) for index in range(len(sentence_bounds))]
    assert found == [general.refers_back(index, words) for index in range(len(sentence_bounds))]
    if "The pact was signed in Moscow." in chosen:
        assert any(found)
    some = sorted(data.draw(st.sets(st.sampled_from(words))) if words else set())
    quick = ClauseReader(cues, normalized, sentence_bounds, None, scan)  # nothing read yet: the quick look
    found = [quick.refers_back(index, some) for index in range(len(sentence_bounds))]
    assert found == [general.refers_back(index, some) for index in range(len(sentence_bounds))]


@given(st.lists(st.sampled_from(CLAUSES), min_size=1, max_size=5), st.data())
def test_words_apart_counted_between_two_hits_is_the_difference_of_their_word_numbers(
    shipped: Engine, chosen: list[str], data: st.DataObject
) -> None:
    normalized = normalize("\n\n".join(chosen))
    hits = find_keys(shipped._compiled.exact_automaton, shipped._compiled.fold_automaton, normalized, [])
    if not hits.starts:
        return
    first = data.draw(st.integers(0, len(hits.starts) - 1))
    other = data.draw(st.integers(0, len(hits.starts) - 1))
    counted = ArticleIndex(normalized, hits)._words_apart(first, other)
    numbers = ArticleIndex(normalized, hits).word_numbers
    assert counted == abs(numbers[other] - numbers[first])
    if first != other and len(set(hits.starts)) == len(hits.starts):
        assert counted > 0  # every hit starts a word of its own


HIT = st.tuples(st.integers(0, 30), st.integers(1, 8), st.lists(st.sampled_from("abcd"), min_size=1, max_size=2))


@given(st.lists(HIT, min_size=1, max_size=12))
def test_overlapping_hits_without_look_alikes_are_kept_as_leftmost_longest_keeps_them(
    drawn: list[tuple[int, int, list[str]]],
) -> None:
    raw = [(start, start + length, tuple(targets)) for start, length, targets in drawn]
    general = _leftmost_longest(list(raw), [], "")
    kept = _longest_of(list(raw))
    assert kept == list(zip(general.starts, general.ends, general.targets, strict=True))
    assert all(first[1] <= second[0] for first, second in itertools.pairwise(kept))


def test_a_span_built_by_new_span_is_the_span_its_dataclass_builds() -> None:
    built, made = Span(3, 9, "Moscow", "russia"), new_span(3, 9, "Moscow", "russia")
    assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert [field.name for field in dataclasses.fields(Span)] == ["start", "end", "text", "source"]
    assert pickle.loads(pickle.dumps(made)) == built
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.start = 4  # type: ignore[misc]

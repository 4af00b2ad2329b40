"""The story book's fast paths give what the plain code they replaced gave, to the last bit: placements
must not change when placement gets cheaper (issue 12)."""

from __future__ import annotations

import heapq
import json
import random
from dataclasses import fields
from datetime import UTC, datetime, timedelta

from monitor.engine.result import Novelty
from monitor.store_stories import _json_rules, _json_strings
from monitor.story_features import StoryArticle
from monitor.story_model import Story
from monitor.story_similarity import (
    REST_MAX,
    W_DAY,
    W_ENTITIES,
    W_RULES,
    W_TERMS,
    W_WORDS,
    WORDS_ENOUGH,
    best_story,
    day_of,
)
from monitor.story_words import WindowWords

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NOVELTIES: list[Novelty] = ["new", "reference", "speculative"]


def article(rng: random.Random, key: str, vocabulary: int = 300) -> StoryArticle:
    words = {f"w{rng.randrange(vocabulary)}" for _ in range(rng.randrange(0, 40))}
    rules = tuple(sorted({f"r{rng.randrange(3)}": rng.choice(NOVELTIES) for _ in range(rng.randrange(0, 3))}.items()))
    days = {f"@2026-01-0{rng.randrange(1, 4)}" for _ in range(rng.choice((0, 1, 1, 1, 2)))}
    return StoryArticle(
        key,
        AT + timedelta(hours=rng.randrange(-50, 50)),
        "o",
        frozenset(f"e{rng.randrange(5)}" for _ in range(rng.randrange(1, 4))),
        rules,
        frozenset(f"t{rng.randrange(6)}" for _ in range(rng.randrange(0, 4))),
        b"",
        frozenset(words | days),
    )


def story(rng: random.Random, n: int) -> Story:
    parts = [article(rng, f"s{n}-{m}") for m in range(rng.randrange(1, 4))]
    rules: dict[str, Novelty] = {rule: novelty for part in parts for rule, novelty in part.rules}
    return Story(
        f"s{n}",
        AT,
        min(part.at for part in parts),
        max(part.at for part in parts),
        len(parts),
        frozenset({"o"}),
        frozenset().union(*(part.entities for part in parts)),
        frozenset().union(*(part.terms for part in parts)),
        frozenset().union(*(part.words for part in parts)),
        rules,
        alerted=bool(rules),
    )


def counted_window(rng: random.Random) -> WindowWords:
    window = WindowWords()
    for n in range(400):
        window.add(article(rng, f"w{n}"))
    return window


def jaccard(a: frozenset[str] | dict[str, Novelty], b: frozenset[str] | dict[str, Novelty]) -> float:
    shared = sum(1 for item in a if item in b)
    union = len(a) + len(b) - shared
    return shared / union if union else 0.0


def words_part(weights: dict[str, float], story: Story) -> float:
    """The shared words' summed weights, full agreement at ``WORDS_ENOUGH`` (``stories.py``'s formula)."""
    shared = sum(map(weights.__getitem__, story.words.intersection(frozenset(weights))))
    return W_WORDS * min(1.0, shared / WORDS_ENOUGH)


def rest_part(article: StoryArticle, rules: frozenset[str], day: str, story: Story) -> float:
    entities = len(article.entities & story.entities) / len(article.entities) if article.entities else 0.0
    score = W_ENTITIES * entities + W_TERMS * jaccard(article.terms, story.terms)
    if day and day in story.words and not rules.isdisjoint(story.rules):
        score += W_DAY  # the same rules on the same day
    if rules or story.rules:
        score += W_RULES * jaccard(rules, story.rules)
    else:
        score += W_RULES * entities
    return score


def plain_best(stories: list[Story], one: StoryArticle, weights: dict[str, float], threshold: float) -> Story | None:
    """The similarity written out plainly, a call per part (the loop ``best_story`` replaced)."""
    best: tuple[float, float, Story] | None = None
    rules, day = frozenset(rule for rule, _ in one.rules), day_of(one)
    for candidate in stories:
        score = words_part(weights, candidate)
        if score + REST_MAX - (0.0 if rules and day in candidate.words else W_DAY) < threshold:
            continue
        score += rest_part(one, rules, day, candidate)
        if score < threshold:
            continue
        distance = -abs((candidate.last_at - one.at).total_seconds())
        if best is None or (score, distance) > best[:2]:
            best = (score, distance, candidate)
    return None if best is None else best[2]


def test_the_best_story_is_the_one_the_plain_similarity_loop_chose() -> None:
    rng = random.Random(12)
    window = counted_window(rng)
    chosen = 0
    for n in range(300):
        one = article(rng, f"a{n}")
        weights = window.weights(one, 400)
        stories = [story(rng, m) for m in range(30)]
        for threshold in (0.2, 0.5, 0.8):
            expected = plain_best(stories, one, weights, threshold)
            assert best_story(stories, one, weights, threshold, window.day(one)) is expected
            chosen += expected is not None
    assert chosen > 100, "the comparison saw stories chosen"


def test_the_rarest_words_are_heapq_nsmallest_of_count_then_word() -> None:
    rng = random.Random(5)
    window = counted_window(rng)
    for n in range(500):
        one = article(rng, f"a{n}", vocabulary=500)
        for count in (0, 1, 5, 12, 60):
            ranked = heapq.nsmallest(count, [(seen, word) for word, seen in window.counts(one).items()])
            assert window.rarest(one, count) == [word for _, word in ranked]


def test_the_event_day_read_with_the_counts_is_day_of() -> None:
    rng = random.Random(7)
    window = counted_window(rng)
    for n in range(500):
        one = article(rng, f"a{n}")
        assert window.day(one) == day_of(one)


def test_a_story_copy_carries_every_field_and_its_own_rules() -> None:
    rng = random.Random(3)
    original = story(rng, 1)
    copied = original.copy()
    assert all(getattr(copied, field.name) == getattr(original, field.name) for field in fields(Story))
    assert copied.rules is not original.rules
    assert original.copy().alerted == original.alerted and Story("x", AT, AT, AT).copy() == Story("x", AT, AT, AT)


def test_story_rows_hold_the_json_text_json_dumps_writes() -> None:
    rng = random.Random(9)
    alphabet = 'ab"\\\n\t\x00\x1féक中🙂/ :'
    for _ in range(3000):
        items = sorted("".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 6))) for _ in range(4))
        assert _json_strings(items) == json.dumps(items, ensure_ascii=False)
        assert _json_strings(items, ascii_only=True) == json.dumps(items)
        rules: dict[str, Novelty] = {item: rng.choice(NOVELTIES) for item in items}
        assert _json_rules(rules) == json.dumps(rules)

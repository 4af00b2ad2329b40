"""How alike an article and a story are: the weights and parts of the similarity ``stories.py`` places by.

Pure arithmetic over features; the formula is in ``stories.py``'s docstring.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from typing import TYPE_CHECKING

import numpy as np

from monitor.story_concepts import SUBJECT
from monitor.story_features import DAY, StoryArticle

if TYPE_CHECKING:
    from monitor.story_model import Story

W_ENTITIES = 0.3
W_TERMS = 0.1
W_RULES = 0.1
W_WORDS = 0.8
#: the article's event day (``story_features.event_day``) is one of the story's
W_DAY = 0.2
#: what an article can score without a shared word
REST_MAX = W_ENTITIES + W_TERMS + W_RULES + W_DAY
#: the summed rarity (idf) of shared words that counts as full agreement: four rare names (with 10,
#: three words in about one article of a hundred were enough, and a busy window's stories swallowed
#: other events: docs/stories.md)
WORDS_ENOUGH = 16.0
#: a word in more than one article in e^IDF_FLOOR (about 3) of the window says nothing of which event it is
IDF_FLOOR = 1.0
#: the highest similarity an article can reach (every part at full agreement): ``[stories] threshold``'s bound
MAX_SIMILARITY = W_WORDS + REST_MAX
#: what one word counts at most (a word in one article of 150, or of 100,000): however rare, a single shared
#: word does not make two articles one event, and the threshold means the same in a small window and a large
IDF_CAP = 4.0


def agreement(a: bytes, b: bytes) -> float:
    """The MinHash Jaccard estimate of two signatures, straight from their bytes (no MinHash objects)."""
    if len(a) != len(b) or not a:
        return 0.0
    return int(np.count_nonzero(np.frombuffer(a, dtype=np.uint32) == np.frombuffer(b, dtype=np.uint32))) / (len(a) // 4)


def day_of(article: StoryArticle) -> str:
    return next((word for word in article.words if word.startswith(DAY)), "")


def subjects_of(article: StoryArticle) -> frozenset[str]:
    """Its subject and evidence ids (a list comprehension: about three times faster than `startswith`)."""
    return frozenset([word for word in article.words if word[:1] == SUBJECT])


def best_story(
    stories: Iterable[Story], article: StoryArticle, weights: dict[str, float], threshold: float, day: str
) -> Story | None:
    """The story of ``stories`` most similar to the article, if it reaches ``threshold``; closer in time wins
    a tie. The formula of ``stories.py``'s docstring in one loop, without a call per part: a placement compares
    some forty stories, and calls cost more than the arithmetic (``tests/test_story_shortcuts.py`` pins it to
    the formula written out plainly)."""
    best: tuple[float, float, Story] | None = None
    words, get = frozenset(weights), weights.__getitem__
    rules = frozenset(rule for rule, _ in article.rules)
    entities, terms, at = article.entities, article.terms, article.at
    count = len(entities)
    for story in stories:
        story_words, story_rules = story.words, story.rules
        score = W_WORDS * min(1.0, sum(map(get, story_words.intersection(words))) / WORDS_ENOUGH)
        in_words = day in story_words
        if score + REST_MAX - (0.0 if rules and in_words else W_DAY) < threshold:
            continue  # cannot reach it whatever the rest (the day counts only for a rule on its day)
        shared = len(entities & story.entities) / count if count else 0.0
        rest = W_ENTITIES * shared + W_TERMS * _overlap(terms, story.terms)
        if day and in_words and not rules.isdisjoint(story_rules):
            rest += W_DAY
        rest += W_RULES * (_overlap(rules, story_rules.keys()) if rules or story_rules else shared)
        score += rest
        if score < threshold:
            continue
        distance = -abs((story.last_at - at).total_seconds())
        if best is None or (score, distance) > best[:2]:
            best = (score, distance, story)
    return None if best is None else best[2]


def _overlap(a: frozenset[str], b: Set[str]) -> float:
    """The Jaccard index of two sets, by a C intersection."""
    shared = len(a & b)
    union = len(a) + len(b) - shared
    return shared / union if union else 0.0

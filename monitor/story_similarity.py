"""How alike an article and a story are: the weights and parts of the similarity ``stories.py`` places by.

Pure arithmetic over features; the formula is in ``stories.py``'s docstring.
"""

from __future__ import annotations

from collections.abc import Collection
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
#: the summed rarity (idf) of shared words that counts as full agreement: a few rare names
WORDS_ENOUGH = 10.0
#: a word in more than one article in e^IDF_FLOOR (about 3) of the window says nothing of which event it is
IDF_FLOOR = 1.0
#: the highest similarity an article can reach (every part at full agreement): ``[stories] threshold``'s bound
MAX_SIMILARITY = W_WORDS + REST_MAX
#: what one word counts at most (a word in one article of 150, or of 100,000): however rare, a single shared
#: word does not make two articles one event, and the threshold means the same in a small window and a large
IDF_CAP = 4.0


def jaccard(a: Collection[str], b: Collection[str]) -> float:
    """Counted over the smaller side, without copying: a story's terms grow with its articles."""
    if len(a) > len(b):
        a, b = b, a
    shared = sum(1 for item in a if item in b)
    union = len(a) + len(b) - shared
    return shared / union if union else 0.0


def words_part(weights: dict[str, float], story: Story, words: frozenset[str] | None = None) -> float:
    """``words``: the keys of ``weights`` as a set (the shared words are then found from the smaller side)."""
    shared = sum(map(weights.__getitem__, story.words.intersection(weights if words is None else words)))
    return W_WORDS * min(1.0, shared / WORDS_ENOUGH)


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


def rest_part(article: StoryArticle, rules: frozenset[str], day: str, story: Story) -> float:
    entities = len(article.entities & story.entities) / len(article.entities) if article.entities else 0.0
    score = W_ENTITIES * entities + W_TERMS * jaccard(article.terms, story.terms)
    if day and day in story.words and not rules.isdisjoint(story.rules):
        score += W_DAY  # the same rules on the same day: the brief report and the long one of one event
    if rules or story.rules:
        score += W_RULES * jaccard(rules, story.rules)
    else:
        score += W_RULES * entities
    return score

"""How rare each word is in the story book's window: in how many of its articles each word (skeleton,
figure, id) occurs, the weights the similarity gives an article's words, and an article's rarest words
(what indexes its story). Pure."""

from __future__ import annotations

import math
from collections import Counter
from itertools import repeat

from monitor.story_features import DAY, StoryArticle
from monitor.story_similarity import IDF_CAP, IDF_FLOOR, day_of


class WindowWords:
    def __init__(self) -> None:
        #: in how many articles of the window each word occurs
        self._df: Counter[str] = Counter()
        self._words: dict[str, frozenset[str]] = {}
        #: the last article's words with their counts, and the change of the counts they were read at
        self._counted: tuple[str, int, dict[str, int], str] = ("", -1, {}, "")
        self._changes = 0

    def add(self, article: StoryArticle) -> None:
        """Count an article's words (once: the caller adds an article it did not have)."""
        self._df.update(article.words)
        self._words[article.key] = article.words
        self._changes += 1

    def remove(self, key: str) -> None:
        self._df.subtract(self._words.pop(key, frozenset()))
        self._changes += 1

    def counts(self, article: StoryArticle) -> dict[str, int]:
        """In how many articles of the window each of the article's words is (the event day left out);
        read once per placement, not once for its weights and again for its rarest words."""
        key, changes, counts, _ = self._counted
        if key != article.key or changes != self._changes:
            words = article.words
            plain = [word for word in words if word[:1] != DAY]
            counts = dict(zip(plain, map(self._df.get, plain, repeat(0)), strict=True))
            # the event day, from the words left out (``day_of`` walks the words again, twice a placement)
            left = len(words) - len(plain)
            day = "" if not left else next(iter(words.difference(plain))) if left == 1 else day_of(article)
            self._counted = (article.key, self._changes, counts, day)
        return counts

    def day(self, article: StoryArticle) -> str:
        """``story_similarity.day_of(article)``, read with its ``counts``."""
        self.counts(article)
        return self._counted[3]

    def rarest(self, article: StoryArticle, count: int) -> list[str]:
        """The ``count`` words in fewest articles of the window, rarest first, ties in word order: what
        ``heapq.nsmallest`` of (count, word) gives, from the few words at or under the ``count``-th count
        (sorting the counts alone is a C sort of ints; nsmallest compared tuples in Python)."""
        counts = self.counts(article)
        if count <= 0:
            return []
        if len(counts) > count:
            bound = sorted(counts.values())[count - 1]
            pairs = sorted([(seen, word) for word, seen in counts.items() if seen <= bound])
        else:
            pairs = sorted([(seen, word) for word, seen in counts.items()])
        return [word for _, word in pairs[:count]]

    def weights(self, article: StoryArticle, articles: int) -> dict[str, float]:
        """How much each of the article's words counts in a window of ``articles``: rare words weigh most
        (`tmn`, Tumen, in two articles beats `rs` in all of them), each at most `IDF_CAP`; the words that do
        not count are left out."""
        base, log = math.log(articles + 1) - IDF_FLOOR, math.log
        return {
            word: weight if weight < IDF_CAP else IDF_CAP  # min(IDF_CAP, weight) without a call per word
            for word, seen in self.counts(article).items()
            if (weight := base - log(seen or 1)) > 0
        }

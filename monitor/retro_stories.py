"""A retro run's articles grouped into stories by the daemon's own logic (``StoryBook``): a fresh book for
the run, the articles placed in date order (ties by archive order) as a feed would have brought them, so
that a story's five articles make one opening and its follow-ups, not five alerts. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from monitor.retro import RetroResult
from monitor.stories import StoryBook
from monitor.story_features import StoryArticle, story_article


def in_stories(results: Iterable[RetroResult], book: StoryBook) -> list[RetroResult]:
    """The results that fired a rule, each with its placement, in date order. Every article that names an
        entity is placed (one that fires nothing still makes its story, as it does live; one that names none
        belongs to no story and costs no features); only the features of those that fired nothing are kept. What
    the archive kept of an article's text (``RetroResult.story_text``) is not read from its text again."""
    placed: list[tuple[datetime, int, StoryArticle | None, RetroResult | None]] = []
    for found in results:
        has = found.result.entities
        features = story_article(found.article, found.result, found.at, found.story_text) if has else None
        if features is not None or found.result.rules:
            placed.append((found.at, found.article_id, features, found if found.result.rules else None))
    placed.sort(key=lambda entry: (entry[0], entry[1]))
    fired = []
    for _at, _id, features, kept in placed:
        placement = None if features is None else book.place(features)
        if kept is not None:
            fired.append(replace(kept, placement=placement))
    return fired

"""Stories as the archive holds them now: what a card shows (an alert's story may have gained outlets since,
from articles that joined it silently), and which stories gained silent members after an article id (the
console's event stream tells open pages)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoryNow:
    """A story as the archive holds it now. A card shows this, not what the story was when its alert was
    made: articles that joined it silently later (no alert) still add their outlets and their time."""

    story_id: str
    articles: int
    outlets: int
    first_seen: float
    last_seen: float


def stories_now(db: sqlite3.Connection, story_ids: Iterable[str]) -> dict[str, StoryNow]:
    """The stories, in one grouped read of the archive (by its story index). Outlets: the archived articles'
    distinct sources, or the story state's outlets (which also knows an outlet by its folder) where it
    knows more."""
    ids = sorted(set(story_ids))
    if not ids:
        return {}
    rows = db.execute(
        "SELECT a.story_id, count(*), count(DISTINCT a.source), min(a.received_at), max(a.received_at),"
        " (SELECT json_array_length(s.outlets) FROM stories s WHERE s.story_id = a.story_id)"
        f" FROM archive_articles a WHERE a.story_id IN ({','.join('?' * len(ids))}) GROUP BY a.story_id",
        ids,
    ).fetchall()
    return {
        story: StoryNow(story, int(articles), max(int(sources), int(known or 0)), float(first), float(last))
        for story, articles, sources, first, last, known in rows
    }


def silent_joins_after(db: sqlite3.Connection, article_id: int, limit: int) -> tuple[int, list[StoryNow]]:
    rows = db.execute(
        "SELECT article_id, story_id, story_kind FROM archive_articles"
        " WHERE article_id > ? ORDER BY article_id LIMIT ?",
        (article_id, max(1, limit)),
    ).fetchall()
    if not rows:
        return article_id, []
    now = stories_now(db, {story for _aid, story, kind in rows if story and kind == "silent"})
    return int(rows[-1][0]), [now[story] for story in sorted(now)]

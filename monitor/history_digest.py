"""The day's digest from the archive: its live alerts grouped by rule, then by story (an alert in no story
is a story of its own), most severe first, each with its article and outlet counts and its opening alert."""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import TYPE_CHECKING

from monitor.engine.result import NOVELTY_RANK, SEVERITIES
from monitor.history_query import ALERT_COLUMNS, ALERT_TABLES

if TYPE_CHECKING:
    from monitor.history import AlertEntry, Digest, DigestStory


def day_digest(db: sqlite3.Connection, day: date) -> Digest:
    from monitor.history import Digest, entry

    rows = db.execute(
        f"SELECT {ALERT_COLUMNS} FROM {ALERT_TABLES} WHERE a.day = ? AND a.retro = 0 ORDER BY a.seq",
        (day.isoformat(),),
    ).fetchall()
    groups: dict[tuple[str, str], list[AlertEntry]] = {}
    for alert in map(entry, rows):
        groups.setdefault((alert.rule, alert.story_id or f"alert:{alert.alert_id}"), []).append(alert)
    by_rule: dict[str, list[DigestStory]] = {}
    for (rule, _group), alerts in groups.items():
        by_rule.setdefault(rule, []).append(_story(db, alerts))
    for stories in by_rule.values():
        stories.sort(key=lambda s: (-_rank(s.severity), -s.articles, s.opening.seq))
    ordered = dict(sorted(by_rule.items(), key=lambda item: (-_rank(item[1][0].severity), item[0])))
    story_ids = {key[1] for key in groups}
    return Digest(day=day, alerts=len(rows), stories=len(story_ids), by_rule=ordered)


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def _story(db: sqlite3.Connection, alerts: list[AlertEntry]) -> DigestStory:
    from monitor.history import DigestStory

    opening = alerts[0]
    articles, outlets = 1, 1
    if opening.story_id is not None:
        articles, outlets = db.execute(
            "SELECT count(*), count(DISTINCT source) FROM archive_articles WHERE story_id = ?", (opening.story_id,)
        ).fetchone()
    return DigestStory(
        story_id=opening.story_id,
        rule=opening.rule,
        rule_title=opening.rule_title,
        severity=max((a.severity for a in alerts), key=_rank),
        novelty=max((a.novelty for a in alerts), key=lambda n: NOVELTY_RANK.get(n, -1)),  # type: ignore[call-overload]
        articles=int(articles),
        outlets=max(1, int(outlets)),
        opening=opening,
    )

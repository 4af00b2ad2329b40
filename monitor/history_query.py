"""An ``AlertQuery`` as SQL: the conditions of every filter, with parameters (never text pasted into SQL
or FTS syntax: a search's words are quoted terms, ``history_text.match_expression``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from monitor.history_text import match_expression

if TYPE_CHECKING:
    from monitor.history import AlertQuery

#: the columns an ``AlertEntry`` is made of, alerts as ``a``, their articles as ``r``, payloads as ``p``
ALERT_COLUMNS = (
    "a.seq, a.alert_id, a.rule, a.rule_title, a.severity, a.novelty, a.story_id, a.story_kind, a.story_outlets,"
    " a.article_id, r.title, r.source, r.url, r.lang, r.published_at, a.created_at, a.delivery, a.reviewed,"
    " p.payload"
)
#: the tables of ``ALERT_COLUMNS``
ALERT_TABLES = (
    "archive_alerts a JOIN archive_articles r ON r.article_id = a.article_id JOIN archive_payloads p ON p.seq = a.seq"
)

#: the deliveries of alerts that went to the broker (muted and snoozed ones were held back)
DELIVERED = frozenset({"sent", "retro-sent"})

#: filters on a column of archive_alerts (denormalised there, so that counting needs no join)
_COLUMNS = (
    ("rule", "a.rule"),
    ("severity", "a.severity"),
    ("novelty", "a.novelty"),
    ("source", "a.source"),
    ("lang", "a.lang"),
    ("story", "a.story_id"),
)


#: the connection's own table of a search's matching article ids (``History.alerts`` fills it once per
#: search, so that the page and its count do not each run the full-text match)
MATCHES_TABLE = "temp.search_matches"
#: a search's matches joined to their alerts, the index outermost (``history_search``)
SEARCH_TABLES = "archive_fts f JOIN archive_alerts a ON a.article_id = f.rowid"


def alert_conditions(
    query: AlertQuery, *, matches_table: bool = False, fts: bool = False
) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause over ``archive_alerts a`` and its parameters. A search is driven from the index's
    matches (through the alerts-by-article index); its other conditions are then kept off the column indexes
    (SQLite's unary ``+``), which would else walk every alert to check each against the matches.
    ``matches_table``: the matches are already in ``MATCHES_TABLE``; ``fts``: the query joins the index as
    ``SEARCH_TABLES`` does (its words are a MATCH on it)."""
    conditions: list[str] = []
    params: list[Any] = []
    plus = "+" if query.text.strip() else ""
    # a date range beside an equality filter is checked row by row on the filter's index, which is in
    # sequence order (a page stops after its 51st match) where the day index would sort every day's alert
    day_plus = plus or ("+" if any(getattr(query, name) is not None for name, _ in _COLUMNS) else "")
    for name, column in _COLUMNS:
        value = getattr(query, name)
        if value is not None:
            conditions.append(f"{plus}{column} = ?")
            params.append(value)
    if query.since is not None:
        conditions.append(f"{day_plus}a.day >= ?")
        params.append(query.since.isoformat())
    if query.until is not None:
        conditions.append(f"{day_plus}a.day <= ?")
        params.append(query.until.isoformat())
    if query.reviewed is not None:
        conditions.append(f"{plus}a.reviewed = ?")
        params.append(int(query.reviewed))
    if query.retro is not None:
        conditions.append(f"{plus}a.retro = ?")
        params.append(int(query.retro))
    if query.delivered is not None:
        marks = ", ".join("?" * len(DELIVERED))
        conditions.append(f"{plus}a.delivery {'IN' if query.delivered else 'NOT IN'} ({marks})")
        params.extend(sorted(DELIVERED))
    if query.entity is not None:
        # per alert, by the primary key (entity, article_id): the newest first stay cheap however common it is
        conditions.append(
            "EXISTS (SELECT 1 FROM archive_entities e WHERE e.entity = ? AND e.article_id = a.article_id)"
        )
        params.append(query.entity)
    if query.text.strip():
        expression = match_expression(query.text)
        if expression is None:
            conditions.append("0")  # words were asked for, and the query has none (only punctuation): nothing
        elif matches_table:
            conditions.append(f"a.article_id IN {MATCHES_TABLE}")
        elif fts:
            conditions.append("f.archive_fts MATCH ?")
            params.append(expression)
        else:
            conditions.append("a.article_id IN (SELECT rowid FROM archive_fts WHERE archive_fts MATCH ?)")
            params.append(expression)
    return " AND ".join(conditions) or "1", tuple(params)

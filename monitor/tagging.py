"""The JSON shape of one tagged article, shared by ``monitor tag --json`` and backfill dry runs."""

from __future__ import annotations

from typing import Any

from monitor.alerts import alert_id
from monitor.articles import Article
from monitor.engine.result import TagResult


def tag_json(article: Article, result: TagResult, watchlist_version: str) -> dict[str, Any]:
    return {
        "path": article.path,
        "sha256": article.sha256,
        "title": article.title,
        "entities": [{"id": e.id, "name": e.name, "kind": e.kind, "count": e.count} for e in result.entities],
        "rules": [
            {
                "rule": hit.rule,
                "title": hit.title,
                "severity": hit.severity,
                "alert_id": alert_id(article.sha256, hit.rule),
                "evidence": [
                    {
                        "start": ev.start,
                        "end": ev.end,
                        "text": ev.text,
                        "spans": [
                            {"start": s.start, "end": s.end, "text": s.text, "source": s.source} for s in ev.spans
                        ],
                    }
                    for ev in hit.evidence
                ],
            }
            for hit in result.rules
        ],
        "watchlist_version": watchlist_version,
    }

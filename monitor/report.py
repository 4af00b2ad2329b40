"""What ``monitor tag`` prints: a readable result or explanation (matched words highlighted), or one JSON
object per article."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from monitor.alerts import alert_id, evidence_info, span_info
from monitor.articles import Article
from monitor.engine import Explanation
from monitor.engine.compile_cues import CUES_PREFIX
from monitor.engine.result import Severity, Span, TagResult
from monitor.terminal import highlighted, safe_text

_SEVERITY_STYLE: dict[Severity, str] = {
    "info": "dim",
    "low": "cyan",
    "medium": "yellow",
    "high": "bold red",
    "critical": "bold white on red",
}
_TERM_STYLE = "bold magenta"
_ENTITY_STYLE = "bold green"
_VETO_STYLE = "bold white on red"


def _highlighted(text: str, offset: int, spans: Iterable[Span], style_of_veto: frozenset[Span] = frozenset()) -> Text:
    """`text` (which starts at `offset` in the article) with each span styled by what it matched."""

    def style(span: Span) -> str:
        if span in style_of_veto:
            return _VETO_STYLE
        return _TERM_STYLE if span.source.startswith("terms:") else _ENTITY_STYLE

    return highlighted(text, offset, ((span.start, span.end, style(span)) for span in spans))


def _veto_kind(span: Span) -> str:
    """What a veto is: a clause cue's kind (`negation`), else the vetoing group (`terms:denial`)."""
    return span.source.removeprefix(CUES_PREFIX)


def _entities_line(result: TagResult) -> Text:
    line = Text("entities: ", style="bold")
    if not result.entities:
        return line.append("none", style="dim")
    for index, entity in enumerate(result.entities):
        if index:
            line.append(", ")
        line.append(entity.id, style=_ENTITY_STYLE).append(f" ×{entity.count}")
    return line


def render_result(path: str, text: str, result: TagResult) -> RenderableType:
    """One article: its entities, then each fired rule with its evidence sentences highlighted."""
    parts: list[RenderableType] = [Text(safe_text(path, one_line=True), style="bold underline"), _entities_line(result)]
    if not result.rules:
        parts.append(Text("no rule fired", style="dim"))
    for rule in result.rules:
        parts.append(
            Text.assemble(
                (f"{rule.severity.upper():>8} ", _SEVERITY_STYLE[rule.severity]),
                (rule.rule, "bold"),
                f"  {rule.title}",
                (f"  [{rule.novelty}]", "italic"),
            )
        )
        for evidence in rule.evidence:
            parts.append(Text("         ").append(_highlighted(evidence.text, evidence.start, evidence.spans)))
    return Group(*parts)


def render_explanation(path: str, text: str, explanation: Explanation) -> RenderableType:
    """Every rule: fired or not and why, passage by passage (groups present, missing, vetoes)."""
    parts: list[RenderableType] = [
        Text(safe_text(path, one_line=True), style="bold underline"),
        _entities_line(explanation.result),
    ]
    for line in explanation.dropped:
        parts.append(Text.assemble(("dropped (related article / tags): ", "dim"), (safe_text(line), "dim strike")))
    for rule in explanation.rules:
        mark = (f"FIRED [{rule.novelty}]", "bold green") if rule.fired else ("not fired", "dim")
        parts.append(
            Text.assemble(
                (f"{rule.severity.upper():>8} ", _SEVERITY_STYLE[rule.severity]),
                (rule.rule, "bold"),
                "  ",
                mark,
                f"  {rule.summary}",
            )
        )
        for passage in rule.passages:
            verdict = f"qualifies ({passage.novelty})" if passage.qualifies else "does not qualify"
            detail = Text(f"    {verdict}: ", style="green" if passage.qualifies else "yellow")
            if passage.present:
                detail.append("has " + "; ".join(passage.present))
            if passage.missing:
                detail.append("  missing " + "; ".join(passage.missing), style="yellow")
            if passage.vetoed_by:
                vetoes = ", ".join(f"{safe_text(span.text)!r} ({_veto_kind(span)})" for span in passage.vetoed_by)
                detail.append(f"  vetoed by {vetoes}", style="red")
            parts.append(detail)
            spans = (*passage.spans, *passage.vetoed_by)
            parts.append(
                Text("      ").append(_highlighted(passage.text, passage.start, spans, frozenset(passage.vetoed_by)))
            )
    return Group(*parts)


def _entities_json(result: TagResult) -> list[dict[str, Any]]:
    return [{"id": e.id, "name": e.name, "kind": e.kind, "count": e.count} for e in result.entities]


def result_json(article: Article, result: TagResult, watchlist_version: str) -> dict[str, Any]:
    """The JSON object ``monitor tag --json`` prints for one article. A rule object has the alert
    payload's field names (`id` the alert id, `title`, `severity`, `evidence`), with `rule` the rule id."""
    return {
        "path": article.path,
        "sha256": article.sha256,
        "title": article.title,
        "entities": _entities_json(result),
        "rules": [
            {
                "rule": hit.rule,
                "id": alert_id(article.sha256, hit.rule),
                "title": hit.title,
                "severity": hit.severity,
                "novelty": hit.novelty,
                "evidence": [ev.model_dump() for ev in evidence_info(hit.evidence)],
            }
            for hit in result.rules
        ],
        "watchlist_version": watchlist_version,
    }


def explanation_json(article: Article, explanation: Explanation, watchlist_version: str) -> dict[str, Any]:
    """``monitor tag --explain --json``: every rule, fired or not, with each passage it looked at."""
    rules = []
    for rule in explanation.rules:
        passages = [
            {
                "start": passage.start,
                "end": passage.end,
                "text": passage.text,
                "qualifies": passage.qualifies,
                "novelty": passage.novelty if passage.qualifies else None,
                "present": list(passage.present),
                "missing": list(passage.missing),
                "vetoed_by": [span.model_dump() for span in span_info(passage.vetoed_by)],
                "vetoed_as": [_veto_kind(span) for span in passage.vetoed_by],
                "spans": [span.model_dump() for span in span_info(passage.spans)],
            }
            for passage in rule.passages
        ]
        fired = {"id": alert_id(article.sha256, rule.rule)} if rule.fired else {}
        rules.append(
            {
                "rule": rule.rule,
                **fired,
                "title": rule.title,
                "severity": rule.severity,
                "fired": rule.fired,
                "novelty": rule.novelty,
                "summary": rule.summary,
                "passages": passages,
            }
        )
    return {
        "path": article.path,
        "sha256": article.sha256,
        "title": article.title,
        "entities": _entities_json(explanation.result),
        "rules": rules,
        "dropped": list(explanation.dropped),
        "watchlist_version": watchlist_version,
    }

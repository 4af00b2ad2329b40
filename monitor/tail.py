"""``monitor tail``: subscribe to the alerts and print them as they arrive; survives broker restarts."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import Any

import aiomqtt
from rich.text import Text

from monitor.alerts import NotAnAlert, read_alert
from monitor.config import MqttSettings
from monitor.engine.result import SEVERITIES
from monitor.mqtt import Backoff, default_client_id, describe_error, make_client
from monitor.terminal import console, highlighted, json_line, safe_text
from monitor.topics import alerts_filter

STYLE = {"info": "dim", "low": "cyan", "medium": "yellow", "high": "bold red", "critical": "bold white on red"}


@dataclass(frozen=True)
class TailFilter:
    rules: frozenset[str] = frozenset()
    min_severity: str | None = None
    watchlist: str | None = None

    def accepts(self, alert: dict[str, Any]) -> bool:
        rule = alert.get("rule", {})
        if self.rules and rule.get("id") not in self.rules:
            return False
        if self.min_severity and SEVERITIES.index(rule.get("severity", "info")) < SEVERITIES.index(self.min_severity):
            return False
        return not (self.watchlist and alert.get("watchlist_version") != self.watchlist)


def _line(value: object) -> str:
    return safe_text(str(value), one_line=True)


def render_alert(alert: dict[str, Any]) -> Text:
    """Severity, rule, article, and each evidence passage with its matched words highlighted; article
    text made safe for the terminal (`monitor.terminal`)."""
    rule = alert["rule"]
    article = alert["article"]
    out = Text()
    out.append(f"[{rule['severity'].upper()}]", style=STYLE.get(rule["severity"], ""))
    out.append(f" {_line(rule['id'])}", style="bold")
    out.append(f"  {_line(article['title'])}")
    story = alert.get("story")
    if alert.get("novelty") and alert["novelty"] != "new":
        out.append(f"  ({_line(alert['novelty'])})", style="italic")
    if isinstance(story, dict):
        adds = f": {_line(', '.join(map(str, story.get('adds') or [])))}" if story.get("adds") else ""
        count = f", {_line(story.get('articles'))} articles" if story.get("kind") == "follow-up" else ""
        out.append(f"  [story {_line(story.get('id'))[:8]} {_line(story.get('kind'))}{count}{adds}]", style="cyan")
    out.append("\n")
    out.append(f"  {_line(article['path'])}  id={_line(alert['id'])}", style="dim")
    if alert.get("supersedes"):
        out.append(f"  supersedes={_line(alert['supersedes'])}", style="dim")
    out.append("\n")
    for evidence in alert.get("evidence", []):
        spans = ((span["start"], span["end"], "bold reverse") for span in evidence["spans"])
        out.append_text(Text("  > ").append_text(highlighted(evidence["text"], evidence["start"], spans)))
        out.append("\n")
    return out


class Skipped:
    """Says once per topic that what arrives there is not an alert: a retained status a broker redelivers on
    every reconnect, or a stream of test messages, is one line, not one per message."""

    def __init__(self) -> None:
        self._topics: set[str] = set()

    def report(self, topic: str, why: str) -> None:
        if topic not in self._topics:
            self._topics.add(topic)
            shown = safe_text(topic, one_line=True)  # a topic name is anyone's text too
            print(f"skipped a message on {shown}: {why} (further ones there are skipped silently)", file=sys.stderr)


async def tail(
    settings: MqttSettings,
    wanted: TailFilter,
    *,
    as_json: bool,
    client_id: str | None,
    count: int = 0,
) -> None:
    out = console()
    backoff = Backoff()
    skipped = Skipped()
    seen = 0
    announced_down = False
    topic = alerts_filter(settings.topic_prefix)
    while True:
        try:
            async with make_client(
                settings,
                client_id=client_id or default_client_id("tail"),
                clean_session=client_id is None,
                protocol="3.1.1",  # a subscriber: MQTT 3.1.1 for clean_session
            ) as client:
                await client.subscribe(topic, qos=1)
                print(f"listening on {topic}", file=sys.stderr, flush=True)  # stderr: --json output stays clean
                backoff.reached()
                if announced_down:
                    print("broker reachable again", file=sys.stderr)
                    announced_down = False
                async for message in client.messages:
                    try:
                        alert = read_alert(message.payload)
                    except NotAnAlert as exc:
                        skipped.report(str(message.topic), str(exc))
                        continue
                    if not wanted.accepts(alert):
                        continue
                    if as_json:
                        print(json_line(alert), flush=True)
                    else:
                        out.print(render_alert(alert))
                    seen += 1
                    if count and seen >= count:
                        return
        except aiomqtt.MqttError as exc:
            if not announced_down:
                print(f"broker unreachable ({describe_error(exc)}); retrying", file=sys.stderr)
                announced_down = True
            await asyncio.sleep(backoff.next_delay())

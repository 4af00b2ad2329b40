"""``monitor tail``: subscribe to the alerts and print them as they arrive; survives broker restarts."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

import aiomqtt
from rich.text import Text

from monitor.config import MqttSettings
from monitor.engine.result import SEVERITIES
from monitor.mqtt import Backoff, describe_error, make_client
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
    out.append(f"  {_line(article['title'])}\n")
    out.append(f"  {_line(article['path'])}  id={_line(alert['id'])}", style="dim")
    if alert.get("supersedes"):
        out.append(f"  supersedes={_line(alert['supersedes'])}", style="dim")
    out.append("\n")
    for evidence in alert.get("evidence", []):
        spans = ((span["start"], span["end"], "bold reverse") for span in evidence["spans"])
        out.append_text(Text("  > ").append_text(highlighted(evidence["text"], evidence["start"], spans)))
        out.append("\n")
    return out


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
    seen = 0
    announced_down = False
    topic = alerts_filter(settings.topic_prefix)
    while True:
        try:
            async with make_client(
                settings,
                client_id=client_id or f"newsmon-tail-{os.getpid()}",
                clean_session=client_id is None,
                client_cls=aiomqtt.Client,  # a subscriber: MQTT 3.1.1 for clean_session
            ) as client:
                await client.subscribe(topic, qos=1)
                print(f"listening on {topic}", file=sys.stderr, flush=True)  # stderr: --json output stays clean
                backoff.reset()
                if announced_down:
                    print("broker reachable again", file=sys.stderr)
                    announced_down = False
                async for message in client.messages:
                    try:
                        alert = json.loads(message.payload) if isinstance(message.payload, bytes | str) else {}
                    except ValueError:
                        print(f"skipped a message on {message.topic} that is not JSON", file=sys.stderr)
                        continue
                    if not isinstance(alert, dict) or not wanted.accepts(alert):
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

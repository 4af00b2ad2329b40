"""``monitor status``: whether the daemon runs and how it is doing, in one look for an operator and an
exit code for a monitoring system. It reads the state folder (the lock a running daemon holds, the
database read-only) and the retained status topic (a short wait); it changes nothing."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiomqtt

from monitor.config import Settings
from monitor.mqtt import default_client_id, describe_error, make_client
from monitor.state import StateLock
from monitor.store import StateSummary, read_state
from monitor.terminal import safe_text
from monitor.topics import status_topic

#: exit codes (README, deploy/README): everything fine; running but needing attention; not running;
#: cannot tell (the state folder cannot be read)
OK, DEGRADED, NOT_RUNNING, UNKNOWN = 0, 1, 2, 3
VERDICTS = {OK: "ok", DEGRADED: "degraded", NOT_RUNNING: "not running", UNKNOWN: "unknown"}


@dataclass
class Findings:
    """What could be read; None where it could not (the `*_error` fields say why)."""

    running: bool | None = None
    pid: str | None = None
    state: StateSummary | None = None
    state_error: str | None = None
    #: the retained message on the status topic (None: none, or the broker was not reachable from here)
    status: dict[str, Any] | None = None
    broker_error: str | None = None
    reasons: list[str] = field(default_factory=list)

    def status_reason(self) -> str:
        status = self.status or {}
        return str(status.get("reason") or f"status {status.get('state')!r}")


def gather(settings: Settings, timeout: float) -> Findings:
    found = Findings()
    lock = StateLock(settings.state.dir)
    try:
        found.running = lock.held()
        found.pid = lock.holder() if found.running else None
        found.state = read_state(settings.state.dir)
    except (OSError, sqlite3.Error) as exc:
        found.state_error = str(exc)
    if found.running:  # only a running daemon's status on the broker says anything
        found.status, found.broker_error = asyncio.run(retained_status(settings, timeout))
    return found


async def retained_status(settings: Settings, wait_s: float) -> tuple[dict[str, Any] | None, str | None]:
    """The retained status message, and why it could not be read (None: read, or none is retained)."""
    connected = False
    try:
        async with asyncio.timeout(wait_s):
            async with make_client(
                settings.mqtt, client_id=default_client_id("status"), clean_session=True, protocol="3.1.1"
            ) as client:
                connected = True
                await client.subscribe(status_topic(settings.mqtt.topic_prefix), qos=1)
                async for message in client.messages:
                    return _status_of(message.payload), None
    except TimeoutError:
        pass
    except aiomqtt.MqttError as exc:
        return None, describe_error(exc)
    except ValueError as exc:  # a password file that cannot be used
        return None, str(exc)
    return None, None if connected else f"no answer within {wait_s:g} s"


def _status_of(payload: object) -> dict[str, Any] | None:
    """A retained status as this command can show it: anyone allowed to publish there may have written it,
    so anything but a JSON object is no status, ``counters`` must be an object, and text is made safe
    for the terminal."""
    try:
        doc = json.loads(payload) if isinstance(payload, bytes | str) else None
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    if not isinstance(doc.get("counters", {}), dict):
        doc.pop("counters")
    return {key: safe_text(value, one_line=True) if isinstance(value, str) else value for key, value in doc.items()}


def _figures(part: object) -> dict[str, int | float]:
    """The numbers of a status part, by their plain names (the rest of a hostile status is not shown)."""
    if not isinstance(part, dict):
        return {}
    return {
        str(name): value
        for name, value in part.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and str(name).replace("_", "").isalpha()
    }


def _broker_connected(found: Findings) -> bool | None:
    if found.broker_error is not None:
        return False
    if found.status is None:
        return None
    return found.status.get("state") == "online" and found.status.get("counters", {}).get("broker_connected", True)


def verdict(found: Findings, now: float, max_age: float) -> int:
    """The exit code, with the reasons for anything but OK appended to ``found.reasons``. Pure."""
    if found.running is None or (found.running and found.state_error is not None):
        found.reasons.append(f"cannot read the state folder: {found.state_error}")
        return UNKNOWN
    if not found.running:
        found.reasons.append("no daemon holds the state folder")
        return NOT_RUNNING
    connected = _broker_connected(found)
    if found.broker_error is not None:
        found.reasons.append(f"broker unreachable from here: {found.broker_error}")
    elif connected is None:
        found.reasons.append("no status on the status topic: the daemon has not reached the broker")
    elif not connected:
        found.reasons.append(f"the daemon is not connected to the broker ({found.status_reason()})")
    oldest = found.state.oldest_pending_at if found.state else None
    if oldest is not None and now - oldest > max_age:
        found.reasons.append(f"the oldest message has waited {now - oldest:.0f} s for the broker (over {max_age:g} s)")
    if found.status is not None and found.status.get("reload") == "failed":
        found.reasons.append(f"the last watchlist reload failed: {found.status.get('reload_reason', '')}")
    return DEGRADED if found.reasons else OK


def _when(epoch: float | None, now: float) -> str:
    if epoch is None:
        return "never"
    at = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return f"{at} ({now - epoch:.0f} s ago)"


def render(found: Findings, code: int, settings: Settings, now: float) -> str:
    """The readable report: one line per part, then the verdict and its reasons."""
    status = found.status or {}
    if found.running:
        since = f", since {status['started_at']}" if status.get("started_at") else ""
        daemon = f"running (pid {found.pid}{since}, version {status.get('version', '?')})"
    else:
        daemon = "cannot tell" if found.running is None else "not running"
    lines = [f"daemon:       {daemon}"]
    if found.running:
        broker = {True: "connected", False: "not connected", None: "unknown"}[_broker_connected(found)]
        lines.append(f"broker:       {broker} ({settings.mqtt.host}:{settings.mqtt.port})")
    if found.state is not None:
        state = found.state
        oldest = f", oldest {now - state.oldest_pending_at:.0f} s old" if state.oldest_pending_at else ""
        lines.append(f"outbox:       {state.outbox_depth} waiting{oldest}")
        lines.append(f"last article: {_when(state.last_article_at, now)}")
        counts = ", ".join(f"{n} {name}" for name, n in sorted(state.counts.items()))
        lines.append(f"articles:     {counts or 'none'}")
    cluster = _figures(status.get("cluster"))
    if cluster:
        lines.append("cluster:      " + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in cluster.items()))
    rate = _figures(status.get("counters")).get("articles_per_second")
    if rate is not None:
        lines.append(f"rate:         {rate} articles/s over the last minute")
    if "publish_failures" in status.get("counters", {}):
        lines.append(f"publishing:   {status['counters']['publish_failures']} failed batches since start")
    if found.running:
        reload = status.get("reload")
        lines.append(
            f"reload:       {reload or 'none since start'}" + (f" at {status['reloaded_at']}" if reload else "")
        )
    lines.append(f"status:       {VERDICTS[code]}")
    lines.extend(f"  - {reason}" for reason in found.reasons)
    return "\n".join(lines)


def as_json(found: Findings, code: int, now: float) -> dict[str, Any]:
    state = found.state
    return {
        "status": VERDICTS[code],
        "exit_code": code,
        "reasons": found.reasons,
        "running": found.running,
        "pid": int(found.pid) if found.pid and found.pid.isdigit() else None,
        "broker_connected": _broker_connected(found),
        "outbox_depth": state.outbox_depth if state else None,
        "outbox_oldest_age_seconds": round(now - state.oldest_pending_at, 1)
        if state and state.oldest_pending_at
        else None,
        "last_article_at": state.last_article_at if state else None,
        "counts": state.counts if state else None,
        "reload": (found.status or {}).get("reload"),
        "status_topic": found.status,
    }


def run_status(settings: Settings, *, json_output: bool, timeout: float, max_age: float) -> int:
    """Entry point of ``monitor status``: the exit code is the verdict."""
    found = gather(settings, timeout)
    now = time.time()
    code = verdict(found, now, max_age)
    print(
        json.dumps(as_json(found, code, now), ensure_ascii=False) if json_output else render(found, code, settings, now)
    )
    return code

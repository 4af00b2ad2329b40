"""``monitor run``: the checks before the daemon starts (broker credentials and TLS files, the
watchlists, one daemon per state folder, a sound state database on a disk with room), the embedded
quickstart broker, and the exit codes (0 a clean stop, 1 a part failed, 2 unusable settings or state)."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import structlog

from monitor import events
from monitor.config import Settings
from monitor.daemon import Daemon
from monitor.engine import Engine, WatchlistError, load_engine
from monitor.signals import HAS_SIGHUP
from monitor.state import StateError, StateLock, open_state

log = structlog.get_logger("monitor.daemon")


def run_daemon(
    settings: Settings, *, embedded_broker: bool = False, config_path: Path | None = None, rebuild_state: bool = False
) -> int:
    """Entry point of ``monitor run``: exit code 0 on a clean stop, 1 when a part failed, 2 on unusable
    watchlists, credentials or state (``rebuild_state``: start afresh if the state database is lost)."""
    from monitor.brokercheck import check_broker_settings

    # until the loop handles it, a SIGHUP (an eager `systemctl reload`) must not kill the daemon: the
    # watchlists are being loaded fresh anyway
    if HAS_SIGHUP:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    label = str(config_path or "<defaults>")
    findings = [] if embedded_broker or settings.mqtt.embedded else check_broker_settings(settings.mqtt, label)
    for finding in findings:
        (log.error if finding.level == "error" else log.warning)(events.BROKER_SETTINGS, problem=str(finding))
    if any(f.level == "error" for f in findings):
        return 2
    try:
        engine = load_engine(settings.watchlists.paths)
    except WatchlistError as exc:
        for problem in exc.problems:
            log.error(events.INVALID_WATCHLIST, problem=str(problem))
        return 2
    lock = StateLock(settings.state.dir)
    try:
        if not lock.acquire():
            log.error(events.STATE_FOLDER_IN_USE, state=str(settings.state.dir), pid=lock.holder())
            return 2
        open_state(settings.state.dir, rebuild=rebuild_state)
        return asyncio.run(_main(settings, engine, embedded_broker or settings.mqtt.embedded, config_path))
    except StateError as exc:
        exc.log()
        return 2
    finally:
        lock.release()


async def _main(settings: Settings, engine: Engine, embedded_broker: bool, config_path: Path | None = None) -> int:
    broker = None
    if embedded_broker:
        from monitor.embedded_broker import EmbeddedBrokerError, start_embedded_broker

        try:
            broker = await start_embedded_broker(settings.mqtt.host, settings.mqtt.port)
        except EmbeddedBrokerError as exc:
            log.error("embedded broker failed", problem=str(exc))
            return 2
        if broker is not None:  # amqtt speaks MQTT 3.1.1 only; a broker found on the port gets MQTT 5 if it can
            settings = settings.model_copy(update={"mqtt": settings.mqtt.model_copy(update={"protocol": "3.1.1"})})
    try:
        started = time.monotonic()
        daemon = Daemon(settings, engine, config_path)
        log.debug("daemon built", took_s=round(time.monotonic() - started, 3))
        return await daemon.run()
    finally:
        if broker is not None:
            await broker.shutdown()

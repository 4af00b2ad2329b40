"""An in-process MQTT 3.1.1 broker (amqtt) for a one-machine quickstart. Not for production: it keeps
nothing on disk and has no authentication; point the daemon at Mosquitto instead (see README)."""

from __future__ import annotations

import logging
from typing import Any

import structlog

log = structlog.get_logger("monitor.embedded_broker")


class EmbeddedBrokerError(Exception):
    """The embedded broker could not start (typically: the port is already taken by another broker)."""


async def start_embedded_broker(host: str, port: int) -> Any:
    from amqtt.broker import Broker
    from amqtt.errors import BrokerError

    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
    )
    quiet = logging.getLogger("amqtt.broker")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # its own traceback would repeat the one line we log
    try:
        await broker.start()
    except BrokerError as exc:
        raise EmbeddedBrokerError(
            f"cannot start the embedded broker on {host}:{port} ({exc.__cause__ or exc}); "
            "is another broker running there? Then drop --embedded-broker and use it, "
            "or choose another port with MONITOR_MQTT__PORT"
        ) from exc
    finally:
        quiet.setLevel(level)
    log.warning("embedded MQTT broker started (quickstart only, not for production)", host=host, port=port)
    return broker

"""An in-process MQTT 3.1.1 broker (amqtt) for a one-machine quickstart. Not for production: it keeps
nothing on disk and has no authentication; point the daemon at Mosquitto instead (see README)."""

from __future__ import annotations

from typing import Any

import structlog

log = structlog.get_logger("monitor.embedded_broker")


async def start_embedded_broker(host: str, port: int) -> Any:
    from amqtt.broker import Broker

    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
    )
    await broker.start()
    log.warning("embedded MQTT broker started (quickstart only, not for production)", host=host, port=port)
    return broker

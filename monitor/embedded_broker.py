"""An in-process MQTT 3.1.1 broker (amqtt) for a one-machine quickstart. Not for production: it keeps
nothing on disk and has no authentication; point the daemon at Mosquitto instead (see README).

When its address is already taken by an MQTT broker (a host that runs Mosquitto), the quickstart uses
that broker instead of failing."""

from __future__ import annotations

import logging
from typing import Any

import structlog
from amqtt.plugins.authentication import AnonymousAuthPlugin
from amqtt.session import Session

from monitor.mqtt import broker_answers

log = structlog.get_logger("monitor.embedded_broker")

#: how long the embedded broker keeps the session of a subscriber that went away (``monitor tail --client-id``)
SESSION_EXPIRY_S = 24 * 3600


class EmbeddedBrokerError(Exception):
    """The embedded broker could not start, and no MQTT broker answers on its address."""


class OpenSessions(AnonymousAuthPlugin):  # type: ignore[misc]  # amqtt ships no types
    """Anyone may connect, as with amqtt's anonymous plugin, but a persistent session keeps the messages
    that arrive while its subscriber is away: amqtt drops them for clients it marks anonymous."""

    async def authenticate(self, *, session: Session) -> bool:
        allowed = await super().authenticate(session=session)
        session.is_anonymous = False
        return bool(allowed)


async def start_embedded_broker(host: str, port: int) -> Any | None:
    """The started broker; None when an MQTT broker already listens there (the daemon then uses it)."""
    from amqtt.broker import Broker
    from amqtt.errors import BrokerError

    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            "session_expiry_interval": SESSION_EXPIRY_S,
            "plugins": {f"{__name__}.{OpenSessions.__name__}": {"allow_anonymous": True}},
        }
    )
    quiet = logging.getLogger("amqtt.broker")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # its own traceback would repeat the one line we log
    try:
        await broker.start()
    except BrokerError as exc:
        if await broker_answers(host, port):
            log.warning(f"an MQTT broker already listens on {host}:{port}; using it, not starting the embedded one")
            return None
        raise EmbeddedBrokerError(
            f"cannot start the embedded broker on {host}:{port} ({exc.__cause__ or exc}) and no MQTT broker "
            "answers there; choose another port with MONITOR_MQTT__PORT"
        ) from exc
    finally:
        quiet.setLevel(level)
    log.warning("embedded MQTT broker started (quickstart only, not for production)", host=host, port=port)
    return broker

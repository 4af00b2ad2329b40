"""The broker client: one factory for every connection the product makes, its TLS, its error texts, its backoff.

aiomqtt 2.x resolves ``publish`` on any PUBACK and drops its reason code. Under MQTT 3.1.1 a broker
that denies a publish by ACL (Mosquitto does) still acknowledges it, so the refusal is invisible and
the alert would leave the outbox unsent. MQTT v5 puts the refusal in the PUBACK (0x87 Not
authorized, 0x97 Quota exceeded, ...): ``BrokerClient`` raises ``PublishRefused`` on it.

aiomqtt also notices a lost connection only in the call that next uses it, and keeps the reason in a
future nobody reads (asyncio then logs "Future exception was never retrieved" on every disconnect):
``BrokerClient`` raises at once in whatever waits on the connection, and reads that reason when torn down.
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
import ssl
from collections.abc import Awaitable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import aiomqtt
import paho.mqtt.client as paho
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from monitor.config import MqttSettings, read_password
from monitor.tls import verifying_context

#: the product's name, first in the client ids it makes up (``newsmon-<random>``)
CLIENT_ID_PREFIX = "newsmon"
#: the longest pause between connection attempts once the broker has been reached: the outage of a broker
#: that worked is expected to end, and a longer pause is how long the daemon stays away after it does
RECONNECT_CAP_S = 5.0
#: MQTT versions, as ``mqtt.protocol`` spells them
Protocol = Literal["5", "3.1.1"]
_VERSIONS = {"5": aiomqtt.ProtocolVersion.V5, "3.1.1": aiomqtt.ProtocolVersion.V311}


def reason_text(rc: int | ReasonCode | None) -> str:
    """``Not authorized (reason code 0x87)``: the broker's words and the number to look up."""
    if isinstance(rc, ReasonCode):
        return f"{rc.getName()} (reason code 0x{rc.value:02X})"
    if isinstance(rc, int):
        return f"{paho.error_string(rc)} (code {rc})"
    return "unknown reason"


class PublishRefused(aiomqtt.MqttCodeError):
    """The broker acknowledged a publish with a failure reason code: it did not take the message."""

    def __init__(self, rc: ReasonCode, topic: str) -> None:
        super().__init__(rc, f"broker refused the publish to {topic}")
        self.topic = topic

    def __str__(self) -> str:
        return f"broker refused the publish to {self.topic}: {reason_text(self.rc)}"


class BrokerClient(aiomqtt.Client):
    """aiomqtt's client that sees refused publishes (MQTT v5) and a lost connection as soon as it happens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refusals: dict[int, ReasonCode] = {}
        self._last_error = ""
        self._client.on_log = self._on_paho_log

    async def __aenter__(self) -> BrokerClient:
        try:
            await super().__aenter__()
        except BaseException:
            self._read_disconnection()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._read_disconnection()
        await super().__aexit__(exc_type, exc, tb)

    def _read_disconnection(self) -> None:
        """The reason of a lost connection reached the caller as the error it got; asyncio need not log it again."""
        if self._disconnected.done() and not self._disconnected.cancelled():
            self._disconnected.exception()

    def raise_if_lost(self) -> None:
        """Raise ``MqttError`` (with the broker's reason) if the connection has ended."""
        if not self._disconnected.done():
            return
        cause = None if self._disconnected.cancelled() else self._disconnected.exception()
        reason = reason_text(cause.rc) if isinstance(cause, aiomqtt.MqttCodeError) else str(cause or "closed")
        raise aiomqtt.MqttError(f"connection to the broker lost: {reason}") from None  # the reason is in the text

    async def wait_unless_lost(self, awaitable: Awaitable[Any], timeout: float | None) -> bool:  # noqa: ASYNC109
        """Await ``awaitable`` for at most ``timeout`` s (False when it ran out), raising at once if the
        connection is lost meanwhile: a dead connection must not wait for the next publish, or a timeout, to be seen."""
        waiter = asyncio.ensure_future(awaitable)
        try:
            done, _ = await asyncio.wait(
                {waiter, self._disconnected}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
        if waiter in done:
            return True
        self.raise_if_lost()
        return False

    def _on_paho_log(self, client: paho.Client, userdata: Any, level: int, message: str) -> None:
        if level == paho.MQTT_LOG_ERR:
            self._last_error = message

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None = None,
    ) -> None:
        # aiomqtt ignores a connection lost before CONNACK and times out after 10 s with no reason; a broker
        # that rejects the client certificate under TLS 1.3 does just that. Fail the connect now, with paho's error.
        if not self._connected.done():
            reason = self._last_error or f"connection closed by the broker ({reason_code})"
            self._connected.set_exception(aiomqtt.MqttError(f"connection closed during connect: {reason}"))
            return
        super()._on_disconnect(client, userdata, flags, reason_code, properties)

    def _on_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason_code: ReasonCode, properties: Properties
    ) -> None:
        if reason_code.is_failure:
            self._refusals[mid] = reason_code
        super()._on_publish(client, userdata, mid, reason_code, properties)

    async def publish(  # type: ignore[override]
        self,
        /,
        topic: str,
        payload: aiomqtt.types.PayloadType = None,
        qos: int = 0,
        retain: bool = False,
        properties: Properties | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (the signature callers know from aiomqtt)
    ) -> None:
        # aiomqtt's publish, plus a look at the reason code its confirmation event does not carry, and an
        # end as soon as the connection is lost (not after the timeout)
        self.raise_if_lost()
        info = self._client.publish(topic, payload, qos, retain, properties)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise aiomqtt.MqttCodeError(info.rc, "Could not publish message")
        try:
            if not info.is_published():
                confirmation = asyncio.Event()
                with self._pending_call(info.mid, confirmation, self._pending_publishes):
                    limit = self.timeout if timeout is None else timeout
                    if not await self.wait_unless_lost(confirmation.wait(), None if limit == math.inf else limit):
                        raise aiomqtt.MqttError("Operation timed out")
            refused = self._refusals.get(info.mid)
        finally:
            self._refusals.pop(info.mid, None)
        if refused is not None:
            raise PublishRefused(refused, topic)


@dataclass
class Backoff:
    """Exponential backoff with full jitter, capped: a dead broker costs a few connects a minute."""

    initial: float = 0.5
    cap: float = 30.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.initial * 2**self.attempt)
        self.attempt += 1
        return self.rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0

    def reached(self) -> None:
        """The peer answered: start short again, and from now on never pause longer than ``RECONNECT_CAP_S``."""
        self.attempt = 0
        self.cap = min(self.cap, RECONNECT_CAP_S)


def tls_context(settings: MqttSettings) -> ssl.SSLContext | None:
    """The broker's verifying TLS context (``monitor.tls``), or None."""
    return verifying_context(settings.tls)


def default_client_id(role: str = "") -> str:
    """New and random for every process: two daemons never take over each other's session, and a reader
    cannot spell it from what the daemon publishes (the status shows host and pid)."""
    return "-".join(filter(None, (CLIENT_ID_PREFIX, role, secrets.token_hex(8))))


def protocol_unsupported(exc: BaseException) -> bool:
    """The broker refused the connection for its MQTT version (amqtt, the embedded broker, speaks only 3.1.1)."""
    if not isinstance(exc, MqttConnectError):
        return False
    code = exc.rc.value if isinstance(exc.rc, ReasonCode) else exc.rc
    return code in (0x84, paho.CONNACK_REFUSED_PROTOCOL_VERSION)


def make_client(
    settings: MqttSettings,
    *,
    client_id: str,
    will: aiomqtt.Will | None = None,
    protocol: Protocol | None = None,
    **kwargs: Any,
) -> BrokerClient:
    """One configured client (credentials, TLS, will); shared by the daemon, ``monitor backfill`` and ``monitor tail``.

    It speaks ``mqtt.protocol`` unless told otherwise: a subscriber that needs ``clean_session`` asks for 3.1.1.
    """
    return BrokerClient(
        settings.host,
        settings.port,
        identifier=client_id,
        username=settings.username,
        password=read_password(settings),
        tls_context=tls_context(settings),
        keepalive=settings.keepalive,
        will=will,
        timeout=10,
        protocol=_VERSIONS[protocol or settings.protocol],
        **kwargs,
    )


async def broker_answers(host: str, port: int, timeout: float = 2.0) -> bool:  # noqa: ASYNC109
    """Whether an MQTT broker listens there: it answers a CONNECT with a CONNACK, even a refusal; a bare TCP
    connect cannot tell it from any other program on the port."""
    client = BrokerClient(host, port, identifier=default_client_id("probe"), timeout=timeout)
    try:
        async with client:
            return True
    except MqttConnectError:
        return True  # it refused us (credentials, version), but it speaks MQTT
    except aiomqtt.MqttError:
        return False


def describe_error(exc: BaseException) -> str:
    """A one-line reason for an MQTT failure, with the broker's reason code when there is one."""
    if isinstance(exc, PublishRefused):
        return str(exc)
    if isinstance(exc, MqttConnectError):
        return f"broker refused the connection: {reason_text(exc.rc)}"
    if isinstance(exc, aiomqtt.MqttCodeError):
        return f"{exc} ({reason_text(exc.rc)})"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError) or "[SSL" in str(exc):
        # aiomqtt re-raises TLS failures as a plain MqttError carrying only the ssl message
        return f"TLS handshake failed (no fallback to plain TCP): {exc}"
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause) and str(cause) not in str(exc):
        return f"{exc}: {cause}"
    return str(exc) or type(exc).__name__

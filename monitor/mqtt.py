"""The broker client: one factory for every connection the product makes, its TLS, its error texts, its backoff.

aiomqtt 2.x resolves ``publish`` on any PUBACK and drops its reason code. Under MQTT 3.1.1 a broker
that denies a publish by ACL (Mosquitto does) still acknowledges it, so the refusal is invisible and
the alert would leave the outbox unsent. MQTT v5 puts the refusal in the PUBACK (0x87 Not
authorized, 0x97 Quota exceeded, ...): ``AckCheckingClient`` speaks v5 and raises ``PublishRefused`` on it.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from monitor.config import MqttSettings, read_password

#: the product's name, first in the client ids it makes up (``newsmon-<host>-<pid>``)
CLIENT_ID_PREFIX = "newsmon"


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


class AckCheckingClient(aiomqtt.Client):
    """MQTT v5 client: ``publish`` raises ``PublishRefused`` when the PUBACK carries a failure code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["protocol"] = aiomqtt.ProtocolVersion.V5
        super().__init__(*args, **kwargs)
        self._refusals: dict[int, ReasonCode] = {}
        self._last_error = ""
        self._client.on_log = self._on_paho_log

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
        # aiomqtt's publish, plus a look at the reason code its confirmation event does not carry
        info = self._client.publish(topic, payload, qos, retain, properties)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise aiomqtt.MqttCodeError(info.rc, "Could not publish message")
        try:
            if not info.is_published():
                confirmation = asyncio.Event()
                with self._pending_call(info.mid, confirmation, self._pending_publishes):
                    await self._wait_for(confirmation.wait(), timeout=timeout)
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


def tls_context(settings: MqttSettings) -> ssl.SSLContext | None:
    """Verifying TLS context (CA file or the system store, hostname checked, TLS 1.2+), or None."""
    if settings.tls is None:
        return None
    ctx = ssl.create_default_context(cafile=str(settings.tls.ca_file) if settings.tls.ca_file else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.tls.cert_file is not None:
        key = str(settings.tls.key_file) if settings.tls.key_file else None
        ctx.load_cert_chain(str(settings.tls.cert_file), key, password=_no_passphrase)
    return ctx


def _no_passphrase() -> str:
    """A daemon cannot answer OpenSSL's passphrase prompt: an encrypted key is a clear error instead."""
    raise ValueError("the client key is encrypted; the daemon needs an unencrypted key readable only by its user")


def default_client_id() -> str:
    """Unique per host and process, so two daemons never take over each other's session."""
    return f"{CLIENT_ID_PREFIX}-{socket.gethostname()}-{os.getpid()}"


def make_client(
    settings: MqttSettings,
    *,
    client_id: str,
    will: aiomqtt.Will | None = None,
    client_cls: type[aiomqtt.Client] | None = None,
    **kwargs: Any,
) -> aiomqtt.Client:
    """One configured client (credentials, TLS, will); shared by the daemon and ``monitor tail``.

    By default an MQTT v5 client that sees refused publishes (``mqtt.protocol = "5"``); a subscriber
    that needs ``clean_session`` passes ``client_cls=aiomqtt.Client`` (MQTT 3.1.1).
    """
    if client_cls is None:
        client_cls = AckCheckingClient if settings.protocol == "5" else aiomqtt.Client
    return client_cls(
        settings.host,
        settings.port,
        identifier=client_id,
        username=settings.username,
        password=read_password(settings),
        tls_context=tls_context(settings),
        keepalive=settings.keepalive,
        will=will,
        timeout=10,
        **kwargs,
    )


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

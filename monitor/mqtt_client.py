"""An aiomqtt client whose QoS 1 publish fails when the broker refuses the message.

aiomqtt 2.x resolves ``publish`` on any PUBACK and drops its reason code. Under MQTT 3.1.1 a broker
that denies a publish by ACL (Mosquitto does) still acknowledges it, so the refusal is invisible and
the alert would leave the outbox unsent. MQTT v5 puts the refusal in the PUBACK (0x87 Not
authorized, 0x97 Quota exceeded, ...): this client speaks v5 and raises ``PublishRefused`` on it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode


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

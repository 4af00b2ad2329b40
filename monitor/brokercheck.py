"""Checks of the broker credentials and TLS files, run once before the daemon starts and by ``monitor check``.

A missing or unreadable file is a clear error at start, not a traceback at the first connect; a
permission warning is given once here, not on every reconnect. Messages name files, never contents.
"""

from __future__ import annotations

import ssl
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from monitor.config import MqttSettings, PasswordFileError, read_password
from monitor.mqtt import tls_context

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass(frozen=True)
class Finding:
    level: Literal["error", "warning"]
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.key}: {self.message}"


def check_broker_settings(mqtt: MqttSettings) -> list[Finding]:
    """Everything wrong (errors) or risky (warnings) about how the daemon will authenticate to the broker."""
    findings: list[Finding] = []
    has_password = mqtt.password_file is not None or mqtt.password is not None
    if has_password and not mqtt.username:
        findings.append(Finding("error", "mqtt.username", "a password is configured but no username to send it with"))
    if mqtt.password_file is not None:
        try:
            read_password(mqtt)
        except PasswordFileError as exc:
            findings.append(Finding("error", "mqtt.password_file", str(exc)))
        else:
            findings.extend(_too_open("mqtt.password_file", mqtt.password_file))
    if mqtt.tls is not None:
        findings.extend(_tls_findings(mqtt))
    elif has_password and mqtt.host not in LOOPBACK:
        findings.append(
            Finding("warning", "mqtt.tls", f"the password goes to {mqtt.host} unencrypted: configure [mqtt.tls]")
        )
    if mqtt.protocol != "5":
        findings.append(
            Finding("warning", "mqtt.protocol", "MQTT 3.1.1 cannot see a publish refused by the broker's ACL")
        )
    return findings


def _tls_findings(mqtt: MqttSettings) -> list[Finding]:
    assert mqtt.tls is not None
    tls = mqtt.tls
    findings: list[Finding] = []
    if tls.key_file is not None and tls.cert_file is None:
        findings.append(Finding("error", "mqtt.tls.key_file", "a client key needs mqtt.tls.cert_file too"))
    for key, path in (("mqtt.tls.ca_file", tls.ca_file), ("mqtt.tls.cert_file", tls.cert_file)):
        if path is not None and (problem := _unreadable(path)):
            findings.append(Finding("error", key, f"{path}: {problem}"))
    if tls.key_file is not None:
        if problem := _unreadable(tls.key_file):
            findings.append(Finding("error", "mqtt.tls.key_file", f"{tls.key_file}: {problem}"))
        else:
            findings.extend(_too_open("mqtt.tls.key_file", tls.key_file))
    if not any(f.level == "error" for f in findings):
        try:
            tls_context(mqtt)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            reason = exc.reason if isinstance(exc, ssl.SSLError) and exc.reason else str(exc)
            findings.append(Finding("error", "mqtt.tls", f"cannot load the certificates or key: {reason}"))
    return findings


def _unreadable(path: Path) -> str | None:
    try:
        with path.open("rb"):
            return None
    except OSError as exc:
        return f"cannot read: {exc.strerror or type(exc).__name__}"


def _too_open(key: str, path: Path) -> list[Finding]:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return [
            Finding(
                "warning",
                key,
                f"{path} is open to group or others (mode {mode:04o}): chmod 600 it, owned by the daemon's user",
            )
        ]
    return []

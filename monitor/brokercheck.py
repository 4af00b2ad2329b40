"""Checks of the broker credentials and TLS files, run once before the daemon starts and by ``monitor check``.

A missing or unreadable file is a clear error at start, not a traceback at the first connect; a
permission warning is given once here, not on every reconnect. Messages name files, never contents.
"""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

from monitor.config import MqttSettings, PasswordFileError, read_password
from monitor.mqtt import tls_context
from monitor.problems import Problem

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def check_broker_settings(mqtt: MqttSettings, file: str) -> list[Problem]:
    """Everything wrong (errors) or risky (warnings) about how the daemon will authenticate to the broker.

    `file` is where the settings came from (the config file, or `<defaults>`).
    """
    problems: list[Problem] = []
    has_password = mqtt.password_file is not None or mqtt.password is not None
    if has_password and not mqtt.username:
        problems.append(Problem(file, "mqtt.username", "a password is configured but no username to send it with"))
    if mqtt.password_file is not None:
        try:
            read_password(mqtt)
        except PasswordFileError as exc:
            problems.append(Problem(file, "mqtt.password_file", str(exc)))
        else:
            problems.extend(_too_open(file, "mqtt.password_file", mqtt.password_file))
    if mqtt.tls is not None:
        problems.extend(_tls_problems(mqtt, file))
    elif has_password and mqtt.host not in LOOPBACK:
        message = f"the password goes to {mqtt.host} unencrypted: configure [mqtt.tls]"
        problems.append(Problem(file, "mqtt.tls", message, level="warning"))
    if mqtt.protocol != "5":
        message = "MQTT 3.1.1 cannot see a publish refused by the broker's ACL"
        problems.append(Problem(file, "mqtt.protocol", message, level="warning"))
    return problems


def _tls_problems(mqtt: MqttSettings, file: str) -> list[Problem]:
    assert mqtt.tls is not None
    tls = mqtt.tls
    problems: list[Problem] = []
    if tls.key_file is not None and tls.cert_file is None:
        problems.append(Problem(file, "mqtt.tls.key_file", "a client key needs mqtt.tls.cert_file too"))
    for key, path in (("mqtt.tls.ca_file", tls.ca_file), ("mqtt.tls.cert_file", tls.cert_file)):
        if path is not None and (reason := _unreadable(path)):
            problems.append(Problem(file, key, f"{path}: {reason}"))
    if tls.key_file is not None:
        if reason := _unreadable(tls.key_file):
            problems.append(Problem(file, "mqtt.tls.key_file", f"{tls.key_file}: {reason}"))
        else:
            problems.extend(_too_open(file, "mqtt.tls.key_file", tls.key_file))
    if not any(problem.level == "error" for problem in problems):
        try:
            tls_context(mqtt)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            reason = exc.reason if isinstance(exc, ssl.SSLError) and exc.reason else str(exc)
            problems.append(Problem(file, "mqtt.tls", f"cannot load the certificates or key: {reason}"))
    return problems


def _unreadable(path: Path) -> str | None:
    try:
        with path.open("rb"):
            return None
    except OSError as exc:
        return f"cannot read: {exc.strerror or type(exc).__name__}"


def _too_open(file: str, key: str, path: Path) -> list[Problem]:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        message = f"{path} is open to group or others (mode {mode:04o}): chmod 600 it, owned by the daemon's user"
        return [Problem(file, key, message, level="warning")]
    return []

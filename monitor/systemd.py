"""The systemd notify protocol, by hand: one datagram per state change to ``$NOTIFY_SOCKET``.

It is a few lines and needs no libsystemd. Without ``$NOTIFY_SOCKET`` (not run by systemd, or
``Type=simple``) every call does nothing, so the daemon can call it unconditionally.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Mapping

import structlog

log = structlog.get_logger("monitor.systemd")


def socket_address(value: str) -> str | bytes | None:
    """The address to send to: a path, or (leading ``@``) a Linux abstract name, which starts with NUL."""
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # vsock and other address families: not supported, treated as absent


def watchdog_interval(environ: Mapping[str, str], pid: int | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of ``WATCHDOG_USEC``), or None if the watchdog is off
    or meant for another process (``WATCHDOG_PID``)."""
    usec = environ.get("WATCHDOG_USEC", "")
    owner = environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if owner and owner != str(pid if pid is not None else os.getpid()):
        return None
    return int(usec) / 1_000_000 / 2


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds, the clock systemd expects with RELOADING=1."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def status_line(processed: int, pending: int, broker_connected: bool) -> str:
    """The one line `systemctl status` shows under the unit."""
    broker = "broker connected" if broker_connected else "broker unreachable, queuing"
    return f"{processed} articles processed, {pending} alerts pending, {broker}"


class Notifier:
    """Sends state lines to the service manager; a no-op when there is none."""

    def __init__(self, address: str | bytes | None) -> None:
        self.address = address
        self._sock: socket.socket | None = None
        self._last_status = ""
        if address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        return cls(socket_address(env.get("NOTIFY_SOCKET", "")))

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, *lines: str) -> bool:
        """Send one datagram of ``KEY=value`` lines; False (logged, never raised) if it could not go."""
        if self._sock is None or self.address is None:
            return False
        try:
            self._sock.sendto("\n".join(lines).encode(), self.address)
        except OSError as exc:
            log.warning("sd_notify failed", error=exc.strerror or str(exc))
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def reloading(self) -> bool:
        return self.send("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec()}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def status(self, text: str) -> bool:
        """Send ``STATUS=`` only when it changed: `systemctl status` needs no repetitions."""
        if text == self._last_status:
            return False
        self._last_status = text
        return self.send(f"STATUS={text}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


async def watchdog_loop(notifier: Notifier, interval: float) -> None:
    """Ping from the event loop itself: if the loop blocks, the pings stop and systemd restarts us."""
    while True:
        notifier.watchdog()
        await asyncio.sleep(interval)

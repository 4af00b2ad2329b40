"""The daemon's signals where they exist: SIGTERM and SIGINT stop it cleanly everywhere (Windows' event
loop has no signal handlers: there they go through ``signal.signal``); SIGHUP, which Windows lacks,
reloads the watchlists (elsewhere an edited watchlist file is what reloads)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

#: SIGHUP reloads the watchlists where it exists (not on Windows)
HAS_SIGHUP = hasattr(signal, "SIGHUP")


def on_stop_signals(loop: asyncio.AbstractEventLoop, stop: Callable[[str], None]) -> None:
    """Call ``stop(name)`` on the loop when SIGTERM or SIGINT arrives."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop, sig.name)
        except NotImplementedError:  # Windows' event loop
            signal.signal(sig, lambda n, _frame: loop.call_soon_threadsafe(stop, signal.Signals(n).name))


def on_reload_signal(loop: asyncio.AbstractEventLoop, reload: Callable[[], None]) -> None:
    if HAS_SIGHUP:
        loop.add_signal_handler(signal.SIGHUP, reload)


def no_reload_signal(loop: asyncio.AbstractEventLoop) -> None:
    if HAS_SIGHUP:
        loop.remove_signal_handler(signal.SIGHUP)

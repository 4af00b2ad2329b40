"""Where articles come from. A source emits paths of complete article files; the daemon reads them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

Emit = Callable[[Path], Awaitable[None]]


class Source(Protocol):
    async def run(self, emit: Emit) -> None:
        """Emit candidate paths until cancelled; the same path may be emitted more than once."""

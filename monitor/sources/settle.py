"""When a file found in a watched folder is complete: the settle rule, without any I/O.

A file written in place is complete once its size and modification time stayed unchanged for the settle
time. A file whose modification time is already older than that when it is found has not changed for that
long, and is read at once (the catch-up scan's rule, and the watchfiles backend's for every event). The
folder sources stat the files and feed the stamps in; this module only decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class Verdict(Enum):
    GONE = "gone"  # the file is gone again (a temp file): nothing to read
    WAITING = "waiting"  # changed since the last look, or not unchanged for long enough yet
    SETTLED = "settled"  # unchanged for the settle time: hand it on


#: a file's size and modification time (ns), as the settle rule compares them
Stamp = tuple[int, int]


@dataclass
class _Settling:
    stamp: Stamp | None  # None: not looked at yet
    since: float


class Settling:
    """The files waiting to settle, and since when each was last seen unchanged (monotonic seconds)."""

    def __init__(self, settle_s: float) -> None:
        self.settle_s = settle_s
        self._files: dict[Path, _Settling] = {}

    def __contains__(self, path: Path) -> bool:
        return path in self._files

    def __len__(self) -> int:
        return len(self._files)

    def paths(self) -> list[Path]:
        return list(self._files)

    def start(self, path: Path, now: float, stamp: Stamp | None = None) -> bool:
        """Wait for ``path`` to settle (its ``stamp`` now, when the caller has looked already: its clock
        starts now, not at the first look); False when it is waiting already (its clock is not reset: the
        next look sees whether it changed)."""
        if path in self._files:
            return False
        self._files[path] = _Settling(stamp, now)
        return True

    def drop(self, path: Path) -> None:
        self._files.pop(path, None)

    def look(self, path: Path, stamp: Stamp | None, now: float) -> Verdict:
        """What a look at ``path`` (its stamp now, None when gone) says; a settled or gone file is dropped."""
        state = self._files.get(path)
        if state is None or stamp is None:
            self._files.pop(path, None)
            return Verdict.GONE
        if stamp != state.stamp:
            self._files[path] = _Settling(stamp, now)
            return Verdict.WAITING
        if now - state.since >= self.settle_s:
            del self._files[path]
            return Verdict.SETTLED
        return Verdict.WAITING

    def tick(self) -> float:
        """How often to look at the waiting files: a few times per settle time, within 20-100 ms."""
        return max(0.02, min(0.1, self.settle_s / 3))


def is_fresh(mtime_ns: int, now_ns: int, settle_s: float) -> bool:
    """Written within the settle time: possibly still being written, so it must wait to settle."""
    return mtime_ns > now_ns - int(settle_s * 1e9)

"""What is wrong in what an operator wrote (config, broker settings, watchlists): one line each.

One type for all of them, so `monitor check`, the daemon's start and `monitor tail` print and log
them alike. Pure data: the engine uses it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Problem:
    #: the file it is in (or `<defaults>`, `<environment>`: where settings came from)
    file: str
    #: the setting or the watchlist key path (`mqtt.tls.key_file`, `rules[0].scope`)
    key: str
    message: str
    #: 1-based line in `file`, when known
    line: int | None = None
    #: a warning is a risk, not a fault: it is shown, and the daemon starts anyway
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        flag = "warning: " if self.level == "warning" else ""
        return f"{where}: {flag}{self.key}: {self.message}"

"""What is wrong in what an operator wrote (config, broker settings, watchlists): one line each.

One type for all of them, so `monitor check`, the daemon's start and `monitor tail` print and log
them alike, and the wording of pydantic's errors for them. Pure: the engine uses it too.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel


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


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """`; did you mean 'sentence'?` for a close choice (difflib), else nothing."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def validation_message(detail: Mapping[str, Any], model: type[BaseModel]) -> str:
    """One pydantic error as an operator reads it: an unknown key or a value outside its choices says
    which valid one is closest (`scope: sentense` -> did you mean 'sentence'?)."""
    if detail["type"] == "extra_forbidden":
        keys = [part for part in detail["loc"] if isinstance(part, str)]
        return "unknown key" + did_you_mean(keys[-1] if keys else "", _fields_at(model, keys[:-1]))
    message = str(detail["msg"])
    if detail["type"] == "literal_error" and isinstance(detail.get("input"), str):
        message += did_you_mean(detail["input"], re.findall(r"'([^']*)'", str(detail.get("ctx", {}).get("expected"))))
    return message


def _fields_at(model: type[BaseModel], keys: Sequence[str]) -> list[str]:
    """The field names of the model found by following `keys` from `model` (keys that are not fields,
    such as the names of a mapping's entries, are stepped over)."""
    current = model
    for key in keys:
        field = current.model_fields.get(key)
        if field is not None:
            current = _model_in(field.annotation) or current
    return list(current.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation (`list[Rule]`, `dict[str, Paradigm]`, `TlsSettings | None`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        if (found := _model_in(argument)) is not None:
            return found
    return None

"""structlog set-up: JSON lines for journald, console rendering on a terminal, and the stdlib loggers of
libraries (aiomqtt, asyncio) rendered the same way. Secrets are masked before rendering."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from monitor.keys import shown

SECRET_KEYS = re.compile(r"pass(word)?|secret|token|key$|credential", re.I)


def _mask_secrets(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Never log a password or key, whatever a caller passes."""
    for key in list(event):
        if key != "event" and SECRET_KEYS.search(key) and event[key] is not None:
            event[key] = "***"
    return event


def _show_undecodable(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A file name that is not UTF-8 (lone surrogates in a ``str``) is logged escaped, as everywhere else."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = shown(value)
        elif isinstance(value, list | tuple) and any(isinstance(item, str) for item in value):
            event[key] = [shown(item) if isinstance(item, str) else item for item in value]
    return event


def configure(level: str = "info", fmt: str = "auto", stream: Any = None) -> None:
    stream = stream or sys.stderr
    use_console = fmt == "console" or (fmt == "auto" and stream.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _mask_secrets,
        _show_undecodable,
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=stream.isatty())
        if use_console
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        # drops calls below the level before any processor runs (a debug line per alert costs nothing)
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # paho logs every reconnect attempt; the publisher logs outages itself, once
    logging.getLogger("mqtt").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("amqtt").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("transitions").setLevel(logging.WARNING)

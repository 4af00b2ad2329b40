"""structlog set-up: JSON lines for journald, console rendering on a terminal, and the stdlib loggers of
libraries (aiomqtt, asyncio) rendered the same way. Secrets are masked before rendering; on the journal
each line carries its syslog priority, so that `journalctl -p warning` filters."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping, MutableMapping
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


#: sd-daemon(3) priorities (SD_CRIT, SD_ERR, SD_WARNING, SD_INFO) from these logging levels up; SD_DEBUG below
_PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))


def is_journal(stream: Any, environ: Mapping[str, str] = os.environ) -> bool:
    """True when `stream` is the journal's stream: ``JOURNAL_STREAM`` (`device:inode`, set by systemd)
    names it. A child with its stderr redirected inherits the variable, so the file itself is compared."""
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        status = os.fstat(stream.fileno())
        return (status.st_dev, status.st_ino) == (int(device), int(inode))
    except (ValueError, OSError, AttributeError):  # unset or malformed, or a stream without a file
        return False


class _JournalPrefix(logging.Formatter):
    """Prefixes every line of a record with its priority (`<3>` for an error): journald strips it and
    files the line under that priority instead of the stream's default."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        priority = next((number for level, number in _PRIORITIES if record.levelno >= level), 7)
        return "\n".join(f"<{priority}>{line}" for line in self.inner.format(record).splitlines())


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
    handler.setFormatter(_JournalPrefix(formatter) if is_journal(stream) else formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # paho logs every reconnect attempt; the publisher logs outages itself, once
    logging.getLogger("mqtt").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("amqtt").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("transitions").setLevel(logging.WARNING)

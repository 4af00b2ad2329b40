"""Every MQTT topic the product forms or subscribes to, and what a valid level under the prefix is.

The layout under ``mqtt.topic_prefix``: ``<prefix>/alerts/<rule>[/<suffix>]`` (one message per rule
firing), ``<prefix>/errors`` (a file that could not be processed) and ``<prefix>/status`` (retained
online/offline). Pure string logic, so the engine can check a rule's topic suffix against it.
"""

from __future__ import annotations

#: what a rule's ``topic`` may add under its alert topic: plain levels (no wildcards, no spaces)
SUFFIX_PATTERN = r"^[A-Za-z0-9_-]*(/[A-Za-z0-9_-]+)*$"


def check_prefix(prefix: str) -> str:
    """The prefix, if it is plain topic levels; a wildcard or an empty level would change what subscribers get."""
    if not prefix or any(c in prefix for c in "+#\0") or prefix.startswith("/") or prefix.endswith("/"):
        raise ValueError("must be non-empty topic levels without '+', '#', NUL or a leading/trailing '/'")
    return prefix


def alert_topic(prefix: str, rule: str, suffix: str = "") -> str:
    """Where one rule's alerts go: a subscriber can pick rules by topic alone."""
    topic = f"{prefix}/alerts/{rule}"
    return f"{topic}/{suffix}" if suffix else topic


def alerts_filter(prefix: str) -> str:
    """The subscription that receives every alert of every rule."""
    return f"{prefix}/alerts/#"


def error_topic(prefix: str) -> str:
    return f"{prefix}/errors"


def status_topic(prefix: str) -> str:
    return f"{prefix}/status"

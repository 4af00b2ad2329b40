"""Article keys as text that every encoder takes, without losing a byte.

A folder's key is a file path, and Linux file names are bytes: a name that is not UTF-8 reaches Python as
a ``str`` with lone surrogates (``surrogateescape``), which SQLite, JSON and UTF-8 refuse. Here is the one
home of that fact: ``stored`` is the key as the database keeps it (the raw bytes, as a BLOB, when it is
not UTF-8: lossless, and never equal to a text key), ``loaded`` turns it back, and ``shown`` is the key for
logs, error records and alert payloads (undecodable bytes as ``\\xff``).
"""

from __future__ import annotations


def as_bytes(key: str) -> bytes:
    """The key's bytes as the file system has them (what an id over the key is computed on)."""
    try:
        return key.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no file name can produce: keep it, do not fail
        return key.encode("utf-8", "surrogatepass")


def stored(key: str) -> str | bytes:
    """What the database binds for ``key``: the text itself, or its bytes when it is not valid UTF-8."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return as_bytes(key)
    return key


def loaded(value: str | bytes) -> str:
    """The key that ``stored`` made ``value`` from."""
    return value if isinstance(value, str) else value.decode("utf-8", "surrogateescape")


def shown(key: str) -> str:
    """The key as valid text for people and payloads: undecodable bytes escaped (``h\\xffbad.txt``)."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return as_bytes(key).decode("utf-8", "backslashreplace")
    return key

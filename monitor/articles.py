"""Article model and parsing: bytes in, a titled text out, or an ArticleError saying why not.

Parsing is pure (bytes -> Article); reading a file safely is the file source's job.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

FORMATS = (".txt", ".md", ".json", ".html", ".htm")


class ArticleError(Exception):
    """An input that cannot be an article. ``reason`` is a short stable code for records and metrics."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(f"{reason}: {message}")


@dataclass(frozen=True, slots=True)
class Article:
    path: str
    sha256: str
    title: str
    #: what the engine tags: the title line, then the body; evidence spans index into this
    text: str
    url: str | None = None
    published_at: str | None = None
    source: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class FileStamp:
    """Identity of a file version without reading it: the rescan's cheap "seen already?" key."""

    path: str
    size: int
    mtime_ns: int
    #: changes with permissions and ownership too: a file made readable after a failed read is retried
    ctime_ns: int


def stamp_of(path: Path) -> FileStamp | None:
    try:
        st = path.lstat()
    except OSError:
        return None
    return FileStamp(str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read_file(path: Path, roots: Sequence[Path], max_bytes: int) -> bytes:
    """The bytes of a regular file under ``roots``, or an ArticleError saying why not.

    A symlink is read only if it resolves inside the watched folders: a watched folder must not
    become a way to read other files. FIFOs and devices are refused without opening them (an open
    FIFO would block), and the file is opened with O_NOFOLLOW so a link swapped in meanwhile is refused.
    What was opened is checked last, by the descriptor itself: a folder on the way that was swapped
    for a symlink (a rename race) cannot lead outside either.
    """
    real = path
    resolved_roots = [root.resolve() for root in roots]
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            try:
                real = path.resolve(strict=True)
            except RuntimeError as exc:  # Python reports symlink loops this way
                raise ArticleError("symlink-loop", "the symlink points at itself (loop)") from exc
            if not any(real.is_relative_to(root) for root in resolved_roots):
                raise ArticleError("symlink-outside", "the symlink points outside the watched folders")
            st = real.stat()
        if not stat.S_ISREG(st.st_mode):
            raise ArticleError("not-a-regular-file", f"not a regular file ({_file_kind(st.st_mode)})")
        if st.st_size > max_bytes:
            raise ArticleError("too-large", f"{st.st_size} bytes is over the limit of {max_bytes}")
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ArticleError("not-a-regular-file", "not a regular file")
            opened = Path(os.readlink(f"/proc/self/fd/{handle.fileno()}"))
            if not any(opened.is_relative_to(root) for root in resolved_roots):
                raise ArticleError("symlink-outside", "the path leads outside the watched folders (a symlinked folder)")
            data = handle.read(max_bytes + 1)
    except ArticleError:
        raise
    except FileNotFoundError as exc:
        raise ArticleError("vanished", "the file disappeared before it could be read") from exc
    except PermissionError as exc:
        raise ArticleError("unreadable", "no permission to read the file") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ArticleError("symlink-loop", "too many levels of symbolic links") from exc
        raise ArticleError("unreadable", exc.strerror or str(exc)) from exc
    if len(data) > max_bytes:
        raise ArticleError("too-large", f"the file grew over the limit of {max_bytes} bytes")
    return data


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a special file"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes) -> str:
    """UTF-8 (BOM optional) or UTF-16 with a BOM; anything else is rejected, never guessed."""
    if not data.strip():
        raise ArticleError("empty", "the file is empty")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ArticleError("invalid-encoding", f"broken UTF-16 at byte {exc.start}") from exc
    else:
        if b"\0" in data:
            raise ArticleError("binary", "the file contains NUL bytes (binary content)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ArticleError("invalid-encoding", f"not UTF-8 (byte {exc.start})") from exc
    if "\0" in text:
        raise ArticleError("binary", "the text contains NUL characters")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_article(path: str, data: bytes) -> Article:
    """Parse one article by its file extension."""
    suffix = PurePath(path).suffix.lower()
    if suffix not in FORMATS:
        raise ArticleError("unsupported-format", f"unsupported extension {suffix or '(none)'!r}")
    text = decode(data)
    digest = content_hash(data)
    if suffix == ".json":
        return _from_json(path, digest, text)
    if suffix in (".html", ".htm"):
        return _from_html(path, digest, text)
    if suffix == ".md":
        text = strip_markdown(text)
    return Article(path=path, sha256=digest, title=first_line(text), text=text)


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    raise ArticleError("empty", "the file has no text")


def _field(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ArticleError("malformed-json", f"field {name!r} must be a string")
    return value


def _from_json(path: str, digest: str, text: str) -> Article:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArticleError("malformed-json", f"line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except RecursionError:  # a hostile file of nested brackets must cost one article, not its whole batch
        raise ArticleError("malformed-json", "nested too deeply") from None
    if not isinstance(doc, dict):
        raise ArticleError("malformed-json", "the top level must be an object")
    title = (_field(doc, "title") or "").strip()
    body = (_field(doc, "body") or _field(doc, "text") or "").strip()
    if not title or not body:
        raise ArticleError("malformed-json", "needs a non-empty 'title' and 'body' (or 'text')")
    return Article(
        path=path,
        sha256=digest,
        title=title,
        text=f"{title}\n\n{body}",
        url=_field(doc, "url"),
        published_at=_field(doc, "published_at"),
        source=_field(doc, "source"),
        language=_field(doc, "language"),
    )


def _from_html(path: str, digest: str, text: str) -> Article:
    import trafilatura  # imported on first use: it is slow to import and most articles are text

    doc = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False, favor_precision=True, fast=True)
    body = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not body:
        raise ArticleError("no-main-text", "no main text found in the HTML page")
    title = (getattr(doc, "title", None) or "").strip()
    if title and body.startswith(title):
        body = body[len(title) :].lstrip()
    title = title or first_line(body)
    return Article(
        path=path,
        sha256=digest,
        title=title,
        text=f"{title}\n\n{body}",
        url=getattr(doc, "url", None),
        published_at=getattr(doc, "date", None),
        source=getattr(doc, "sitename", None),
        language=getattr(doc, "language", None),
    )


_MD_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^```.*?^```[ \t]*$", re.M | re.S), ""),  # fenced code
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links -> link text
    (re.compile(r"<[^>\n]+>"), ""),  # inline html tags
    (re.compile(r"^[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+\.[ \t]+)", re.M), ""),  # block markers
    (re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.M), ""),  # horizontal rules
    (re.compile(r"(\*\*|__|~~|`)(.+?)\1"), r"\2"),  # bold, strike, code
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),  # *emphasis*
)


def strip_markdown(text: str) -> str:
    """Markdown to plain text, keeping line structure (sentences end at line breaks)."""
    for pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    return text

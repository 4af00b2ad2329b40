"""Article model and parsing: bytes in, a titled text out, or an ArticleError saying why not.

Parsing is pure (bytes -> Article); reading a file safely is ``reading.py``'s job.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import PurePath
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


def content_hash(data: bytes) -> str:
    """An article's identity: the same bytes under any name or from any source are the same article."""
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

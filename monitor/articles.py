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
    return Article(path=path, sha256=digest, title=title_of(text), text=text)


#: a title longer than this is the first paragraph: cut at a sentence end before it
TITLE_MAX = 200
_MONTHS = (
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august september "
    "october november december जनवरी फरवरी फ़रवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर सितम्बर अक्टूबर नवंबर नवम्बर दिसंबर दिसम्बर"
)
#: words a date or time line is made of, besides numbers (`12 Jan 2026`, `Jul 13, 2025 3 hours ago`)
_DATE_WORDS = frozenset(
    (
        _MONTHS + " updated published posted last ago hour hours min mins minute minutes am pm ist gmt utc "
        "monday tuesday wednesday thursday friday saturday sunday on at अपडेट प्रकाशित घंटे मिनट पहले"
    ).split()
)
_BYLINE = re.compile(r"^(?:(?:written|edited|reported)\s+)?by\b|^(?:लेखक|रिपोर्ट|द्वारा)\s*[:ः-]", re.I)
_SENTENCE_END = re.compile(r"[।॥?!](?=\s|$)|(?<=\w\w)\.(?=\s|$)")


def _is_date(line: str) -> bool:
    words = [word for word in re.split(r"[\s,.:;/|()-]+", line.lower()) if word]
    return bool(words) and any(w.isdigit() for w in words) and all(w.isdigit() or w in _DATE_WORDS for w in words)


def _is_name(line: str) -> bool:
    """A short line of two or three capitalised words and nothing else: an author's name."""
    words = line.split()
    return 2 <= len(words) <= 3 and len(line) <= 40 and all(w[:1].isupper() and w.isalpha() for w in words)


def title_of(text: str) -> str:
    """The first line that is not a byline (`By: ...`, or a name right before a date) or a date line;
    a first paragraph taken for a title is cut at a sentence end (`TITLE_MAX`)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ArticleError("empty", "the file has no text")
    for index, line in enumerate(lines[:6]):
        followed_by_date = index + 1 < len(lines) and _is_date(lines[index + 1])
        if _BYLINE.search(line) or _is_date(line) or (_is_name(line) and followed_by_date):
            continue
        return _shortened(line)
    return _shortened(lines[0])


def _shortened(line: str) -> str:
    if len(line) <= TITLE_MAX:
        return line
    # the first sentence, unless it is a dateline (`प्योंगयांग।`, `MOSCOW.`)
    end = next((found.end() for found in _SENTENCE_END.finditer(line, 0, TITLE_MAX + 1) if found.end() >= 40), None)
    if end is not None:
        return line[:end].strip()
    cut = line.rfind(" ", 0, TITLE_MAX)
    return line[: cut if cut > 0 else TITLE_MAX].rstrip() + "…"


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
    title = title or title_of(body)
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

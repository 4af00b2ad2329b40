"""The daily digest as Markdown (``monitor digest --date D``): the day's stories by rule, most severe first,
with their counts and opening article. Titles and outlets are article text: hostile input, escaped so
that they stay text in any Markdown renderer."""

from __future__ import annotations

import re

from monitor.history import Digest, DigestStory

#: bidirectional controls: a title carrying them could reorder the text around it as shown
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: a title longer than this (characters) is cut, with an ellipsis
MAX_TITLE = 300

#: what Markdown (CommonMark, and the HTML it may carry) could read as markup
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&])")


def escape(text: str) -> str:
    """Plain text on one line, every character Markdown could take as markup backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join(_BIDI.sub("", text).split()))


def digest_markdown(digest: Digest) -> str:
    day = digest.day.isoformat()
    lines = [f"# Digest for {day}", ""]
    if not digest.alerts:
        return "\n".join([*lines, "No alerts.", ""])
    alerts = "1 alert" if digest.alerts == 1 else f"{digest.alerts} alerts"
    stories = "1 story" if digest.stories == 1 else f"{digest.stories} stories"
    lines += [f"{alerts} in {stories}.", ""]
    for rule, entries in digest.by_rule.items():
        lines += [f"## {escape(entries[0].rule_title)} (`{rule}`)", ""]
        lines += [_story_line(story) for story in entries]
        lines.append("")
    return "\n".join(lines)


def _story_line(story: DigestStory) -> str:
    opening = story.opening
    title = escape(_clamp(opening.title)) or "(untitled)"
    link = f"[{title}](<{opening.url}>)" if opening.url and _plain_url(opening.url) else title
    where = ", ".join(escape(part) for part in (opening.source, opening.published_at) if part)
    articles = "1 article" if story.articles == 1 else f"{story.articles} articles"
    outlets = "1 outlet" if story.outlets == 1 else f"{story.outlets} outlets"
    return f"- **{story.severity}** · {story.novelty} · {articles}, {outlets}: {link}" + (
        f" ({where})" if where else ""
    )


def _clamp(title: str) -> str:
    plain = " ".join(_BIDI.sub("", title).split())
    return plain if len(plain) <= MAX_TITLE else plain[: MAX_TITLE - 1] + "…"


def _plain_url(url: str) -> bool:
    """Only http(s) links, with nothing that could close the link (a `javascript:` URL stays text)."""
    return url.startswith(("https://", "http://")) and not re.search(r"[\s<>]", url)

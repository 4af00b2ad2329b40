"""Atom 1.0 feeds of a rule's alerts (``/feeds/<rule>.atom``): how many analysts already follow news.

Built with ``xml.etree`` so that every title and evidence sentence is escaped by the XML writer, never by hand.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from monitor.history import AlertEntry

ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM)
#: characters XML 1.0 cannot carry at all, escaped or not (an article may hold them)
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(text: str) -> str:
    return NOT_XML.sub("\ufffd", text)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def evidence_text(entry: AlertEntry) -> str:
    """The alert's evidence sentences, one after another (the feed entry's summary)."""
    evidence = entry.payload.get("evidence") or []
    parts = [str(ev.get("text", "")) for ev in evidence if isinstance(ev, dict)]
    return " … ".join(part for part in parts if part) or entry.title


def _entry(feed: ET.Element, entry: AlertEntry, base: str) -> None:
    item = _sub(feed, "entry")
    _sub(item, "id", f"urn:newsmon:alert:{entry.alert_id}")
    _sub(item, "title", f"[{entry.severity}] {entry.title}")
    _sub(item, "updated", _iso(entry.received_at))
    where = f"{base}/stories/{entry.story_id}" if entry.story_id else f"{base}/articles/{entry.article_id}"
    _sub(item, "link", href=where, rel="alternate", type="text/html")
    if entry.url and entry.url.startswith(("http://", "https://")):
        _sub(item, "link", href=entry.url, rel="related")
    if entry.source:
        author = _sub(item, "author")
        _sub(author, "name", entry.source)
    _sub(item, "category", term=entry.novelty, label=f"novelty: {entry.novelty}")
    _sub(item, "summary", evidence_text(entry), type="text")


def atom_feed(rule: str, title: str, entries: list[AlertEntry], base: str) -> bytes:
    """The feed document; ``base`` is the console's own address (links must be absolute)."""
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", f"urn:newsmon:feed:{rule}")
    _sub(feed, "title", f"newsmon: {title}")
    # a rule that has not fired yet: its feed is as new as now, not 1970
    newest = max((entry.received_at for entry in entries), default=datetime.now(UTC).timestamp())
    _sub(feed, "updated", _iso(newest))
    _sub(feed, "link", href=f"{base}/feeds/{rule}.atom", rel="self", type="application/atom+xml")
    _sub(feed, "link", href=f"{base}/?rule={rule}", rel="alternate", type="text/html")
    author = _sub(feed, "author")
    _sub(author, "name", "newsmon")
    _sub(feed, "generator", "newsmon")
    for entry in entries:
        _entry(feed, entry, base)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))

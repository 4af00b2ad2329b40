"""The Atom feed of a rule's alerts is valid Atom 1.0 whatever the article says."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from monitor.history import AlertEntry
from monitor.web.feeds import ATOM, atom_feed

NS = {"a": ATOM}
HOSTILE_TITLE = 'Pact <script>alert("x")</script> & "friends"\x07'


def entry(seq: int, title: str = "Pact signed", evidence: str = "Russia and North Korea signed a pact.") -> AlertEntry:
    payload: dict[str, Any] = {"evidence": [{"start": 0, "end": len(evidence), "text": evidence, "spans": []}]}
    return AlertEntry(
        seq=seq, alert_id=f"a{seq}", rule="russia-dprk-agreement", rule_title="Russia–DPRK agreement",
        severity="high", novelty="new", story_id=f"s{seq}", story_kind="new", story_outlets=1, article_id=seq,
        title=title, source="Outlet", url="javascript:alert(1)", lang="en", published_at=None,
        received_at=1_764_590_400.0 + seq, delivery="sent", reviewed=False, payload=payload,
    )  # fmt: skip


def test_the_feed_has_the_atom_elements_a_reader_needs() -> None:
    root = ET.fromstring(
        atom_feed("russia-dprk-agreement", "Russia–DPRK agreement", [entry(2), entry(1)], "http://h:1")
    )
    assert root.tag == f"{{{ATOM}}}feed"
    assert root.findtext("a:id", namespaces=NS) == "urn:newsmon:feed:russia-dprk-agreement"
    assert root.findtext("a:title", namespaces=NS) == "newsmon: Russia–DPRK agreement"
    assert root.findtext("a:updated", namespaces=NS) == "2025-12-01T12:00:02Z"
    entries = root.findall("a:entry", NS)
    assert [e.findtext("a:id", namespaces=NS) for e in entries] == ["urn:newsmon:alert:a2", "urn:newsmon:alert:a1"]
    first = entries[0]
    assert first.findtext("a:summary", namespaces=NS) == "Russia and North Korea signed a pact."
    assert first.findtext("a:updated", namespaces=NS) == "2025-12-01T12:00:02Z"
    links = [(link.get("rel"), link.get("href")) for link in first.findall("a:link", NS)]
    assert links == [("alternate", "http://h:1/stories/s2")]  # a javascript: url is never linked


def test_hostile_titles_and_control_characters_stay_escaped_text() -> None:
    data = atom_feed("r", "r", [entry(1, title=HOSTILE_TITLE, evidence="<img src=x onerror=alert(1)>\x00")], "http://h")
    assert b"<script>" not in data and b"<img" not in data
    root = ET.fromstring(data)  # well-formed: no control character left
    item = root.find("a:entry", NS)
    assert item is not None
    assert item.findtext("a:title", namespaces=NS) == '[high] Pact <script>alert("x")</script> & "friends"\ufffd'
    assert item.findtext("a:summary", namespaces=NS) == "<img src=x onerror=alert(1)>\ufffd"


def test_an_empty_feed_is_still_a_valid_feed_updated_now() -> None:
    root = ET.fromstring(atom_feed("r", "r", [], "http://h"))
    updated = datetime.fromisoformat(root.findtext("a:updated", namespaces=NS) or "")
    assert abs((datetime.now(UTC) - updated).total_seconds()) < 60  # not 1970: readers sort by it
    assert root.findall("a:entry", NS) == []

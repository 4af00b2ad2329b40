from __future__ import annotations

import codecs
import json
import os
from pathlib import Path

import pytest

from monitor.articles import ArticleError, parse_article, strip_markdown
from monitor.reading import read_file


def test_text_title_is_the_first_non_empty_line() -> None:
    article = parse_article("a.txt", b"\n\n  Moscow talks  \nBody line.\n")
    assert article.title == "Moscow talks"
    assert article.text.endswith("Body line.\n")


def test_utf8_bom_and_crlf_are_decoded() -> None:
    article = parse_article("a.txt", codecs.BOM_UTF8 + "शीर्षक\r\nपाठ\r\n".encode())
    assert article.title == "शीर्षक"
    assert "\r" not in article.text and not article.text.startswith("\ufeff")


def test_utf16_with_bom_is_decoded() -> None:
    article = parse_article("a.txt", "रूस\nपाठ".encode("utf-16"))
    assert article.title == "रूस"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.txt", b"", "empty"),
        ("a.txt", b"  \n\n", "empty"),
        ("a.txt", b"abc\x00def", "binary"),
        ("a.txt", b"caf\xe9 au lait", "invalid-encoding"),
        ("a.json", b"{not json", "malformed-json"),
        ("a.json", json.dumps({"title": "only a title"}).encode(), "malformed-json"),
        ("a.json", b"[1, 2]", "malformed-json"),
        ("a.pdf", b"%PDF-1.4", "unsupported-format"),
        ("a.html", b"<html><body><nav>menu</nav></body></html>", "no-main-text"),
    ],
)
def test_bad_content_is_rejected_with_a_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(ArticleError) as err:
        parse_article(name, data)
    assert err.value.reason == reason


def test_json_article_fields() -> None:
    doc = {
        "title": "Pact",
        "text": "Signed today.",
        "url": "https://x.test/a",
        "published_at": "2025-06-19",
        "source": "Wire",
    }
    article = parse_article("a.json", json.dumps(doc).encode())
    assert (article.title, article.url, article.published_at, article.source) == (
        "Pact",
        "https://x.test/a",
        "2025-06-19",
        "Wire",
    )
    assert article.text == "Pact\n\nSigned today."


def test_html_main_text_and_metadata_are_extracted() -> None:
    html = (
        "<html><head><title>Moscow and Pyongyang sign pact</title>"
        '<meta property="article:published_time" content="2025-06-19T10:00:00Z"></head>'
        "<body><nav>Home | World | Sport | Weather</nav><article><h1>Moscow and Pyongyang sign pact</h1>"
        "<p>Officials from both capitals signed a treaty on Wednesday after two days of talks in the city.</p>"
        "<p>The document covers trade, transport and a joint commission that meets every year.</p></article>"
        "<footer>Copyright and contact details</footer></body></html>"
    )
    article = parse_article("a.html", html.encode())
    assert article.title == "Moscow and Pyongyang sign pact"
    assert article.published_at == "2025-06-19"
    assert "signed a treaty" in article.text
    assert "Weather" not in article.text and "Copyright" not in article.text


def test_markdown_markup_is_stripped_but_lines_kept() -> None:
    text = strip_markdown("# Title\n\nSome **bold** and [a link](http://x.test) here.\n- item one\n")
    assert text == "Title\n\nSome bold and a link here.\nitem one\n"


def test_read_file_refuses_a_symlink_pointing_outside(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    (inbox / "link.txt").symlink_to(secret)
    with pytest.raises(ArticleError) as err:
        read_file(inbox / "link.txt", [inbox], 1000)
    assert err.value.reason == "symlink-outside"


def test_read_file_follows_a_symlink_inside_the_watched_folder(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("hello")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    assert read_file(tmp_path / "link.txt", [tmp_path], 1000) == b"hello"


def test_read_file_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(ArticleError) as err:
        read_file(tmp_path / "pipe.txt", [tmp_path], 1000)
    assert err.value.reason == "not-a-regular-file"


def test_read_file_reports_a_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    with pytest.raises(ArticleError) as err:
        read_file(tmp_path / "loop.txt", [tmp_path], 1000)
    assert err.value.reason == "symlink-loop"


def test_read_file_rejects_oversized_files(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes(b"x" * 2000)
    with pytest.raises(ArticleError) as err:
        read_file(tmp_path / "big.txt", [tmp_path], 1000)
    assert err.value.reason == "too-large"


BODY = "Russia and North Korea signed a new agreement on defence in Moscow on Friday.\n"


@pytest.mark.parametrize(
    "head",
    [
        "Asha Verma\n12 Jan 2026\n",  # a name, then a date
        "By: Ravi Kumar\nJul 13, 2025 3 hours ago\n",  # a byline, then a date with junk
        "Updated: 12 July 2025, 10:30 AM IST\n",
        "लेखक: राम प्रसाद\n12 जुलाई 2025\n",
    ],
)
def test_bylines_and_date_lines_are_not_the_title(head: str) -> None:
    article = parse_article("a.txt", f"{head}Moscow and Pyongyang sign pact\n\n{BODY}".encode())
    assert article.title == "Moscow and Pyongyang sign pact"
    assert article.text.startswith(head)  # the text is tagged as written: offsets do not move


def test_a_long_first_paragraph_taken_as_title_is_cut_at_a_sentence_end() -> None:
    first = "मास्को। " + "रूस और उत्तर कोरिया ने शुक्रवार को रक्षा पर एक नए समझौते पर हस्ताक्षर किए। " + "दोनों देशों ने कहा " * 20
    article = parse_article("a.txt", f"{first}\n\nMore.\n".encode())
    assert article.title == "मास्को। रूस और उत्तर कोरिया ने शुक्रवार को रक्षा पर एक नए समझौते पर हस्ताक्षर किए।"
    unbroken = "word " * 100
    title = parse_article("b.txt", f"{unbroken}\n".encode()).title
    assert len(title) <= 201 and title.endswith("word…")


def test_a_short_title_case_headline_without_a_date_after_it_stays_the_title() -> None:
    assert parse_article("a.txt", f"Putin Meets Kim\n\n{BODY}".encode()).title == "Putin Meets Kim"

"""The article message format on the stream: what a producer sends is what a worker reads, the id is the
body's hash (JetStream's de-duplication and the cluster's "processed once" rest on it), and a message in
another format is a clear error, never a guess."""

from __future__ import annotations

import pytest

from monitor.articles import content_hash
from monitor.cluster.messages import H_NAME, H_SCHEMA, MSG_ID, ArticleMessage, MessageError, parse

HINDI = "रूस और उत्तर कोरिया ने समझौते पर हस्ताक्षर किए।".encode()


def test_a_message_read_back_is_the_article_that_was_sent() -> None:
    sent = ArticleMessage("वायर/लेख 1.txt", HINDI, "ingest-2", 1_767_000_000.25, "2026-01-12T09:00:00+05:30")
    got = parse(sent.headers(), sent.data)
    assert got == sent
    assert got.raw().name == "वायर/लेख 1.txt" and got.raw().file_time == 1_767_000_000.25
    assert got.raw().published_at == "2026-01-12T09:00:00+05:30"
    assert parse(ArticleMessage("a.txt", HINDI, "h").headers(), HINDI).published_at is None  # optional


def test_the_message_id_is_the_bodys_content_hash_whatever_the_name() -> None:
    one = ArticleMessage("a.txt", HINDI, "h1")
    other = ArticleMessage("elsewhere/b.txt", HINDI, "h2")
    assert one.headers()[MSG_ID] == other.headers()[MSG_ID] == content_hash(HINDI)


def test_a_name_that_is_not_utf8_keeps_its_bytes_and_headers_stay_ascii() -> None:
    name = b"caf\xe9.txt".decode("utf-8", "surrogateescape")
    sent = ArticleMessage(name, b"Russia and North Korea", "h\u00e9st")
    headers = sent.headers()
    assert all(value.isascii() for value in headers.values())
    assert parse(headers, sent.data).name.encode("utf-8", "surrogateescape") == b"caf\xe9.txt"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({H_SCHEMA: "2"}, "Newsmon-Schema"),
        ({H_NAME: ""}, "no Newsmon-Name"),
        ({MSG_ID: "0" * 64}, "not the sha256"),
        ({"Newsmon-File-Time": "soon"}, "not a number"),
        ({"Newsmon-File-Time": "nan"}, "not a finite"),
        ({"Newsmon-Published-At": "yesterday"}, "not an ISO 8601"),
        ({"Newsmon-Published-At": "2026-01-12T09:00:00"}, "no time zone"),
    ],
)
def test_a_message_in_another_format_is_a_clear_error(change: dict[str, str], says: str) -> None:
    headers = {**ArticleMessage("a.txt", HINDI, "h").headers(), **change}
    with pytest.raises(MessageError, match=says):
        parse(headers, HINDI)


def test_a_message_without_headers_is_refused() -> None:
    with pytest.raises(MessageError, match="Newsmon-Schema"):
        parse(None, HINDI)

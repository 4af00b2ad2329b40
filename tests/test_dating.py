"""The article's own date: JSON `published_at`, else a byline or dateline, else the file's time."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from monitor.analysis import Job, Publishing, analyse
from monitor.articles import parse_article
from monitor.dating import article_time
from monitor.engine import load_engine
from monitor.reading import read_file_timed

#: 14 January 2026, noon UTC: the file's modification time in these tests
FILE_TIME = dt.datetime(2026, 1, 14, 12, tzinfo=dt.UTC).timestamp()


def _text(body: str) -> bytes:
    return body.encode()


def _json(**fields: str) -> bytes:
    return json.dumps({"title": "Title", "body": "Body text.", **fields}).encode()


def _when(name: str, data: bytes, file_time: float | None = FILE_TIME) -> tuple[dt.datetime, str] | None:
    found = article_time(parse_article(name, data), file_time)
    return None if found is None else (found.when, found.source)


def test_json_published_at_is_the_date_in_utc() -> None:
    found = _when("a.json", _json(published_at="2026-01-12T16:00:00+05:30"))
    assert found == (dt.datetime(2026, 1, 12, 10, 30, tzinfo=dt.UTC), "json")


def test_json_published_at_without_zone_is_utc_and_z_is_understood() -> None:
    assert _when("a.json", _json(published_at="2026-01-12T08:00:00")) == (
        dt.datetime(2026, 1, 12, 8, tzinfo=dt.UTC),
        "json",
    )
    assert _when("a.json", _json(published_at="2026-01-12T08:00:00Z")) == (
        dt.datetime(2026, 1, 12, 8, tzinfo=dt.UTC),
        "json",
    )


@pytest.mark.parametrize("bad", ["not a date", "", "2026-13-45", "9999-01-01T00:00:00"])
def test_a_bad_published_at_falls_back_to_the_file_time_without_crashing(bad: str) -> None:
    found = _when("a.json", _json(published_at=bad))
    assert found == (dt.datetime.fromtimestamp(FILE_TIME, dt.UTC), "file")


def test_a_bad_published_at_falls_back_to_the_byline_of_the_body() -> None:
    data = _json(published_at="soon", body="Moscow desk\n12 Jan 2026\nRussia and North Korea met.")
    assert _when("a.json", data) == (dt.datetime(2026, 1, 12, tzinfo=dt.UTC), "dateline")


@pytest.mark.parametrize(
    ("byline", "day"),
    [
        ("12 Jan 2026", dt.date(2026, 1, 12)),
        ("Updated: 13 Jan 2026", dt.date(2026, 1, 13)),
        ("Jul 13, 2025 | Korea Focus", dt.date(2025, 7, 13)),
        ("January 12, 2026", dt.date(2026, 1, 12)),
        ("MOSCOW, Jan 12 (Reuters) -", dt.date(2026, 1, 12)),
    ],
)
def test_an_english_byline_gives_the_date(byline: str, day: dt.date) -> None:
    found = _when("a.txt", _text(f"Russia and North Korea\n\n{byline}\n\nThe two sides met."))
    assert found is not None and found[0].date() == day and found[1] == "dateline"


@pytest.mark.parametrize(
    ("byline", "day"),
    [
        ("12 जनवरी 2026", dt.date(2026, 1, 12)),
        ("सोमवार, 12 जनवरी 2026", dt.date(2026, 1, 12)),
        ("नई दिल्ली, 12 जनवरी", dt.date(2026, 1, 12)),
    ],
)
def test_a_hindi_byline_gives_the_date(byline: str, day: dt.date) -> None:
    found = _when("a.txt", _text(f"रूस और उत्तर कोरिया\n\n{byline}\n\nदोनों देशों के नेता मिले।"))
    assert found is not None and found[0].date() == day and found[1] == "dateline"


def test_a_date_without_a_year_takes_the_year_that_puts_it_before_the_file_time() -> None:
    # read on 14 January 2026: 12 July and 28 December are last year's
    assert _when("a.txt", _text("शीर्षक\n12 जुलाई\nपाठ"))[0].date() == dt.date(2025, 7, 12)  # type: ignore[index]
    assert _when("a.txt", _text("Title\n28 Dec\nText"))[0].date() == dt.date(2025, 12, 28)  # type: ignore[index]


def test_a_date_in_the_body_about_a_past_event_is_not_the_articles_date_when_a_byline_exists() -> None:
    body = (
        "Russia and North Korea sign a new pact\n\n13 Jan 2026\n\n"
        "The leaders met on Monday. The earlier treaty was signed on 19 June 2024 in Pyongyang."
    )
    assert _when("a.txt", _text(body))[0].date() == dt.date(2026, 1, 13)  # type: ignore[index]


def test_a_date_deep_in_the_body_is_not_taken_for_a_byline() -> None:
    paragraphs = "\n\n".join(f"Paragraph {n} says nothing about dates at all." for n in range(8))
    body = f"Title\n\n{paragraphs}\n\nThe treaty of 19 June 2024 was mentioned.\n\n{paragraphs}"
    assert _when("a.txt", _text(body)) == (dt.datetime.fromtimestamp(FILE_TIME, dt.UTC), "file")


def test_a_byline_far_past_the_file_time_is_not_believed() -> None:
    found = _when("a.txt", _text("Title\n12 Jan 2031\nText"))
    assert found == (dt.datetime.fromtimestamp(FILE_TIME, dt.UTC), "file")


def test_without_any_date_or_file_time_the_date_is_unknown() -> None:
    assert _when("a.txt", _text("Title\nNo date here."), None) is None


def test_the_file_time_is_read_from_the_file_that_was_read(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Title\nText")
    os.utime(path, (FILE_TIME, FILE_TIME))
    data, mtime = read_file_timed(path, [tmp_path], 10_000)
    assert data == b"Title\nText" and mtime == FILE_TIME


def test_analysis_carries_the_date_and_the_alert_shows_it() -> None:
    engine = load_engine([Path(__file__).resolve().parents[1] / "config" / "watchlists"])
    body = "Russia and North Korea sign pact\n\n12 Jan 2026\n\nRussia and North Korea signed a new agreement on Monday."
    analysis = analyse(Job("a.txt", body.encode(), {}, FILE_TIME), engine, Publishing("newsmon", 256_000))
    assert analysis.published == dt.datetime(2026, 1, 12, tzinfo=dt.UTC)
    assert analysis.messages
    payload = json.loads(analysis.messages[0].payload)
    assert payload["article"]["published_at"] == "2026-01-12T00:00:00+00:00"


def test_the_day_is_the_one_the_article_wrote_in_its_own_time_zone() -> None:
    found = article_time(parse_article("a.json", _json(published_at="2026-02-17T08:00:00+09:00")), FILE_TIME * 2)
    assert found is not None
    assert found.when == dt.datetime(2026, 2, 16, 23, tzinfo=dt.UTC) and found.day == dt.date(2026, 2, 17)


def test_a_year_less_date_takes_each_articles_own_year_though_parsing_is_cached() -> None:
    august = dt.datetime(2026, 8, 1, tzinfo=dt.UTC).timestamp()
    assert _when("a.txt", _text("शीर्षक\n12 जुलाई\nपाठ"))[0].date() == dt.date(2025, 7, 12)  # type: ignore[index]
    assert _when("a.txt", _text("शीर्षक\n12 जुलाई\nपाठ"), august)[0].date() == dt.date(2026, 7, 12)  # type: ignore[index]


def test_a_publication_time_its_producer_declared_dates_a_text_body_but_never_a_json_bodys_own() -> None:
    engine = load_engine([Path(__file__).resolve().parents[1] / "config" / "watchlists"])
    publishing = Publishing("newsmon", 256_000)
    body = "Russia and North Korea sign pact\n\nRussia and North Korea signed a new agreement on Monday."
    declared = analyse(Job("a.txt", body.encode(), {}, FILE_TIME, "2026-01-12T09:00:00+00:00"), engine, publishing)
    assert declared.published == dt.datetime(2026, 1, 12, 9, tzinfo=dt.UTC)
    assert json.loads(declared.messages[0].payload)["article"]["published_at"] == "2026-01-12T09:00:00+00:00"
    own = _json(published_at="2026-01-10T08:00:00+00:00")
    kept = analyse(Job("a.json", own, {}, FILE_TIME, "2026-01-12T09:00:00+00:00"), engine, publishing)
    assert kept.published == dt.datetime(2026, 1, 10, 8, tzinfo=dt.UTC)

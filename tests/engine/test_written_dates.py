"""Explicit dates in a clause, against the article's own date (issue 12's "an explicit date well before")."""

from __future__ import annotations

import datetime as dt

from monitor.engine.written_dates import dates_before

PUBLISHED = dt.date(2026, 2, 16)


def written(text: str) -> list[str]:
    return [text[at : at + length] for at, length in dates_before(text, PUBLISHED, 7)]


def test_an_english_date_long_before_the_article_is_found() -> None:
    assert written("the pact signed on 19 June 2024 in Pyongyang") == ["19 June 2024"]


def test_a_hindi_date_of_the_same_year_weeks_before_is_found() -> None:
    assert written("3 जनवरी को हस्ताक्षर हुए") == ["3 जनवरी"]


def test_a_date_of_the_last_few_days_is_not_old() -> None:
    assert written("signed on February 14 in Moscow") == []
    assert written("12 फरवरी को हस्ताक्षर हुए") == []


def test_numbers_and_month_words_apart_are_no_date() -> None:
    assert written("300 soldiers may go, and the March plan of 2024 stays") == []

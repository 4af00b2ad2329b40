"""The console's query strings and bodies: a URL holds the whole search, and bad values are refused
with a reason (the console answers 400, never a 500)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from monitor.config import WebSettings
from monitor.history import AlertQuery
from monitor.web.auth import Throttle
from monitor.web.params import BadEventId, BadRequest, alert_query, ident, last_event_id, snooze_until
from monitor.web.security import is_loopback


def test_a_search_url_maps_every_filter_to_the_archive_query() -> None:
    query = alert_query(
        {
            "q": "समझौता treaty",
            "rule": "russia-dprk-agreement",
            "severity": "high",
            "novelty": "new",
            "entity": "country:russia",
            "source": "The Hindu",
            "lang": "hi",
            "since": "2026-11-01",
            "until": "2026-11-30",
            "reviewed": "false",
            "before": "120",
            "limit": "20",
        }
    )
    assert query == AlertQuery(
        text="समझौता treaty",
        rule="russia-dprk-agreement",
        severity="high",
        novelty="new",
        entity="country:russia",
        source="The Hindu",
        lang="hi",
        since=date(2026, 11, 1),
        until=date(2026, 11, 30),
        reviewed=False,
        before=120,
        limit=20,
    )


def test_empty_form_fields_mean_no_condition() -> None:
    assert alert_query({"q": "", "rule": "", "severity": " ", "since": ""}) == AlertQuery()


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"since": "yesterday"}, "since: not a date"),
        ({"until": "2026-13-45"}, "until: not a date"),
        ({"since": "2026-11-02", "until": "2026-11-01"}, "since: after until"),
        ({"severity": "apocalyptic"}, "severity: one of"),
        ({"limit": "100000"}, "limit: must be between"),
        ({"limit": "-1"}, "limit: not a whole number"),
        ({"before": "1e9"}, "before: not a whole number"),
        ({"reviewed": "maybe"}, "reviewed: must be true or false"),
        ({"rule": "../../etc/passwd"}, "rule: not a valid id"),
        ({"q": "x" * 501}, "longer than 500"),
        ({"drop": "table"}, "unknown parameter: drop"),
        ({"limit": "²"}, "limit: not a whole number"),
        ({"limit": "２０"}, "limit: not a whole number"),
        ({"before": "١٢٣"}, "before: not a whole number"),
        ({"after": "abc"}, "unknown parameter: after"),
        ({"since": "20261201"}, "since: not a date"),
        ({"until": "2026-W48-1"}, "until: not a date"),
    ],
)
def test_bad_search_parameters_are_refused_with_the_reason(params: dict[str, str], complaint: str) -> None:
    with pytest.raises(BadRequest, match=complaint):
        alert_query(params)


def test_an_event_stream_resumes_from_last_event_id_before_after() -> None:
    assert last_event_id("42", "7") == 42
    assert last_event_id(None, "7") == 7
    assert last_event_id(None, None) is None
    for bad in ("abc", "²", "４２"):
        with pytest.raises(BadEventId, match="Last-Event-ID"):
            last_event_id(bad, None)
    with pytest.raises(BadRequest, match="after: not a whole number"):
        last_event_id(None, "３")


def test_a_snooze_is_for_one_eight_or_twenty_four_hours_or_lifted() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert snooze_until({"hours": 8}, now) == now + timedelta(hours=8)
    assert snooze_until({"hours": 0}, now) is None
    for bad in (5, "8", True, 1.5):
        with pytest.raises(BadRequest, match="hours"):
            snooze_until({"hours": bad}, now)


def test_ids_are_short_strings_of_id_characters() -> None:
    assert ident("story", "a1b2:c3-d_4.e") == "a1b2:c3-d_4.e"
    for bad in ("", "a/b", "x" * 201, 5, None, "<script>"):
        with pytest.raises(BadRequest):
            ident("story", bad)


def test_only_loopback_hosts_count_as_local() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost", "app.localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "192.168.1.4", "::", "example.com", "localhost.evil.com"]))


def test_empty_secret_file_settings_mean_none_as_in_the_shipped_config() -> None:
    settings = WebSettings.model_validate({"password_file": "", "token_file": ""})
    assert (settings.password_file, settings.token_file) == (None, None)
    assert (settings.enabled, settings.host, settings.port) == (True, "127.0.0.1", 8080)


def test_the_login_throttle_blocks_five_failures_a_minute_for_a_minute_and_a_right_password_clears_them() -> None:
    throttle = Throttle()
    assert [throttle.failed("a", now=t) for t in (0, 10, 20, 30)] == [False] * 4
    throttle.passed("a")  # the analyst remembered it: the count starts again
    assert not any(throttle.failed("a", now=t) for t in (31, 32, 33, 34))
    assert throttle.failed("a", now=35) and throttle.refused("a", now=36) and not throttle.refused("b", now=36)
    assert not throttle.refused("a", now=96)  # a minute later
    assert not any(throttle.failed("c", now=t * 20) for t in range(10))  # slower than five a minute: never

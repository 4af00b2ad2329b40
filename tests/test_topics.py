"""The topic layout under a prefix, formed in monitor/topics.py and nowhere else."""

from __future__ import annotations

import pytest
from paho.mqtt.client import topic_matches_sub

from monitor import topics

PREFIX = "desk/eu"


def test_a_custom_prefix_puts_alerts_errors_and_status_under_it() -> None:
    assert topics.alert_topic(PREFIX, "pact") == "desk/eu/alerts/pact"
    assert topics.alert_topic(PREFIX, "pact", "asia/korea") == "desk/eu/alerts/pact/asia/korea"
    assert topics.error_topic(PREFIX) == "desk/eu/errors"
    assert topics.status_topic(PREFIX) == "desk/eu/status"


def test_the_alerts_filter_takes_every_alert_and_nothing_else() -> None:
    wanted = topics.alerts_filter(PREFIX)
    assert topic_matches_sub(wanted, topics.alert_topic(PREFIX, "pact"))
    assert topic_matches_sub(wanted, topics.alert_topic(PREFIX, "pact", "asia/korea"))
    assert not topic_matches_sub(wanted, topics.error_topic(PREFIX))
    assert not topic_matches_sub(wanted, topics.status_topic(PREFIX))
    assert not topic_matches_sub(wanted, topics.alert_topic("desk", "pact"))


@pytest.mark.parametrize("prefix", ["", "news/#", "news/+/x", "/news", "news/", "nul\0"])
def test_a_prefix_with_wildcards_or_empty_ends_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="non-empty topic levels"):
        topics.check_prefix(prefix)


def test_a_plain_multi_level_prefix_is_kept_as_it_is() -> None:
    assert topics.check_prefix(PREFIX) == PREFIX

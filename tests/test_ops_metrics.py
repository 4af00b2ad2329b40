"""Prometheus metrics: the endpoint of a real `monitor run` scraped after a few articles, and the pure
bookkeeping behind the counters."""

from __future__ import annotations

import signal
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.processes import Collector, Mosquitto, free_port, wait_until
from monitor import events
from monitor.metrics import LatencyTracker, Metrics
from tests.support import QUIET_ARTICLE, numbered_pact, running_daemon

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), -1.0)


@pytest.mark.e2e
def test_metrics_endpoint_counts_articles_alerts_publishes_and_reloads(tmp_path: Path, broker: Mosquitto) -> None:
    port = free_port()
    collector = Collector(broker.port, "newsmon/#").start()
    metrics_on = f'[metrics]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
    with running_daemon(tmp_path / "d", broker.port, conf_extra=metrics_on) as daemon:
        daemon.drop("pact-1.txt", numbered_pact(1))
        daemon.drop("pact-2.txt", numbered_pact(2))
        daemon.drop("quiet.txt", QUIET_ARTICLE)
        daemon.drop("broken.json", "{not json")
        wait_until(
            lambda: value(scrape(port), "newsmon_alerts_published_total") >= 3,
            30,
            what="3 published (2 alerts, 1 error)",
        )
        wait_until(lambda: value(scrape(port), "newsmon_outbox_depth") == 0, 10, what="outbox gauge at 0")
        assert daemon.proc is not None
        daemon.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: value(scrape(port), "newsmon_reloads_total", result="ok") == 1, 30, what="reload counted")
        samples = scrape(port)
    collector.stop()
    assert value(samples, "newsmon_articles_processed_total", result="alerted") == 2
    assert value(samples, "newsmon_articles_processed_total", result="clean") == 1
    assert value(samples, "newsmon_articles_processed_total", result="error") == 1
    assert value(samples, "newsmon_articles_processed_total", result="duplicate") == 0
    assert value(samples, "newsmon_alerts_produced_total", rule="russia-dprk-agreement", severity="high") == 2
    assert value(samples, "newsmon_alerts_published_total") == 3
    assert value(samples, "newsmon_publish_failures_total") == 0
    assert value(samples, "newsmon_broker_connected") == 1
    assert value(samples, "newsmon_outbox_oldest_age_seconds") == 0
    assert value(samples, "newsmon_reloads_total", result="failed") == 0
    assert value(samples, "newsmon_processing_seconds_count") == 3
    assert value(samples, "newsmon_alert_latency_seconds_count") == 2
    assert value(samples, "newsmon_alert_latency_seconds_sum") > 0
    alerts = collector.payloads("newsmon/alerts/")
    assert len({a["id"] for a in alerts}) == 2  # the counters agree with what subscribers received


@pytest.mark.e2e
def test_metrics_stay_off_unless_enabled(tmp_path: Path, broker: Mosquitto) -> None:
    port = free_port()
    with running_daemon(tmp_path / "d", broker.port, extra_env={"MONITOR_METRICS__PORT": str(port)}) as daemon:
        try:
            scrape(port)
            reachable = True
        except OSError:
            reachable = False
    assert not reachable
    assert not bool(daemon.events(events.METRICS_LISTENING))


def test_publisher_totals_become_counter_increments_and_the_connection_a_gauge() -> None:
    metrics = Metrics()
    metrics.publisher(published=5, failures=1, connected=True)
    metrics.publisher(published=8, failures=1, connected=False)
    assert metrics.registry.get_sample_value("newsmon_alerts_published_total") == 8
    assert metrics.registry.get_sample_value("newsmon_publish_failures_total") == 1
    assert metrics.registry.get_sample_value("newsmon_broker_connected") == 0


def test_outbox_age_is_zero_when_empty_and_counts_from_the_oldest_message() -> None:
    metrics = Metrics()
    metrics.outbox(3, 100.0, now=160.0)
    assert metrics.registry.get_sample_value("newsmon_outbox_oldest_age_seconds") == 60
    metrics.outbox(0, None, now=170.0)
    assert metrics.registry.get_sample_value("newsmon_outbox_oldest_age_seconds") == 0


def test_latency_runs_from_pick_up_to_each_published_alert_of_the_file() -> None:
    tracker = LatencyTracker()
    tracker.picked_up("/in/a.txt", 10.0)
    tracker.picked_up("/in/a.txt", 11.0)  # seen again by a rescan: the first sighting counts
    tracker.picked_up("/in/quiet.txt", 10.0)
    tracker.processed(["/in/a.txt", "/in/quiet.txt"], {"/in/a.txt": ("alert-1", "alert-2")})
    assert len(tracker) == 2  # the file without alerts is forgotten at once
    assert tracker.published(["alert-1", "error-record"], now=12.5) == [2.5]
    assert tracker.published(["alert-2"], now=13.0) == [3.0]
    assert len(tracker) == 0
    assert tracker.published(["alert-from-an-earlier-run"], now=14.0) == []


@pytest.mark.e2e
def test_status_topic_carries_version_start_time_and_periodic_counters(tmp_path: Path, broker: Mosquitto) -> None:
    collector = Collector(broker.port, "newsmon/status").start()

    def latest_counters() -> dict[str, object]:
        with_counters = [s for s in collector.payloads("newsmon/status") if "counters" in s]
        return dict(with_counters[-1]["counters"]) if with_counters else {}

    every_second = {"MONITOR_MQTT__STATUS_INTERVAL_SECONDS": "1"}
    with running_daemon(tmp_path / "d", broker.port, extra_env=every_second) as daemon:
        daemon.drop("pact-1.txt", numbered_pact(1))
        wait_until(lambda: latest_counters().get("published") == 1, 30, what="counters after one alert")
    collector.stop()
    counters = latest_counters()
    assert counters["articles"] == {"alerted": 1}
    assert counters["alerts_pending"] == 0 and counters["broker_connected"] is True
    online = collector.payloads("newsmon/status")[0]
    assert online["state"] == "online" and online["version"] and online["started_at"].endswith("Z")
    assert len(online["watchlist_version"]) >= 8

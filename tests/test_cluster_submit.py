"""``monitor submit`` against a real three-node NATS cluster with JetStream (started here on free loopback
ports): articles land on the replicated work-queue stream in the documented format, the same bytes twice are
one message, a file over ``[watch] max_bytes`` is refused alone, and an unreachable cluster is one clear
line and exit 2."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from harness.nats import NatsCluster
from harness.processes import free_port, monitor_cli
from monitor.articles import content_hash
from monitor.cluster.messages import parse
from tests.support import running_nats

pytestmark = pytest.mark.e2e

STREAM = "TEST_ARTICLES"
SUBJECT = "test.articles"
PACT = "Russia and North Korea signed a new rail agreement in Khabarovsk on {day}.\n"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    with running_nats(tmp_path_factory.mktemp("nats"), 3) as running:
        yield running


def env_for(servers: list[str], **more: str) -> dict[str, str]:
    return {
        "MONITOR_CLUSTER__SERVERS": json.dumps(servers),
        "MONITOR_CLUSTER__STREAM": STREAM,
        "MONITOR_CLUSTER__SUBJECT": SUBJECT,
        "MONITOR_CLUSTER__CONNECT_TIMEOUT_SECONDS": "2",
        **more,
    }


async def stream_messages(servers: list[str]) -> tuple[int, list[tuple[dict[str, str], bytes]], int]:
    """The stream's replicas and what it holds, read without consuming (by sequence number)."""
    client = await nats.connect(servers)
    try:
        js = client.jetstream()
        info = await js.stream_info(STREAM)
        held = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            message = await js.get_msg(STREAM, seq)
            held.append((dict(message.headers or {}), message.data or b""))
        return info.config.num_replicas or 1, held, info.state.messages
    finally:
        await client.close()


def test_submitted_articles_are_on_the_replicated_stream_once_each(cluster: NatsCluster, tmp_path: Path) -> None:
    files = []
    for n, day in enumerate(["Monday", "Tuesday"]):
        path = tmp_path / "east" / f"pact-{n}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(PACT.format(day=day))
        files.append(path)
    first = monitor_cli("submit", *map(str, files), env=env_for(cluster.urls))
    assert first.returncode == 0, first.stderr
    assert [line.split()[0] for line in first.stdout.splitlines()] == ["submitted", "submitted"]
    again = monitor_cli("submit", str(files[0]), env=env_for(cluster.urls[1:]))  # any node will do
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("duplicate ")
    replicas, held, count = asyncio.run(stream_messages(cluster.urls))
    assert replicas == 3 and count == 2
    articles = [parse(headers, data) for headers, data in held]
    assert [a.data for a in articles] == [f.read_bytes() for f in files]
    assert [a.name for a in articles] == [str(f) for f in files]
    assert all(a.file_time is not None and a.source_host for a in articles)
    assert [h["Nats-Msg-Id"] for h, _ in held] == [content_hash(f.read_bytes()) for f in files]


def test_a_declared_publication_time_goes_with_each_file_and_a_malformed_one_is_refused(
    cluster: NatsCluster, tmp_path: Path
) -> None:
    path = tmp_path / "dated" / "pact.txt"
    path.parent.mkdir()
    path.write_text(PACT.format(day="Wednesday"))
    env = env_for(cluster.urls)
    bad = monitor_cli("submit", "--published-at", "last week", str(path), env=env)
    assert bad.returncode == 2 and "not an ISO 8601 time" in bad.stderr and bad.stdout == ""
    done = monitor_cli("submit", "--published-at", "2026-01-14T06:30:00+00:00", str(path), env=env)
    assert done.returncode == 0, done.stderr
    _replicas, held, _count = asyncio.run(stream_messages(cluster.urls))
    [article] = [parse(h, d) for h, d in held if d == path.read_bytes()]
    assert article.published_at == "2026-01-14T06:30:00+00:00"


def test_a_file_too_large_is_refused_alone_and_the_others_are_submitted(cluster: NatsCluster, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("x" * 5000)
    small = tmp_path / "small.txt"
    small.write_text(PACT.format(day="Friday"))
    done = monitor_cli("submit", str(big), str(small), env=env_for(cluster.urls, MONITOR_WATCH__MAX_BYTES="4096"))
    assert done.returncode == 1
    assert done.stdout.startswith("submitted ") and str(small) in done.stdout and str(big) not in done.stdout
    [line] = done.stderr.splitlines()
    assert str(big) in line and "4096" in line


def test_an_unreachable_cluster_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(PACT.format(day="Sunday"))
    port = free_port()
    done = monitor_cli("submit", str(article), env=env_for([f"nats://127.0.0.1:{port}"]))
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("submit: cannot reach NATS at ") and str(port) in line
    assert done.stdout == ""


def test_without_a_cluster_section_submit_says_so() -> None:
    done = monitor_cli("submit", "whatever.txt")
    assert done.returncode == 2 and "no [cluster] section" in done.stderr

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.nats import NatsCluster
from harness.processes import Mosquitto
from tests.support import running_nats

#: the folder-watching backends ([watch] backend), each forced: the watching tests run against both
WATCH_BACKENDS = ["inotify", "watchfiles"]


@pytest.fixture(params=WATCH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The folder-watching backend a test runs against (every value of ``WATCH_BACKENDS`` in turn)."""
    value: str = request.param
    return value


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    """A three-node NATS cluster with JetStream on free loopback ports, for this test alone."""
    with running_nats(tmp_path / "nats", 3) as running:
        yield running


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed: .ci/run installs it (apt-get install -y mosquitto)")
    server = Mosquitto(tmp_path / "broker")
    server.start()
    yield server
    server.stop()

"""Shared fixtures: the shipped watchlists, compiled once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.engine import Engine, load_engine

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "watchlists"


@pytest.fixture(scope="session")
def shipped() -> Engine:
    return load_engine([SHIPPED])

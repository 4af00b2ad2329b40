"""Which source a daemon reads: its watched folders, or with ``[cluster] role = "worker"`` the cluster's
stream of articles (nats-py is imported only where a cluster is configured)."""

from __future__ import annotations

import socket

from monitor.config import Settings
from monitor.sources import Source
from monitor.sources.folders import FolderSource


def source_for(settings: Settings) -> Source:
    if settings.cluster is not None and settings.cluster.role == "worker":
        from monitor.cluster.stream_source import StreamSource

        return StreamSource(settings.cluster, settings.watch.max_bytes, f"monitor-worker@{socket.gethostname()}")
    return FolderSource(settings.watch)

"""What a daemon reads and what it does with each article, by its role: a single host (the default) and a
cluster worker tag; an ingest host hands its folders' files to the cluster's stream instead of tagging them.
nats-py is imported only where ``[cluster]`` is set."""

from __future__ import annotations

import asyncio
import socket

from monitor.analysis import Publishing
from monitor.config import Settings
from monitor.processing import StoryOrder
from monitor.sources import Source
from monitor.sources.backend import folder_source
from monitor.stories import StoryBook
from monitor.workers import Tagger, TaggingPool


def source_for(settings: Settings) -> Source:
    """The watched folders; for a cluster worker, the cluster's stream of articles."""
    if settings.cluster is not None and settings.cluster.role == "worker":
        from monitor.cluster.stream_source import StreamSource

        return StreamSource(settings.cluster, settings.watch.max_bytes, f"monitor-worker@{socket.gethostname()}")
    return folder_source(settings.watch)


def tagger_for(settings: Settings, publishing: Publishing) -> Tagger:
    """The worker pool; for an ingest host, the hand-over to the cluster's stream."""
    if settings.cluster is not None and settings.cluster.role == "ingest":
        from monitor.cluster.handover import StreamHandOver

        return StreamHandOver(settings.cluster, settings.watch.max_bytes)
    return TaggingPool(settings.processing.workers, publishing)


def stories_for(settings: Settings) -> tuple[StoryBook | None, StoryOrder | None]:
    """The story book (None: stories off) and, for a cluster worker, the cluster's order of placements:
    that worker's book is rebuilt from the cluster's story log, a single host's from its own database."""
    book = StoryBook.from_settings(settings.stories)
    if book is None or settings.cluster is None or settings.cluster.role != "worker":
        return book, None
    from monitor.cluster.story_order import ClusterStoryOrder

    name = f"monitor-stories@{socket.gethostname()}"
    return book, ClusterStoryOrder(settings.cluster, settings.stories.window_hours, asyncio.get_running_loop(), name)

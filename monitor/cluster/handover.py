"""The ingest role's stand-in for tagging (``[cluster] role = "ingest"``): each article of a batch is
published to the cluster's stream, and the batch's "analyses" say only that it was handed over. The
pipeline then commits the files as done, so a file counts as handled only once JetStream acknowledged it
(stored on a majority of the stream's replicas); until then it stays in its folder.

While the cluster cannot be reached, a batch waits here and retries (one line per outage): the pipeline
holds at most two batches, so intake pauses and the files wait in their folders. A stop cancels the wait:
nothing of the batch is committed, and the next start publishes it again (JetStream drops the copies it
holds already, by ``Nats-Msg-Id``)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Sequence

import structlog
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import MaxPayloadError
from nats.js.errors import APIError

from monitor import events
from monitor.analysis import Analysis, Job
from monitor.cluster import jetstream
from monitor.cluster.messages import ArticleMessage
from monitor.config import ClusterSettings
from monitor.engine import Engine
from monitor.mqtt import Backoff

log = structlog.get_logger("monitor.cluster")


class StreamHandOver:
    """The pipeline's tagging step for an ingest host (the interface of ``workers.TaggingPool``)."""

    def __init__(self, settings: ClusterSettings, max_bytes: int) -> None:
        self.settings = settings
        self.max_bytes = max_bytes
        self.host = socket.gethostname()
        self._client: Client | None = None
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()

    async def start(self, engine: Engine) -> None:
        """Nothing to start: the connection is made with the first batch (and again after an outage)."""

    def stop_waiting(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def tag(self, engine: Engine, jobs: Sequence[Job], *, alone: bool = False) -> list[Analysis]:
        async with self._lock:  # batches hand over in the order they were read
            backoff = Backoff(initial=0.5, cap=10.0)
            told = False
            while True:
                try:
                    analyses = await self._publish_all(jobs)
                except (jetstream.ClusterUnavailable, NatsError, OSError) as exc:
                    if not told:
                        log.error(events.CLUSTER_UNREACHABLE, reason=jetstream.describe(exc), waiting=len(jobs))
                        told = True
                    await self.close()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), backoff.next_delay())
                    if self._stopping.is_set():  # nothing of the batch is committed: the next start sends it
                        raise asyncio.CancelledError from None
                    continue
                if told:
                    log.warning(events.CLUSTER_REACHABLE)
                return analyses

    async def _publish_all(self, jobs: Sequence[Job]) -> list[Analysis]:
        """Each job handed over, or an error record of its own when the cluster refuses its size (the
        server's ``max_payload`` or the stream's ``max_msg_size`` below ``[watch] max_bytes``): one file
        too large for the cluster must not hold up the files behind it. Any other failure is an outage."""
        if self._client is None or self._client.is_closed:
            self._client = await jetstream.connect(self.settings, f"monitor-ingest@{self.host}")
            await jetstream.ensure_stream(self._client.jetstream(), self.settings, self.max_bytes)
        js = self._client.jetstream()
        acks = [
            jetstream.publish(js, self.settings, ArticleMessage(job.name, job.data, self.host, job.file_time))
            for job in jobs
        ]
        # in flight together; the batch is handed over when all are stored
        results = await asyncio.gather(*acks, return_exceptions=True)
        analyses = []
        for result in results:
            if isinstance(result, BaseException) and not _too_large(result):
                raise result
            if isinstance(result, BaseException):
                analyses.append(Analysis(error=("too-large", f"the cluster refused its size: {result}")))
            else:
                analyses.append(Analysis(handed_over=True))
        return analyses


def _too_large(exc: BaseException) -> bool:
    return isinstance(exc, MaxPayloadError) or (isinstance(exc, APIError) and "maximum" in str(exc).lower())

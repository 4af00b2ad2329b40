"""The one owner of the NATS client: connecting with the ``[cluster]`` settings (credentials, TLS), the
article stream's configuration (made or brought up to date at start), and publishing an article so that
it counts as handed over only once JetStream acknowledged it (stored on a majority of its replicas)."""

from __future__ import annotations

import asyncio
import time

import nats
import structlog
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, KeyValueConfig, PubAck, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import APIError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from monitor.cluster.messages import ArticleMessage
from monitor.config import ClusterSettings
from monitor.tls import verifying_context

log = structlog.get_logger("monitor.cluster")

#: what a message may carry beyond the article's bytes: its headers
HEADER_ROOM = 64 * 1024
#: a cluster that has just formed elects its JetStream leaders in a few seconds: stream setup waits this long
SETUP_S = 30.0


class ClusterUnavailable(Exception):
    """The NATS cluster cannot be reached or refused the setup; the text says which server and why."""


async def _quiet(exc: Exception) -> None:
    """The client's own reports of a failed attempt: the caller says what matters in one line."""
    log.debug("nats client error", error=describe(exc))


async def connect(settings: ClusterSettings, name: str) -> Client:
    """A connection that reconnects by itself (to any listed server) once it was made; the first one is
    given ``connect_timeout_seconds`` per server (the client would otherwise retry it for ever)."""
    patience = settings.connect_timeout_seconds * len(settings.servers) + 1.0
    try:
        async with asyncio.timeout(patience):  # not wait_for: on Python 3.11 it can swallow a stop's cancel
            return await nats.connect(
                settings.servers,
                name=name,
                tls=verifying_context(settings.tls),
                user_credentials=str(settings.credentials_file) if settings.credentials_file else None,
                connect_timeout=settings.connect_timeout_seconds,
                max_reconnect_attempts=-1,
                allow_reconnect=True,
                error_cb=_quiet,
            )
    except (TimeoutError, OSError, NatsError) as exc:
        why = describe(exc) if not isinstance(exc, TimeoutError) else f"no answer within {patience:g} s"
        raise ClusterUnavailable(f"cannot reach NATS at {', '.join(settings.servers)}: {why}") from None


def describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def stream_config(settings: ClusterSettings, max_bytes: int) -> StreamConfig:
    """A work queue: each article is held until one worker acknowledges it, then removed; a publish of
    bytes already in the duplicate window is acknowledged without storing them twice."""
    return StreamConfig(
        name=settings.stream,
        subjects=[settings.subject],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        num_replicas=settings.replicas,
        max_msg_size=max_bytes + HEADER_ROOM,
        duplicate_window=settings.duplicate_window_seconds,
        # a full stream refuses new articles (they wait in their folders) rather than drop old ones
        discard=DiscardPolicy.NEW,
    )


def dead_letters(settings: ClusterSettings) -> str:
    """The stream that keeps poison articles for an operator to look at (``<stream>_DEAD``)."""
    return f"{settings.stream}_DEAD"


def dead_letter_config(settings: ClusterSettings, max_bytes: int) -> StreamConfig:
    return StreamConfig(
        name=dead_letters(settings),
        subjects=[settings.dead_letters_subject],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=settings.replicas,
        max_msg_size=max_bytes + HEADER_ROOM,
        max_age=30 * 86400.0,
    )


def story_log(settings: ClusterSettings) -> str:
    """The stream whose messages are the workers' story placements, in the one order all apply them."""
    return f"{settings.stream}_STORIES"


def story_log_subject(settings: ClusterSettings) -> str:
    return f"{settings.subject}.stories"


def story_log_config(settings: ClusterSettings, window_hours: float) -> StreamConfig:
    """Kept for the story window and a day: a restarted worker rebuilds its open stories from it."""
    return StreamConfig(
        name=story_log(settings),
        subjects=[story_log_subject(settings)],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=settings.replicas,
        max_age=(window_hours + 24.0) * 3600.0,
        discard=DiscardPolicy.OLD,
    )


async def ensure_stream(js: JetStreamContext, settings: ClusterSettings, max_bytes: int) -> None:
    """Make the article and dead-letter streams, or bring their limits up to the settings."""
    await ensure_streams(js, [stream_config(settings, max_bytes), dead_letter_config(settings, max_bytes)])


async def ensure_streams(js: JetStreamContext, configs: list[StreamConfig]) -> None:
    """Each stream made, or brought up to its config; retried while a new cluster elects its leaders."""
    deadline = time.monotonic() + SETUP_S
    while True:
        try:
            for config in configs:
                try:
                    await js.stream_info(config.name or "")
                except NotFoundError:
                    await js.add_stream(config)
                else:
                    await js.update_stream(config)
            return
        except (TimeoutError, APIError, NatsError) as exc:
            if time.monotonic() > deadline:
                raise ClusterUnavailable(f"stream {configs[0].name}: {describe(exc)}") from None
            await asyncio.sleep(0.5)


#: how long the cluster remembers that it processed an article's bytes
DONE_TTL_S = 30 * 86400.0


def processed_bucket_name(settings: ClusterSettings) -> str:
    return f"{settings.stream}_DONE"


async def processed_bucket(js: JetStreamContext, settings: ClusterSettings) -> KeyValue:
    """The key-value bucket of content hashes the cluster has processed (any worker, any run): a copy that
    reaches the stream again after its duplicate window is acknowledged without being tagged twice."""
    name = processed_bucket_name(settings)
    try:
        return await js.key_value(name)
    except (NotFoundError, BucketNotFoundError):
        config = KeyValueConfig(bucket=name, ttl=DONE_TTL_S, replicas=settings.replicas, storage=StorageType.FILE)
        return await js.create_key_value(config)


async def publish(js: JetStreamContext, settings: ClusterSettings, article: ArticleMessage) -> PubAck:
    """Hand the article to the stream; returns JetStream's acknowledgement (``duplicate``: it held it already)."""
    return await js.publish(
        settings.subject, article.data, timeout=10.0, stream=settings.stream, headers=article.headers()
    )

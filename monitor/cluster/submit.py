"""``monitor submit FILE...``: hand articles to the cluster's stream, for scripts and scrapers that do not
write into a watched folder. A file counts as submitted only once JetStream acknowledged it; the same
bytes submitted again (by this host or any other, within the duplicate window) are reported as such.

Exit codes: 0 every file is on the stream; 1 some file could not be read (the others were submitted);
2 no ``[cluster]`` section, or the cluster cannot be reached (nothing was submitted after that point)."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from nats.errors import Error as NatsError

from monitor.articles import ArticleError
from monitor.cluster import jetstream
from monitor.cluster.messages import ArticleMessage, MessageError, published
from monitor.config import ClusterSettings, Settings
from monitor.keys import shown
from monitor.reading import read_file_timed


def _message(path: Path, max_bytes: int, published_at: str | None) -> ArticleMessage:
    data, file_time = read_file_timed(path, None, max_bytes)
    host = socket.gethostname()
    return ArticleMessage(str(path), data, host, file_time, published_at)


async def _submit(cluster: ClusterSettings, max_bytes: int, files: Sequence[Path], published_at: str | None) -> int:
    client = await jetstream.connect(cluster, name=f"monitor-submit@{socket.gethostname()}")
    code = 0
    try:
        js = client.jetstream()
        await jetstream.ensure_stream(js, cluster, max_bytes)
        for path in files:
            try:
                message = _message(path, max_bytes, published_at)
            except ArticleError as exc:
                print(f"submit: {shown(str(path))}: {exc}", file=sys.stderr)
                code = 1
                continue
            ack = await jetstream.publish(js, cluster, message)
            verb = "duplicate" if ack.duplicate else "submitted"
            print(f"{verb} {shown(str(path))} {message.msg_id[:16]} seq {ack.seq}")
    finally:
        await client.close()
    return code


def run_submit(settings: Settings, files: Sequence[Path], published_at: str | None = None) -> int:
    """``published_at``: the publication time of every file (``Newsmon-Published-At``), ISO 8601 with a zone."""
    if settings.cluster is None:
        print("submit: no [cluster] section in the config: nothing to submit to", file=sys.stderr)
        return 2
    try:
        published(published_at)
    except MessageError as exc:
        print(f"submit: --published-at: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_submit(settings.cluster, settings.watch.max_bytes, files, published_at))
    except (jetstream.ClusterUnavailable, NatsError, TimeoutError) as exc:
        print(f"submit: {jetstream.describe(exc)}", file=sys.stderr)
        return 2

"""``monitor retro``: what a watchlist would have fired over the archived articles of a date range, printed
(one ``monitor tag --json`` object per article with ``--json``); with ``--publish``, those alerts go through
the outbox as retro alerts. With stories on (and no ``--every-mention``) the run's articles are grouped into
stories first and only openings and follow-ups are published; what is held back (sent or held live, silent
in its story, snoozed, muted) is marked in the output and not queued. With a daemon running on the state
folder, its publisher delivers them (it reads the outbox every few seconds); without one, this command
delivers them itself, as ``backfill`` does."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from rich.console import Console

from monitor.alerts import alert_id as alert_id_of
from monitor.config import Settings
from monitor.engine import Engine
from monitor.history_schema import Holds
from monitor.mqtt import default_client_id
from monitor.publisher import Publisher
from monitor.retro import RetroResult, held, publish_retro, retro_run, review_holds
from monitor.retro_stories import in_stories
from monitor.state import DiskWatch, StateError, StateLock, open_state
from monitor.store import DB_NAME, Store, StoreThread
from monitor.stories import StoryBook
from monitor.terminal import json_line, safe_text


def run_retro(
    settings: Settings,
    engine: Engine,
    since: date,
    until: date | None,
    *,
    publish: bool,
    as_json: bool,
    every_mention: bool = False,
    flush_timeout: float = 30.0,
) -> int:
    """Exit 0; 1 when alerts are left in the outbox undelivered; 2 when the archive cannot be read."""
    console = Console(stderr=True, highlight=False)
    db = settings.state.dir / DB_NAME
    if not db.is_file():
        console.print(f"retro: no state database in {settings.state.dir} (no archive to run over)", markup=False)
        return 2
    book = None if every_mention else StoryBook.from_settings(settings.stories)
    articles = [0]

    def counted(holds: Holds) -> Iterator[RetroResult]:
        for found in retro_run(db, engine, since, until):
            articles[0] += 1
            if book is None and found.result.rules:
                _show(found, engine, holds, as_json)  # printed as found: nothing to group
            yield found

    try:
        holds = review_holds(db)
        results = counted(holds)
        fired = [found for found in results if found.result.rules] if book is None else in_stories(results, book)
    except sqlite3.Error as exc:
        console.print(f"retro: cannot read the archive in {db}: {exc}", markup=False)
        return 2
    for found in fired if book is not None else ():
        _show(found, engine, holds, as_json)  # in date order, each with its story
    alerts = sum(len(found.result.rules) for found in fired)
    span = f"{since.isoformat()} to {until.isoformat() if until else 'now'}"
    console.print(f"{articles[0]} archived articles from {span}: {len(fired)} fired, {alerts} alerts", markup=False)
    if book is not None:
        kinds = Counter(found.placement.kind if found.placement else "no story" for found in fired)
        console.print("stories: " + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())), markup=False)
    if not publish:
        return 0
    try:
        return _publish(settings, engine, fired, console, flush_timeout)
    except StateError as exc:
        console.print(f"retro: {exc}", soft_wrap=True, markup=False)
        return 2


def _show(found: RetroResult, engine: Engine, holds: Holds, as_json: bool) -> None:
    if as_json:
        print(json_line(found.json(engine.version)), flush=True)
        return
    title = found.article.title if len(found.article.title) <= 80 else found.article.title[:79] + "…"
    kind = "" if found.placement is None else f"  [{found.placement.kind}]"
    for hit in found.result.rules:
        alert_id = alert_id_of(found.article.sha256, hit.rule)
        reason = held(found, alert_id, hit.rule, holds)
        mark = "would alert" if reason is None else f"({reason})"
        line = f"{mark}  {hit.severity:<8}  {hit.rule}{kind}  {found.day}  {found.article.path}  {title}"
        print(safe_text(line, one_line=True), flush=True)


def _publish(settings: Settings, engine: Engine, fired: list[RetroResult], console: Console, timeout: float) -> int:
    lock = StateLock(settings.state.dir)
    mine = lock.acquire()
    try:
        if mine:
            open_state(settings.state.dir)
        store = Store.in_dir(settings.state.dir)
        done = publish_retro(store, fired, engine, settings.mqtt.topic_prefix, settings.mqtt.max_payload_bytes)
        console.print(
            f"{done.sent} retro alerts queued; {done.already} sent before, not again; {done.held} held back",
            markup=False,
        )
        if not mine:
            store.close()
            if done.sent:
                console.print(f"the running daemon (pid {lock.holder()}) delivers them", markup=False)
            return 0
        delivered, pending = asyncio.run(_deliver(settings, store, timeout))
    finally:
        if mine:
            lock.release()
    console.print(f"{delivered} messages delivered", markup=False)
    if pending:
        console.print(f"{pending} messages stay in the outbox in {settings.state.dir}: the daemon delivers them")
        return 1
    return 0


async def _deliver(settings: Settings, store: Store, flush_s: float) -> tuple[int, int]:
    """Deliver the outbox for up to ``flush_s`` seconds (not the daemon: no retained status, no Last Will)."""
    thread = StoreThread(store)
    client_id = default_client_id("retro")
    publisher = Publisher(settings.mqtt, thread, dict, announce=False, client_id=client_id, disk=DiskWatch.of(thread))
    delivery = asyncio.create_task(publisher.run(), name="publisher")
    try:
        publisher.stop(flush_s)
        await asyncio.gather(delivery, return_exceptions=True)
        return publisher.published, await thread.call(Store.outbox_depth)
    finally:
        thread.close()


def state_settings(settings: Settings, state_dir: Path | None) -> Settings:
    """The settings with ``--state-dir`` as the state folder, when given."""
    if state_dir is None:
        return settings
    return settings.model_copy(update={"state": settings.state.model_copy(update={"dir": state_dir})})

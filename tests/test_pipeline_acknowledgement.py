"""What the pipeline tells its source is committed (a queue acknowledges exactly that): a batch reports its
own keys only, never one it deferred to another batch still in flight (a copy of a large article tagged
apart, an earlier version still being tagged). Acknowledging such a key early would let a crash lose it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from harness.articles import write_articles
from harness.processes import WATCHLISTS
from monitor.analysis import Publishing
from monitor.config import WatchSettings
from monitor.engine import load_engine
from monitor.pipeline import Pipeline
from monitor.processing import ALONE_BYTES, Processor
from monitor.sources.archive import ArchiveSource
from monitor.store import Store, StoreThread
from monitor.workers import TaggingPool


class RecordingArchive(ArchiveSource):
    """A real folder of files whose commits are written down, in order, with what the store holds then."""

    def __init__(self, settings: WatchSettings, store: Store) -> None:
        super().__init__(settings)
        self.store = store
        self.reported: list[list[str]] = []

    def committed(self, keys: Sequence[str]) -> None:
        self.reported.append([Path(key).name for key in keys])


async def test_a_copy_of_a_large_article_is_reported_committed_only_after_the_large_one(tmp_path: Path) -> None:
    filler = "Markets were quiet in Vladivostok. " * 8000
    huge = f"Pact\n\n{filler}\nRussia and North Korea signed a new rail agreement in Moscow today.\n"
    assert len(huge.encode()) > ALONE_BYTES  # tagged apart from its batch
    small = "Weather\n\nRain is likely in Delhi on Friday.\n"
    inbox = tmp_path / "inbox"
    write_articles(inbox, [("a-huge.txt", huge), ("b-copy.txt", huge), ("c-small.txt", small)])
    store = Store.in_dir(tmp_path / "state")
    source = RecordingArchive(WatchSettings(paths=[inbox]), store)
    thread = StoreThread(store)
    publishing = Publishing("newsmon", 262144)
    pipeline = Pipeline(source, thread, Processor(store, source, publishing), TaggingPool(0, publishing),
                        load_engine([WATCHLISTS]))  # fmt: skip
    running = asyncio.create_task(pipeline.run())
    try:
        await source.run(pipeline.put)
        await asyncio.wait_for(pipeline.drained(), 60)
    finally:
        await pipeline.finish()
        await asyncio.gather(running, return_exceptions=True)
        await pipeline.close()
        thread.close()
    order = [name for batch in source.reported for name in batch]
    assert sorted(set(order)) == ["a-huge.txt", "b-copy.txt", "c-small.txt"]
    assert order.index("b-copy.txt") > order.index("a-huge.txt"), source.reported
    assert order.count("a-huge.txt") == 1

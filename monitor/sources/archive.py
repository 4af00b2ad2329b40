"""Archive source: the article files under a folder that was never watched, for ``monitor backfill``."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.config import WatchSettings
from monitor.sources import Emit
from monitor.sources.files import FolderFiles
from monitor.sources.tree import files_below


class ArchiveSource(FolderFiles):
    """The article files under a folder that was never watched (``monitor backfill``), emitted once in
    path order. What a failed batch leaves is not emitted again: a later backfill takes it."""

    def __init__(self, settings: WatchSettings) -> None:
        super().__init__(settings)
        self.files = sorted(path for root in self.roots for path in files_below(root, self.names))

    async def run(self, emit: Emit) -> None:
        self.ready.set()
        for path in self.files:
            await emit(str(path))

    def retry(self, keys: Sequence[str]) -> None:
        """Nothing to do: the walk is not repeated."""

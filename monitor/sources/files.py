"""The files under some folders as article keys, the part every folder source shares (the watched folders
and ``monitor backfill``'s archive): keys are paths, versions their stamps, reads go through the safe reader
(``reading.py``), bad files may be moved to the quarantine folder."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from monitor.config import WatchSettings
from monitor.keys import shown
from monitor.reading import read_file_timed, version_of
from monitor.sources import RawArticle, Rejected
from monitor.sources.tree import NameFilter

log = structlog.get_logger("monitor.sources.files")


#: bad inputs that are not the folder's to move: gone, or not files of the folder at all
NOT_MOVED = frozenset({"vanished", "symlink-outside", "not-a-regular-file", "hard-link"})


class FolderFiles:
    """Article files under some folders, as a source sees them: keys are paths, versions their stamps,
    reads go through the safe reader, bad files may be moved to the quarantine folder."""

    def __init__(self, settings: WatchSettings) -> None:
        self.roots = [p.absolute() for p in settings.paths]
        self.max_bytes = settings.max_bytes
        self.hardlinks = settings.hardlinks
        self.quarantine = settings.quarantine
        skip = frozenset({settings.quarantine.absolute()} if settings.quarantine else ())
        self.names = NameFilter(tuple(settings.include), tuple(settings.ignore), skip, settings.case_sensitive)
        self.ready = asyncio.Event()

    def version(self, key: str) -> str | None:
        return version_of(Path(key))

    def read(self, key: str) -> RawArticle:
        return RawArticle(shown(key), *read_file_timed(Path(key), self.roots, self.max_bytes, hardlinks=self.hardlinks))

    def moved(self, key: str) -> bool:
        """Files of a folder that is not watched are not followed when their folder moves."""
        return False

    def status(self) -> dict[str, Any]:
        return {}

    def committed(self, keys: Sequence[str]) -> None:  # the store's record of a file's version marks it done
        pass

    def settled(self, rejected: Sequence[Rejected]) -> None:
        """Move bad files aside when configured; never files that are gone or not ours to move."""
        if self.quarantine is None:
            return
        for bad in rejected:
            if bad.reason in NOT_MOVED:
                continue
            source = Path(bad.key)
            target = self.quarantine / f"{int(time.time())}-{source.name}"
            try:
                self.quarantine.mkdir(parents=True, exist_ok=True)
                shutil.move(source, target)
            except OSError as exc:
                log.warning("could not quarantine file", path=str(source), error=exc.strerror or str(exc))

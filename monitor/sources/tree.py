"""Which files under a watched folder are articles: the name filter and the one directory walker,
shared by the folder source and ``monitor backfill`` so that both take exactly the same files."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path


@dataclass(frozen=True)
class NameFilter:
    include: tuple[str, ...]
    ignore: tuple[str, ...]
    #: folders never entered (the quarantine folder, when it sits inside a watched one)
    skip_dirs: frozenset[Path] = field(default_factory=frozenset)
    #: False: `*.txt` takes `UPPER.TXT` too (and `*.tmp` skips `X.TMP`), as people name files
    case_sensitive: bool = False

    def accepts_file(self, name: str) -> bool:
        return self.why_not(name) is None

    def why_not(self, name: str) -> str | None:
        """Why a file name is not taken (which setting), or None when it is."""
        if self.ignores(name):
            return "matched by watch.ignore"
        if not self._matches(name, self.include):
            return "not matched by watch.include"
        return None

    def ignores(self, name: str) -> bool:
        return self._matches(name, self.ignore)

    def _matches(self, name: str, patterns: tuple[str, ...]) -> bool:
        if self.case_sensitive:
            return any(fnmatchcase(name, pattern) for pattern in patterns)
        folded = name.casefold()
        return any(fnmatchcase(folded, pattern.casefold()) for pattern in patterns)

    def skips_dir(self, path: Path) -> bool:
        return self.ignores(path.name) or path in self.skip_dirs

    def skips_below(self, path: Path, root: Path) -> bool:
        """Whether ``path`` (below ``root``) is an ignored name or inside a folder that is never entered:
        what a recursive watcher reports that a walk would not have gone near."""
        if not path.is_relative_to(root):
            return True
        folder = path
        while folder != root:
            if self.skips_dir(folder):
                return True
            folder = folder.parent
        return False


def folders_below(top: Path, names: NameFilter) -> Iterator[Path]:
    """``top`` and every folder below it that is not skipped; symlinked folders are never entered."""
    with contextlib.suppress(OSError):
        if not top.is_dir() or top.is_symlink():
            return
    for folder, dirnames, _files in os.walk(top, followlinks=False):
        dirnames[:] = [d for d in dirnames if not names.skips_dir(Path(folder, d))]
        yield Path(folder)


def files_below(top: Path, names: NameFilter) -> Iterator[Path]:
    """Accepted names below ``top``, in name order per folder; symlinks (to files or folders) are listed,
    never followed: the reader judges where they lead."""
    for folder, dirnames, filenames in os.walk(top, followlinks=False):
        base = Path(folder)
        links = [d for d in dirnames if (base / d).is_symlink()]
        dirnames[:] = [d for d in dirnames if d not in links and not names.skips_dir(base / d)]
        for name in sorted(filenames + links):
            if names.accepts_file(name):
                yield base / name


def behind_symlink(path: Path, root: Path) -> bool:
    """Whether a folder between ``root`` and ``path`` is a symlink (or gone): a watcher that follows
    symlinked folders reports files there, and those are never taken."""
    folder = path.parent
    while folder != root and folder.is_relative_to(root):
        try:
            if folder.is_symlink():
                return True
        except OSError:
            return True
        folder = folder.parent
    return False


def holds_folder(top: Path, names: NameFilter, inode: int) -> bool:
    """Whether the folder with this inode is ``top`` or below it (where a renamed folder went)."""
    for folder in folders_below(top, names):
        with contextlib.suppress(OSError):
            if folder.lstat().st_ino == inode:
                return True
    return False

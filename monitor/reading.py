"""Reading article files safely: what a watched folder may make the daemon open, and how much of it.

The one place that opens article files (the folder source, ``monitor tag`` and backfill all come here):
symlinks are read only when they resolve inside the watched folders, FIFOs and devices are refused
without being opened (an open FIFO would block), sizes are capped before and while reading, and what
was opened is checked by its descriptor (a folder swapped for a symlink cannot lead outside). Parsing
the bytes is ``articles.py``'s job, not this module's.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

from monitor.articles import ArticleError


def version_of(path: Path) -> str | None:
    """A file version's identity without reading it: size, mtime and ctime (ctime changes with
    permissions and ownership too, so a file made readable after a failed read is retried).
    None when the file is gone."""
    try:
        return version_from(path.lstat())
    except OSError:
        return None


def version_from(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def read_file(path: Path, roots: Sequence[Path] | None, max_bytes: int, *, hardlinks: bool = False) -> bytes:
    """The bytes of a regular file under ``roots``, or an ArticleError saying why not (see
    ``read_file_timed``)."""
    return read_file_timed(path, roots, max_bytes, hardlinks=hardlinks)[0]


def read_file_timed(
    path: Path, roots: Sequence[Path] | None, max_bytes: int, *, hardlinks: bool = False
) -> tuple[bytes, float]:
    """The bytes of a regular file under ``roots`` and its modification time (from the descriptor that
    was read: the article's date when it says none), or an ArticleError saying why not.

    ``roots`` None: no containment (a file named on the command line is trusted to be where it is),
    the other guards still apply. Under ``roots``, a file with more than one hard link is refused unless
    ``hardlinks``: its other name may be anywhere on the file system (a secret the writer cannot read),
    and no check can tell where.
    """
    real = path
    resolved_roots = None if roots is None else [root.resolve() for root in roots]
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            try:
                real = path.resolve(strict=True)
            except RuntimeError as exc:  # Python reports symlink loops this way
                raise ArticleError("symlink-loop", "the symlink points at itself (loop)") from exc
            if not _inside(real, resolved_roots):
                raise ArticleError("symlink-outside", "the symlink points outside the watched folders")
            st = real.stat()
        _check_kind_and_size(st, max_bytes)
        data, mtime = _read_opened(real, resolved_roots, max_bytes, hardlinks or roots is None)
    except ArticleError:
        raise
    except FileNotFoundError as exc:
        if roots is None:  # named on the command line: it never was there
            raise ArticleError("not-found", "no such file") from exc
        raise ArticleError("vanished", "the file disappeared before it could be read") from exc
    except PermissionError as exc:
        raise ArticleError("unreadable", "no permission to read the file") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ArticleError("symlink-loop", "too many levels of symbolic links") from exc
        raise ArticleError("unreadable", exc.strerror or str(exc)) from exc
    if len(data) > max_bytes:
        raise ArticleError("too-large", f"the file grew over the limit of {max_bytes} bytes")
    return data, mtime


def _inside(path: Path, roots: Sequence[Path] | None) -> bool:
    return roots is None or any(path.is_relative_to(root) for root in roots)


def _check_kind_and_size(st: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise ArticleError("not-a-regular-file", f"not a regular file ({_file_kind(st.st_mode)})")
    if st.st_size > max_bytes:
        raise ArticleError("too-large", f"{st.st_size} bytes is over the limit of {max_bytes}")


def _read_opened(real: Path, roots: Sequence[Path] | None, max_bytes: int, hardlinks: bool) -> tuple[bytes, float]:
    """Open without following a link swapped in meanwhile, then judge the descriptor itself."""
    fd = os.open(real, OPEN_FLAGS)
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ArticleError("not-a-regular-file", "not a regular file")
        if st.st_nlink > 1 and not hardlinks:
            raise ArticleError(
                "hard-link",
                f"the file has {st.st_nlink} hard links; another may be outside the watched folders "
                "(copy or move articles in, or set watch.hardlinks = true)",
            )
        opened = _opened_path(handle.fileno(), real, st)
        if opened is None or not _inside(opened, roots):
            raise ArticleError("symlink-outside", "the path leads outside the watched folders (a symlinked folder)")
        return handle.read(max_bytes + 1), st.st_mtime


#: never through a symlink swapped in for the file, never blocking on a FIFO (flags Windows lacks are 0 there)
OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def _opened_path(fd: int, real: Path, st: os.stat_result) -> Path | None:
    """Where the open descriptor really is, whatever was swapped along its path meanwhile: Linux's
    ``/proc/self/fd``, macOS's ``F_GETPATH``; elsewhere (Windows) the resolved path, if it still is the
    opened file (device and inode). None: it is not."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        pass
    if sys.platform == "darwin":
        import fcntl

        return Path(os.fsdecode(fcntl.fcntl(fd, fcntl.F_GETPATH, bytes(1024)).rstrip(b"\0")))
    resolved = Path(os.path.realpath(real))
    try:
        now = resolved.stat()
    except OSError:
        return None
    return resolved if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino) else None


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a special file"

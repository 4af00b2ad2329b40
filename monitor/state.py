"""The state folder as a whole: one writer at a time, a database checked before it is trusted, and a full
disk treated as a condition rather than a crash.

- The lock is held on the folder itself (``flock`` on its descriptor), not on a file in it: deleting a file
  cannot let a second publisher in.
- At start the database is checked (``PRAGMA quick_check``, about a second per GB): a corrupt one is named
  in one line instead of a traceback later (or a daemon that says ready and fails every batch). ``monitor.state``
  records that the folder holds state, so a database found empty or missing next to it is refused, not
  silently rebuilt (that would alert every article in the watched folders again); ``--rebuild-state`` sets
  the old database aside and starts afresh.
- A write that does not fit (``SQLITE_FULL``, ``ENOSPC``, a quota, a file-size limit) is not a reason to
  stop: ``DiskWatch`` says so in one line when the first write fails and in one line when the last part
  that failed writes again; meanwhile intake waits and delivered alerts are remembered in memory.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import structlog

from monitor.alerts import now_iso
from monitor.store import DB_NAME, Store, StoreThread

if sys.platform == "win32":  # no flock, no rlimits: the lock is a locked byte of a file in the folder
    import msvcrt
else:
    import fcntl
    import resource

log = structlog.get_logger("monitor.state")

#: says that this folder holds state (and who holds it now); its database must not be found empty or missing
MARKER = "monitor.state"

CORRUPT = "state database {path} is corrupt; move it aside or restore it"
EMPTIED = "state database {path} is empty or missing where one was; restore it, or start with --rebuild-state"
FOLDER_FULL = "state folder {path} is full; free space in it and start again"
UNUSABLE = "state folder {path} cannot be used"
REBUILD = (
    "`monitor run --rebuild-state` sets the database aside and starts afresh: the articles in the watched "
    "folders are then processed and alerted again (under the same alert ids)"
)

#: how often an idle publisher tries again to delete what the broker acknowledged, while the disk is full
DELETE_RETRY_S = 1.0

#: free space that makes a full state disk usable again (a few batches' worth of WAL)
ROOM_BYTES = 256 * 1024
#: a write that fails this soon after the disk was told writable again, while it has room, began before
STALE_S = 2.0

DISK_FULL = "state disk full; intake paused, files wait in the watched folders"
DISK_RECOVERED = "state disk writable again; intake resumed"

#: SQLite's words for a write that did not fit: a full file system or quota (SQLITE_FULL), shared memory that
#: could not grow (SHMSIZE), a write refused outright (a file-size limit: EFBIG comes back as a write error)
_FULL_CODES = frozenset({"SQLITE_FULL", "SQLITE_IOERR_SHMSIZE", "SQLITE_IOERR_WRITE"})
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class StateError(Exception):
    """The state folder cannot be used as it is: one line for the operator (``event`` and ``path``, for the
    log; ``str()`` with the path in the sentence, for a terminal)."""

    def __init__(self, template: str, path: Path, detail: str = "", hint: str = "") -> None:
        self.template = template
        self.path = path
        self.detail = detail
        self.hint = hint
        text = template.format(path=path) + (f" ({detail})" if detail else "") + (f"; {hint}" if hint else "")
        super().__init__(text)

    @property
    def event(self) -> str:
        return self.template.replace(" {path}", "")

    def log(self) -> None:
        fields = {key: value for key, value in (("detail", self.detail), ("hint", self.hint)) if value}
        log.error(self.event, path=str(self.path), **fields)


def is_storage_full(exc: BaseException) -> bool:
    """A write that failed for want of space (or of a larger file): worth waiting out, not a crash."""
    if isinstance(exc, sqlite3.Error):
        return _code(exc) in _FULL_CODES
    return isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS


def is_corrupt(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and _code(exc).startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))


def describe(exc: BaseException) -> str:
    """The error in a few words, with SQLite's code (a "disk I/O error" says little without it)."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    if isinstance(exc, sqlite3.Error) and _code(exc):
        return f"{exc} ({_code(exc)})"
    return str(exc)


def _code(exc: sqlite3.Error) -> str:
    """SQLite's extended error name; empty for an error raised by our own code (a layout too new)."""
    return str(getattr(exc, "sqlite_errorname", "") or "")


def state_problem(exc: BaseException, state_dir: Path) -> StateError:
    """What an error met while opening or using the state means for the operator."""
    if is_corrupt(exc):
        return StateError(CORRUPT, state_dir / DB_NAME, describe(exc), REBUILD)
    if is_storage_full(exc):
        return StateError(FOLDER_FULL, state_dir, describe(exc))
    return StateError(UNUSABLE, state_dir, describe(exc))


class StateLock:
    """One writer per state folder. Two publishers draining one outbox (a second daemon, or ``backfill
    --publish`` beside a running daemon) would send every message twice and break the order per rule.
    An advisory lock on the folder's own descriptor, held for the process's lifetime; the kernel drops it
    on any exit."""

    def __init__(self, state_dir: Path) -> None:
        self.folder = state_dir
        self._fd: int | None = None

    def acquire(self) -> bool:
        """False when another process holds it; ``StateError`` when the folder cannot be had at all."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = _lock_target(self.folder)
        except OSError as exc:
            raise state_problem(exc, self.folder) from exc
        if not _try_lock(fd, exclusive=True):
            os.close(fd)
            return False
        self._fd = fd
        return True

    def holder(self) -> str:
        """The pid the holder wrote into the marker, for the error message."""
        return str(_read_marker(self.folder).get("pid", "?"))

    def held(self) -> bool:
        """Whether a process holds the lock, probed with a shared lock for an instant, writing nothing
        (``monitor status``); raises OSError when the folder cannot be read."""
        if sys.platform == "win32" and not (self.folder / LOCK_FILE).exists():
            return False
        try:
            fd = _lock_target(self.folder)
        except FileNotFoundError:
            return False
        try:
            return not _try_lock(fd, exclusive=False)
        finally:
            os.close(fd)  # closing drops the probe's own lock

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


#: Windows: the file whose first byte is locked (a file held open cannot be deleted there)
LOCK_FILE = "monitor.lock"


def _lock_target(folder: Path) -> int:
    """The descriptor the lock is held on: the folder itself, or on Windows a file in it."""
    if sys.platform == "win32":
        return os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def _try_lock(fd: int, *, exclusive: bool) -> bool:
    """Take the lock without waiting; False when another process holds it."""
    if sys.platform == "win32":
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # one kind of lock there: the probe takes it for an instant
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def open_state(state_dir: Path, *, rebuild: bool = False) -> None:
    """Check the state folder before it is used (the caller holds its lock), create or migrate its database,
    and mark the folder as holding state. Raises ``StateError``."""
    db = state_dir / DB_NAME
    try:
        problem = examine(state_dir)
        if problem is not None and not rebuild:
            raise problem
        if problem is not None:
            aside = _set_aside(db)
            log.warning("state database set aside; starting with an empty state", path=str(db), moved_to=aside)
        elif rebuild:
            log.warning("--rebuild-state ignored: the state database is sound", path=str(db))
        Store(db).close()
        _write_marker(state_dir)
    except (OSError, sqlite3.Error) as exc:
        raise state_problem(exc, state_dir) from exc


def check_state(state_dir: Path) -> None:
    """``examine`` for a reader (a dry run): raises ``StateError`` for anything wrong, writes nothing."""
    try:
        problem = examine(state_dir)
    except (OSError, sqlite3.Error) as exc:
        raise state_problem(exc, state_dir) from exc
    if problem is not None:
        raise problem


def examine(state_dir: Path) -> StateError | None:
    """What is wrong with the state database, read only: corrupt, or emptied in a folder that had one."""
    db = state_dir / DB_NAME
    had_state = (state_dir / MARKER).exists()
    if not db.exists():
        return StateError(EMPTIED, db, "missing", REBUILD) if had_state else None
    conn = sqlite3.connect(db)
    try:
        verdict = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.Error as exc:
        if is_corrupt(exc):
            return StateError(CORRUPT, db, describe(exc), REBUILD)
        raise
    finally:
        conn.close()
    if verdict != "ok":
        return StateError(CORRUPT, db, " ".join(str(verdict).split())[:200], REBUILD)
    if not tables and had_state:
        return StateError(EMPTIED, db, "no tables", REBUILD)
    return None


def _set_aside(db: Path) -> str:
    """Rename the database (and its WAL, so the copy stays readable) out of the way; nothing is deleted."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = db.with_name(f"{db.name}.broken-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{db}{suffix}")
        if source.exists():
            os.replace(source, f"{aside}{suffix}")
    return str(aside)


def _read_marker(state_dir: Path) -> dict[str, object]:
    try:
        data = json.loads((state_dir / MARKER).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_marker(state_dir: Path) -> None:
    """Rewritten at every start (write, fsync, rename): on a full disk this is where a start stops."""
    created = _read_marker(state_dir).get("created") or now_iso()
    doc = {"created": created, "started": now_iso(), "pid": os.getpid()}
    target = state_dir / MARKER
    partial = state_dir / f".{MARKER}.tmp"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, (json.dumps(doc) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, target)
    if sys.platform == "win32":
        return  # a folder cannot be opened to fsync there; NTFS journals the rename
    folder = os.open(state_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class DiskWatch:
    """Whether the state disk takes writes, told once per change: one line when a write first fails for want
    of space, one when there is room again, i.e. every part whose write failed has written since and the file
    system has ``ROOM_BYTES`` free. (Near the limit, a small write can squeeze into the slack a failed one left
    behind while the next large one fails again: no reason to say "recovered" and then "full" again.)"""

    def __init__(self, state_dir: Path | None) -> None:
        self.state_dir = state_dir
        self.full = False
        self._failing: set[str] = set()
        self._since = 0.0
        self._recovered = -STALE_S

    @classmethod
    def of(cls, store: StoreThread) -> DiskWatch:
        return cls(store.path.parent if store.path is not None else None)

    def failed(self, part: str, exc: BaseException) -> None:
        self._failing.add(part)
        if not self.full and self._stale():
            return  # a write begun before the space came back, failing just after: the disk is not full again
        if not self.full:
            self.full = True
            self._since = time.monotonic()
            log.error(DISK_FULL, state=str(self.state_dir), part=part, error=describe(exc))

    def wrote(self, part: str) -> None:
        self._failing.discard(part)
        if self.full and not self._failing and self._has_room():
            self.full = False
            self._recovered = time.monotonic()
            log.warning(DISK_RECOVERED, state=str(self.state_dir), full_s=round(time.monotonic() - self._since, 1))

    def _stale(self) -> bool:
        """A failure told within ``STALE_S`` of a recovery while there is room: its write began before."""
        return time.monotonic() - self._recovered < STALE_S and self._has_room()

    def _has_room(self) -> bool:
        if self.state_dir is None:
            return True
        try:
            free = shutil.disk_usage(self.state_dir).free  # what an unprivileged writer may still use
        except OSError:
            return True
        return free >= ROOM_BYTES and self._under_file_size_limit()

    def _under_file_size_limit(self) -> bool:
        """A file-size limit on the daemon (systemd's ``LimitFSIZE``) fills the state as a full disk does: the
        database and its WAL must stay ``ROOM_BYTES`` under it (the file system's free space says nothing)."""
        if sys.platform == "win32":
            return True  # no file-size limits there
        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft == resource.RLIM_INFINITY or self.state_dir is None:
            return True
        sizes = []
        for name in (DB_NAME, f"{DB_NAME}-wal"):
            try:
                sizes.append((self.state_dir / name).stat().st_size)
            except OSError:
                continue
        return soft - max(sizes, default=0) >= ROOM_BYTES


class Acknowledged:
    """Outbox messages the broker acknowledged. They are deleted at once; when the disk is too full even for
    a delete, they are remembered here instead: every batch passes over them (sent once, and the publisher
    keeps running), and the delete is tried again until the disk allows it. A stop while the disk is still
    full leaves them in the outbox, to be sent again (same ids) after the restart."""

    def __init__(self, store: StoreThread, disk: DiskWatch) -> None:
        self.store = store
        self.disk = disk
        self.undeleted: set[int] = set()

    def to_skip(self) -> frozenset[int]:
        return frozenset(self.undeleted)

    def idle_wait(self, longest: float) -> float:
        """How long an idle publisher may wait before it tries the delete again."""
        return min(longest, DELETE_RETRY_S) if self.undeleted else longest

    async def delete(self, seqs: Iterable[int] = ()) -> None:
        """Delete these and any still remembered; remember them all if the disk does not allow it."""
        self.undeleted.update(seqs)
        if not self.undeleted:
            return
        try:
            await self.store.call(Store.acknowledge, sorted(self.undeleted))
        except (sqlite3.Error, OSError) as exc:
            if not is_storage_full(exc):
                raise
            self.disk.failed("outbox", exc)
            return
        self.undeleted.clear()
        self.disk.wrote("outbox")

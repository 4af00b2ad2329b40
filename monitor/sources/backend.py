"""Which folder-watching backend a daemon uses (``[watch] backend``), and building it.

``auto`` takes inotify on Linux, where it tells a rename into place from a write (no settle wait for
careful writers), unless inotify cannot be had (asyncinotify missing, or no inotify instance left) or a
watched folder is on a network file system, where inotify sees only the changes made by this host; then
watchfiles, polling for such a folder. Elsewhere (macOS, Windows) watchfiles, on the platform's own
notifications. Each backend's module is imported only when it is picked: nothing Linux-only elsewhere.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from monitor.config import WatchSettings
from monitor.sources.folders import FolderSource

#: file system types on which a watcher sees only this host's changes (inotify, and watchfiles' notify):
#: watched folders on these are polled
NETWORK_FILE_SYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "lustre", "davfs", "fuse.sshfs"}
    | {"fuse.glusterfs", "fuse.rclone", "fuse.s3fs", "fuse.cephfs", "virtiofs", "vboxsf", "fuse.vmhgfs-fuse"}
)

MOUNTINFO = Path("/proc/self/mountinfo")


class BackendUnavailable(RuntimeError):
    """The configured backend cannot run here (``inotify`` off Linux, or without asyncinotify)."""


def pick(setting: str, *, platform: str, inotify_usable: bool, on_network_fs: bool) -> str:
    """The backend ``auto`` stands for here (a forced one stands for itself)."""
    if setting != "auto":
        return setting
    if platform.startswith("linux") and inotify_usable and not on_network_fs:
        return "inotify"
    return "watchfiles"


def mount_types(mountinfo: str) -> dict[Path, str]:
    """Mount point -> file system type, from the text of ``/proc/self/mountinfo``."""
    mounts: dict[Path, str] = {}
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if sep and len(fields) >= 5 and tail:
            point = fields[4].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
            mounts[Path(point)] = tail[0]
    return mounts


def file_system_of(path: Path, mounts: dict[Path, str]) -> str | None:
    """The type of the file system ``path`` is on: that of the longest mount point above it."""
    best = max((point for point in mounts if path.is_relative_to(point)), key=lambda p: len(p.parts), default=None)
    return None if best is None else mounts[best]


def on_network_fs(paths: Iterable[Path]) -> list[Path]:
    """The paths that lie on a network file system (Linux; elsewhere none are known)."""
    try:
        mounts = mount_types(MOUNTINFO.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []
    return [p for p in paths if file_system_of(p.resolve(), mounts) in NETWORK_FILE_SYSTEMS]


def inotify_usable() -> bool:
    """Whether an inotify instance can be had here (asyncinotify installed, Linux, under the user's limit)."""
    try:
        from asyncinotify import Inotify
    except (ImportError, OSError):  # not installed, or no inotify in this libc
        return False
    try:
        Inotify().close()
    except OSError:  # EMFILE: fs.inotify.max_user_instances reached
        return False
    return True


def folder_source(settings: WatchSettings) -> FolderSource:
    """The folder source of the configured backend."""
    roots = [p.absolute() for p in settings.paths]
    network = on_network_fs(roots)
    usable = settings.backend != "watchfiles" and inotify_usable()
    name = pick(settings.backend, platform=sys.platform, inotify_usable=usable, on_network_fs=bool(network))
    if name == "inotify":
        if not usable:
            raise BackendUnavailable(
                'watch.backend = "inotify" needs Linux and asyncinotify; use "auto" or "watchfiles" here'
            )
        from monitor.sources.inotify_folders import InotifyFolderSource

        return InotifyFolderSource(settings)
    from monitor.sources.watchfiles_folders import WatchfilesFolderSource

    return WatchfilesFolderSource(settings, force_polling=bool(network))

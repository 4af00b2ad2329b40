"""Which folder-watching backend ``[watch] backend`` gives, and the settle rule both backends share: pure
decisions, pinned without a watcher (the backends themselves: test_folder_source.py, test_watching.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from monitor.config import WatchSettings
from monitor.sources.backend import file_system_of, folder_source, inotify_usable, mount_types, pick
from monitor.sources.settle import Settling, Verdict, is_fresh

MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /srv/news rw,relatime shared:20 - nfs4 filer:/news rw,vers=4.2
41 40 0:36 / /srv/news/local\\040desk rw shared:21 - tmpfs tmpfs rw
42 22 0:37 / /mnt/share rw - cifs //nas/share rw
"""


@pytest.mark.parametrize(
    ("setting", "platform", "usable", "network", "expected"),
    [
        ("auto", "linux", True, False, "inotify"),
        ("auto", "linux", False, False, "watchfiles"),  # asyncinotify missing, or no inotify instance left
        ("auto", "linux", True, True, "watchfiles"),  # inotify sees nothing another host writes there
        ("auto", "darwin", False, False, "watchfiles"),
        ("auto", "win32", False, False, "watchfiles"),
        ("inotify", "linux", True, True, "inotify"),  # forced: the operator's choice stands
        ("watchfiles", "linux", True, False, "watchfiles"),
    ],
)
def test_auto_is_inotify_on_linux_with_local_folders_and_watchfiles_otherwise(
    setting: str, platform: str, usable: bool, network: bool, expected: str
) -> None:
    assert pick(setting, platform=platform, inotify_usable=usable, on_network_fs=network) == expected


def test_the_file_system_of_a_folder_is_that_of_the_longest_mount_point_above_it() -> None:
    mounts = mount_types(MOUNTINFO)
    assert mounts[Path("/srv/news/local desk")] == "tmpfs", "an escaped space in a mount point"
    assert file_system_of(Path("/srv/news/inbox"), mounts) == "nfs4"
    assert file_system_of(Path("/srv/news/local desk/inbox"), mounts) == "tmpfs"
    assert file_system_of(Path("/srv/newsroom"), mounts) == "ext4", "a prefix of a name is not a parent"
    assert file_system_of(Path("/mnt/share/x"), mounts) == "cifs"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_auto_gives_inotify_here_and_a_forced_watchfiles_is_watchfiles(tmp_path: Path) -> None:
    assert inotify_usable()
    assert folder_source(WatchSettings(paths=[tmp_path])).backend == "inotify"
    assert folder_source(WatchSettings(paths=[tmp_path], backend="watchfiles")).backend == "watchfiles"


def test_a_file_settles_only_after_its_stamp_stayed_unchanged_for_the_settle_time() -> None:
    settling = Settling(0.3)
    path = Path("inbox/a.txt")
    assert settling.start(path, now=10.0)
    assert not settling.start(path, now=10.1), "a second event does not restart its clock"
    assert settling.look(path, (100, 1), now=10.1) is Verdict.WAITING, "the first look only records the stamp"
    assert settling.look(path, (200, 2), now=10.3) is Verdict.WAITING, "grew: the clock starts again"
    assert settling.look(path, (200, 2), now=10.5) is Verdict.WAITING
    assert settling.look(path, (200, 2), now=10.7) is Verdict.SETTLED
    assert path not in settling


def test_a_file_started_with_its_stamp_settles_the_settle_time_after_the_start() -> None:
    settling = Settling(0.3)
    path = Path("inbox/renamed.txt")
    settling.start(path, now=5.0, stamp=(100, 1))  # the watcher looked at it already
    assert settling.look(path, (100, 1), now=5.2) is Verdict.WAITING
    assert settling.look(path, (100, 1), now=5.35) is Verdict.SETTLED


def test_a_file_gone_while_settling_is_dropped() -> None:
    settling = Settling(0.3)
    path = Path("inbox/upload.txt")
    settling.start(path, now=0.0)
    assert settling.look(path, None, now=0.1) is Verdict.GONE
    assert len(settling) == 0


def test_a_file_last_written_longer_ago_than_the_settle_time_is_not_fresh() -> None:
    now_ns = 1_000_000_000_000
    assert is_fresh(now_ns - 100_000_000, now_ns, 0.3)
    assert not is_fresh(now_ns - 400_000_000, now_ns, 0.3)
    assert not is_fresh(now_ns, now_ns, 0.0), "settle_ms = 0: nothing waits"

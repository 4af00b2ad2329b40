"""What tests share beyond the harness: the sample articles, a running daemon that must stop cleanly, the
ACL broker of the security tests, waiting on the test's own event loop, and the daemon's batch steps
in process.

The real servers and the daemon subprocess themselves live in ``harness`` (the benchmarks use them too).
"""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path

import pytest

from harness.nats import NatsCluster, nats_server_binary
from harness.processes import REPO, DaemonProcess, Mosquitto, free_port
from monitor.analysis import Analysis, Job, Publishing
from monitor.config import StoriesSettings, WatchSettings
from monitor.engine import Engine
from monitor.processing import Outcome, Processor, StoryOrder
from monitor.sources.files import FolderFiles
from monitor.store import DB_NAME, OutboxMessage, ProcessedArticle, Store
from monitor.stories import StoryBook
from monitor.workers import TaggingPool
from tests.certs import Issued, Pki

#: the sample articles of the issues (outside the project: their text is never copied into it)
SEEDS = REPO.parent / "shared" / "seeds"

# -- sample articles ---------------------------------------------------------------------------------------

#: fires the shipped agreement rule, and only it (title "Pact signed"; Russia twice: Russia, Moscow)
AGREEMENT_ARTICLE = "Pact signed\n\nRussia and North Korea signed a new agreement in Moscow today.\n"
#: fires the agreement and the meeting rules: two alerts from one article
TREATY_ARTICLE = "Putin and Kim sign a treaty\n\nPutin met Kim Jong Un in Pyongyang; the two signed a defence treaty.\n"
#: fires no rule: a clean article
QUIET_ARTICLE = "Weather report\n\nRain is expected in the hills this weekend.\n"


def numbered_pact(n: int) -> str:
    """Agreement articles that differ in content (each its own alert), told apart by ``n``."""
    return f"Russia and North Korea sign a pact {n}\n\nRussia and North Korea signed a new agreement, number {n}.\n"


# -- a running daemon --------------------------------------------------------------------------------------


@contextmanager
def running_daemon(
    daemon: DaemonProcess | Path,
    broker_port: int | None = None,
    *,
    extra_env: dict[str, str] | None = None,
    conf_extra: str = "",
    ready: bool = True,
    exit_code: int = 0,
) -> Iterator[DaemonProcess]:
    """``monitor run`` started (from a workdir and the usual knobs, or a ``DaemonProcess`` set up beforehand:
    files in its inbox, a wrapper, a second run on the same state), ready unless told not to wait, and
    stopped with SIGTERM on the way out, where it must exit with ``exit_code`` (0: a clean stop)."""
    if isinstance(daemon, Path):
        assert broker_port is not None, "a daemon made here needs its broker's port"
        daemon = DaemonProcess(daemon, broker_port, extra_env=extra_env or {}, conf_extra=conf_extra)
    else:
        assert broker_port is None and extra_env is None and not conf_extra, "set up the given daemon itself"
    daemon.start()
    try:
        if ready:
            daemon.wait_ready()
        yield daemon
    except BaseException:
        if daemon.proc is not None:
            daemon.stop()  # the test's own failure is the one to report
        raise
    code = daemon.stop()
    assert code == exit_code, f"the daemon exited with {code}; its log ends:\n{log_tail(daemon)}"


def log_tail(daemon: DaemonProcess, lines: int = 20) -> str:
    if not daemon.log_path.exists():
        return ""
    return "\n".join(daemon.log_path.read_text(errors="replace").splitlines()[-lines:])


# -- waiting on the test's event loop ----------------------------------------------------------------------


async def wait_until_async(
    predicate: Callable[[], bool],
    timeout: float,  # noqa: ASYNC109 (wait_until's signature: a deadline for polling, not for one call)
    interval: float = 0.02,
    what: str = "condition",
) -> None:
    """``wait_until`` for tests whose code under test runs on the test's own event loop: it keeps running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# -- the ACL broker ----------------------------------------------------------------------------------------

#: the broker user of a SecureBroker, and its password (tests check it never reaches a log)
USER = "newsmon"
PASSWORD = "pw-Zq7-never-in-logs"
ALLOW_ALL = f"topic read newsmon/#\n\nuser {USER}\ntopic readwrite newsmon/#\n"


@dataclass
class SecureBroker:
    """Mosquitto with a password file and an ACL file, optionally a TLS listener on ``tls_port``."""

    server: Mosquitto
    tls_port: int
    password_file: Path
    acl_file: Path

    def set_acl(self, text: str) -> None:
        """Rewrite the ACL and make Mosquitto re-read it (SIGHUP), as an operator would."""
        self.acl_file.write_text(text)
        assert self.server.proc is not None
        self.server.proc.send_signal(signal.SIGHUP)

    def log(self) -> str:
        path = self.server.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""


def secure_broker(
    folder: Path,
    *,
    acl: str = ALLOW_ALL,
    certs: Issued | None = None,
    pki: Pki | None = None,
    require_client_cert: bool = False,
) -> SecureBroker:
    if shutil.which("mosquitto_passwd") is None:
        pytest.fail("mosquitto_passwd is not installed (it comes with the mosquitto package)")
    folder.mkdir(parents=True, exist_ok=True)
    password_file = folder / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(password_file), USER, PASSWORD], check=True)
    acl_file = folder / "acl"
    acl_file.write_text(acl)
    tls_port = free_port()
    # max_queued_messages 0 (the harness default) makes Mosquitto 2.0.11 drop a v5 client after an ACL refusal
    conf = (
        f"password_file {password_file}\nacl_file {acl_file}\n"
        "log_type information\nlog_type debug\nmax_queued_messages 10000\n"
    )
    if certs is not None:
        assert pki is not None
        conf += (
            f"\nlistener {tls_port} 127.0.0.1\n"
            f"certfile {certs.cert}\nkeyfile {certs.key}\ncafile {pki.ca.cert_path}\n"
            "tls_version tlsv1.2\n"
        )
        if require_client_cert:
            conf += "require_certificate true\n"
    server = Mosquitto(folder / "mosquitto", extra_conf=conf)
    server.start()
    return SecureBroker(server, tls_port, password_file, acl_file)


def mount_tmpfs(folder: Path, size: str = "2m") -> str | None:
    """A tmpfs of ``size`` over ``folder`` (unmount it in teardown): None once mounted, else why not."""
    if shutil.which("mount") is None:
        return "no mount command"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)], capture_output=True, text=True
    )
    return None if done.returncode == 0 else f"mount not permitted: {done.stderr.strip()}"


def fill_disk(ballast: Path) -> None:
    """Write ``ballast`` until its file system has no room for one more page (megabytes first, then pages,
    so that a disk with room for what the test runs after freeing it fills as quickly as a small one)."""
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 20, 1 << 16, 4096):
            while True:
                try:
                    os.write(fd, b"\0" * chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)


def nats_cluster(folder: Path, size: int) -> NatsCluster:
    """A NATS cluster of ``size`` nodes with JetStream in ``folder``, not started yet; without the
    nats-server binary the test fails (CI installs it: a missing server is no reason to skip)."""
    if nats_server_binary() is None:
        pytest.fail("nats-server is not installed: .ci/run installs Debian's nats-server")
    return NatsCluster(folder, size=size)


@contextmanager
def running_nats(folder: Path, size: int) -> Iterator[NatsCluster]:
    """``nats_cluster``, started, and stopped when the block ends."""
    cluster = nats_cluster(folder, size)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


#: the day archive tests date their articles on: yesterday (UTC, as the suite started), never the day a
#: test straddling midnight would find changed between writing an article and asking for its day
ARCHIVE_DAY = (datetime.now(UTC) - timedelta(days=1)).date()


def write_dated(path: Path, text: str, day: date = ARCHIVE_DAY) -> Path:
    """Writes an article whose file time is noon UTC of `day`: its own date when its text names none."""
    path.write_text(text)
    noon = datetime.combine(day, day_time(12), UTC).timestamp()
    os.utime(path, (noon, noon))
    return path


# -- the batch steps in process ---------------------------------------------------------------------------


class BatchRunner:
    """The daemon's batch steps in-process, without its event loop: a folder of real files, a real
    store, the worker pool, and ``process`` doing prepare, tag and finish in a row."""

    def __init__(
        self,
        workdir: Path,
        engine: Engine,
        workers: int = 0,
        *,
        commit: bool = True,
        stories: bool = False,
        order: StoryOrder | None = None,
    ) -> None:
        self.inbox = workdir / "inbox"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.engine = engine
        watch = WatchSettings(paths=[self.inbox])
        self.source = FolderFiles(watch)
        self.store = Store.in_dir(workdir / "state")
        #: stories on: a book loaded from the store, as the daemon makes it
        self.stories = StoryBook.from_settings(StoriesSettings(enabled=stories))
        if self.stories is not None and order is None:  # a cluster worker's book is the story log's
            self.store.load_stories(self.stories)
        publishing = Publishing("newsmon", 262144, stories=stories)
        self.processor = Processor(
            self.store, self.source, publishing, commit=commit, stories=self.stories, order=order
        )
        self.pool = TaggingPool(workers, publishing)
        self._loop = asyncio.new_event_loop()

    def __enter__(self) -> BatchRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.run_until_complete(self.pool.close())
        self._loop.close()
        self.store.close()

    def all_keys(self) -> list[str]:
        return [str(path) for path in sorted(self.inbox.iterdir())]

    def tag(self, jobs: list[Job]) -> list[Analysis]:
        return self._loop.run_until_complete(self.pool.tag(self.engine, jobs))

    def process(self, keys: list[str]) -> list[Outcome]:
        prepared = self.processor.prepare(keys, self.engine)
        outcomes = self.processor.finish(prepared, self.tag(prepared.jobs))
        for alone in prepared.aside:  # large articles, committed after their batch
            outcomes += self.processor.finish(alone, self.tag(alone.jobs))
        return outcomes


def fill_state(folder: Path, articles: int = 300) -> Path:
    """A state database of a few hundred pages, as a long run leaves it (a corruption must hit real data)."""
    store = Store.in_dir(folder)
    for n in range(articles):
        message = OutboxMessage(f"alert-{n}", "newsmon/alerts/rule", b"{}" * 400)
        store.commit([ProcessedArticle(f"/in/{n}.txt", "1:1:1", f"sha-{n}", [(f"alert-{n}", "rule")], [message])], [])
    store.close()
    return folder / DB_NAME

"""Security against a real Mosquitto: TLS (CA, hostname, mutual TLS), passwords, ACL refusals, least privilege.

Each broker here has a plain listener for the test's anonymous, read-only observer and, where TLS
is tested, a TLS listener the daemon must use. The daemon authenticates as ``newsmon`` with a
password file; the ACL decides what it may publish. Every daemon log is checked for secrets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from harness.processes import REPO, Collector, DaemonProcess, free_port, monitor_cli, port_open, wait_until
from monitor import events
from monitor.alerts import Alert, ArticleInfo, EvidenceInfo, RuleInfo, SpanInfo, encode_alert
from monitor.mqtt import default_client_id
from monitor.store import Store
from tests.certs import Issued, Pki, make_pki
from tests.support import (
    AGREEMENT_ARTICLE,
    ALLOW_ALL,
    PASSWORD,
    TREATY_ARTICLE,
    USER,
    SecureBroker,
    running_daemon,
    secure_broker,
)

WRONG_PASSWORD = "pw-Wr0ng-never-in-logs-either"
ALERTS = "newsmon/alerts/"
STATUS_ONLY = f"topic read newsmon/#\n\nuser {USER}\ntopic readwrite newsmon/status\n"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def brokers() -> Iterator[list[SecureBroker]]:
    """Stops whatever brokers a test started."""
    started: list[SecureBroker] = []
    yield started
    for broker in started:
        broker.server.stop()


def daemon_for(
    folder: Path,
    port: int,
    password: str = PASSWORD,
    tls: str = "",
    password_mode: int = 0o600,
) -> DaemonProcess:
    """A daemon with username and password file (given through the environment, never the command line)."""
    folder.mkdir(parents=True, exist_ok=True)
    secret = folder / "mqtt-password"
    secret.write_text(password + "\n")
    os.chmod(secret, password_mode)
    return DaemonProcess(
        folder,
        port,
        extra_env={"MONITOR_MQTT__USERNAME": USER, "MONITOR_MQTT__PASSWORD_FILE": str(secret)},
        conf_extra=tls,
    )


def tls_conf(ca: Path, client: Issued | None = None) -> str:
    conf = f'\n[mqtt.tls]\nca_file = "{ca}"\n'
    if client is not None:
        conf += f'cert_file = "{client.cert}"\nkey_file = "{client.key}"\n'
    return conf


def outbox_depth(daemon: DaemonProcess) -> int:
    store = Store.in_dir(daemon.state)
    try:
        return store.outbox_depth()
    finally:
        store.close()


def alert_ids(collector: Collector) -> set[str]:
    return {str(a["id"]) for a in collector.payloads(ALERTS)}


def assert_no_secrets(text: str, pki: Pki | None = None) -> None:
    """No password and no private key material, whatever the scenario."""
    assert PASSWORD not in text
    assert WRONG_PASSWORD not in text
    assert "PRIVATE KEY" not in text
    if pki is not None:
        for key in (pki.client.key, pki.server.key):
            body = "".join(key.read_text().splitlines()[1:-1])
            assert body[:40] not in text.replace("\n", "")


def run_until_processed(daemon: DaemonProcess, count: int, timeout: float = 20) -> None:
    wait_until(lambda: len(daemon.events(events.ARTICLE_PROCESSED)) >= count, timeout, what="articles processed")


# --- TLS -------------------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_alerts_are_delivered_over_tls_verified_against_the_configured_ca(
    tmp_path: Path, pki: Pki, brokers: list[SecureBroker]
) -> None:
    broker = secure_broker(tmp_path / "b", certs=pki.server, pki=pki)
    brokers.append(broker)
    daemon = daemon_for(tmp_path / "d", broker.tls_port, tls=tls_conf(pki.ca.cert_path))
    daemon.drop("pakt.txt", AGREEMENT_ARTICLE)
    with Collector(broker.server.port, "newsmon/#") as collector, running_daemon(daemon):
        wait_until(lambda: len(alert_ids(collector)) == 1, 20, what="the alert over TLS")
    assert daemon.events(events.BROKER_CONNECTED)
    assert outbox_depth(daemon) == 0
    assert f"on port {broker.tls_port}" in broker.log()
    assert_no_secrets(daemon.log_path.read_text(), pki)
    assert_no_secrets(b"\n".join(payload for _, payload, _ in collector.messages).decode(), pki)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("another CA", "certificate verify failed"),
        ("another host", "IP address mismatch"),
    ],
)
def test_an_unverifiable_broker_certificate_is_one_clear_error_and_the_alerts_stay_queued(
    tmp_path: Path, pki: Pki, brokers: list[SecureBroker], case: str, expected: str
) -> None:
    server_cert = pki.wrong_host_server if case == "another host" else pki.server
    ca = pki.other_ca.cert_path if case == "another CA" else pki.ca.cert_path
    broker = secure_broker(tmp_path / "b", certs=server_cert, pki=pki)
    brokers.append(broker)
    daemon = daemon_for(tmp_path / "d", broker.tls_port, tls=tls_conf(ca))
    daemon.drop("pakt.txt", AGREEMENT_ARTICLE)
    with running_daemon(daemon):
        run_until_processed(daemon, 1)
        wait_until(lambda: bool(daemon.events(events.BROKER_UNREACHABLE)), 20, what="the TLS error")
        time.sleep(3)  # several retries happen meanwhile; none may log again
    failures = daemon.events(events.BROKER_UNREACHABLE)
    assert len(failures) == 1, failures
    reason = str(failures[0]["reason"])
    assert reason.startswith("TLS handshake failed (no fallback to plain TCP)")
    assert "CERTIFICATE_VERIFY_FAILED" in reason
    assert expected in reason
    assert not daemon.events(events.BROKER_CONNECTED)
    assert outbox_depth(daemon) == 1
    assert "New client connected" not in broker.log()
    assert_no_secrets(daemon.log_path.read_text(), pki)


@pytest.mark.e2e
def test_mutual_tls_delivers_with_the_client_certificate_and_is_refused_without_it(
    tmp_path: Path, pki: Pki, brokers: list[SecureBroker]
) -> None:
    broker = secure_broker(tmp_path / "b", certs=pki.server, pki=pki, require_client_cert=True)
    brokers.append(broker)
    collector = Collector(broker.server.port, "newsmon/#").start()

    without = daemon_for(tmp_path / "without", broker.tls_port, tls=tls_conf(pki.ca.cert_path))
    without.drop("pakt.txt", AGREEMENT_ARTICLE)
    with running_daemon(without):
        run_until_processed(without, 1)
        wait_until(lambda: bool(without.events(events.BROKER_UNREACHABLE)), 20, what="the refusal")
        time.sleep(3)  # retries meanwhile: one report
    refusals = without.events(events.BROKER_UNREACHABLE)
    assert len(refusals) == 1, refusals
    assert "TLS handshake failed" in str(refusals[0]["reason"])
    assert "CERTIFICATE_REQUIRED" in str(refusals[0]["reason"])
    assert not without.events(events.BROKER_CONNECTED)
    assert outbox_depth(without) == 1
    assert alert_ids(collector) == set()

    with_cert = daemon_for(tmp_path / "with", broker.tls_port, tls=tls_conf(pki.ca.cert_path, pki.client))
    with_cert.drop("pakt.txt", AGREEMENT_ARTICLE)
    try:
        with running_daemon(with_cert):
            wait_until(lambda: len(alert_ids(collector)) == 1, 20, what="the alert over mutual TLS")
    finally:
        collector.stop()
    assert outbox_depth(with_cert) == 0
    for daemon in (without, with_cert):
        assert_no_secrets(daemon.log_path.read_text(), pki)


# --- passwords -------------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_a_wrong_password_is_reported_once_keeps_the_alerts_and_they_arrive_after_the_fix_and_a_restart(
    tmp_path: Path, brokers: list[SecureBroker]
) -> None:
    broker = secure_broker(tmp_path / "b")
    brokers.append(broker)
    collector = Collector(broker.server.port, "newsmon/#").start()
    daemon = daemon_for(tmp_path / "d", broker.server.port, password=WRONG_PASSWORD)
    daemon.drop("pakt.txt", AGREEMENT_ARTICLE)
    daemon.drop("treaty.txt", TREATY_ARTICLE)
    with running_daemon(daemon):
        run_until_processed(daemon, 2)
        wait_until(lambda: bool(daemon.events(events.BROKER_UNREACHABLE)), 20, what="the refusal")
        time.sleep(4)
    refusals = daemon.events(events.BROKER_UNREACHABLE)
    assert len(refusals) == 1, refusals
    assert refusals[0]["reason"] == "broker refused the connection: Not authorized (reason code 0x87)"
    # backoff, not a spin: a handful of attempts in about five seconds
    attempts = broker.log().count("disconnected, not authorised")
    assert 2 <= attempts <= 8, attempts
    queued = len(daemon.events(events.ALERT_QUEUED))
    assert queued == 3
    assert outbox_depth(daemon) == queued
    assert alert_ids(collector) == set()

    (daemon.workdir / "mqtt-password").write_text(PASSWORD + "\n")
    try:
        with running_daemon(daemon):
            wait_until(lambda: len(alert_ids(collector)) == queued, 20, what="the kept alerts")
    finally:
        collector.stop()
    assert outbox_depth(daemon) == 0
    assert_no_secrets(daemon.log_path.read_text())


@pytest.mark.e2e
def test_the_password_file_is_checked_before_the_daemon_starts(tmp_path: Path) -> None:
    daemon = daemon_for(tmp_path / "open", free_port(), password_mode=0o644)
    missing = DaemonProcess(
        tmp_path / "missing",
        free_port(),
        extra_env={"MONITOR_MQTT__USERNAME": USER, "MONITOR_MQTT__PASSWORD_FILE": str(tmp_path / "nope")},
    )
    missing.start()
    assert missing.proc is not None
    assert missing.proc.wait(30) == 2
    problem = " ".join(str(e.get("problem")) for e in missing.events(events.BROKER_SETTINGS))
    assert f"mqtt.password_file {tmp_path / 'nope'}: cannot read: No such file or directory" in problem

    daemon.start()
    try:
        wait_until(lambda: bool(daemon.events(events.BROKER_UNREACHABLE)), 20, what="a connection attempt")
    finally:
        daemon.stop()
    warnings = daemon.events(events.BROKER_SETTINGS)
    assert len(warnings) == 1
    assert warnings[0]["level"] == "warning"
    assert "is open to group or others (mode 0644): chmod 600" in str(warnings[0]["problem"])

    check = monitor_cli("check", "--config", str(missing.config()), env=missing.extra_env)
    assert check.returncode == 1
    assert "mqtt.password_file" in check.stdout
    assert "No such file or directory" in check.stdout
    for text in (daemon.log_path.read_text(), missing.log_path.read_text(), check.stdout + check.stderr):
        assert_no_secrets(text)


@pytest.mark.e2e
def test_monitor_check_warns_about_an_open_password_file_without_showing_any_secret(tmp_path: Path) -> None:
    daemon = daemon_for(tmp_path / "d", free_port(), password_mode=0o640)
    env = {**daemon.extra_env, "MONITOR_CONFIG": str(daemon.config())}
    check = monitor_cli("check", env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "warning: mqtt.password_file" in check.stderr
    assert "mode 0640" in check.stderr
    with_env_password = monitor_cli(
        "check", env={"MONITOR_CONFIG": str(daemon.config()), "MONITOR_MQTT__PASSWORD": PASSWORD}
    )
    assert with_env_password.returncode == 1
    assert "mqtt.username: a password is configured but no username" in with_env_password.stdout
    for result in (check, with_env_password):
        assert_no_secrets(result.stdout + result.stderr)


# --- ACL ---------------------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_an_acl_refused_alert_is_reported_with_the_reason_code_kept_and_delivered_once_the_acl_is_fixed(
    tmp_path: Path, brokers: list[SecureBroker]
) -> None:
    broker = secure_broker(tmp_path / "b", acl=STATUS_ONLY)
    brokers.append(broker)
    daemon = daemon_for(tmp_path / "d", broker.server.port)
    daemon.drop("pakt.txt", AGREEMENT_ARTICLE)
    daemon.drop("treaty.txt", TREATY_ARTICLE)
    with Collector(broker.server.port, "newsmon/#") as collector, running_daemon(daemon):
        wait_until(lambda: bool(daemon.events(events.ALERT_REFUSED)), 20, what="the refusal")
        time.sleep(4)  # retries meanwhile: still one report per refused topic, nothing delivered, nothing lost
        queued = len(daemon.events(events.ALERT_QUEUED))
        refusals = daemon.events(events.ALERT_REFUSED)
        assert sorted(str(r["topic"]) for r in refusals) == [
            "newsmon/alerts/russia-dprk-agreement",
            "newsmon/alerts/russia-dprk-meeting",
        ]
        assert {r["reason"] for r in refusals} == {"Not authorized (reason code 0x87)"}
        assert alert_ids(collector) == set()
        assert any(json.loads(p)["state"] == "online" for t, p, _ in collector.messages if t == "newsmon/status")
        assert queued == 3
        assert outbox_depth(daemon) == queued
        retries = broker.log().count("Denied PUBLISH from daemon-under-test")
        assert 2 * queued <= retries <= 8 * queued, retries  # retried with backoff, not in a tight loop

        broker.set_acl(ALLOW_ALL)
        wait_until(lambda: len(alert_ids(collector)) == queued, 30, what="the kept alerts")
        wait_until(lambda: outbox_depth(daemon) == 0, 10, what="the outbox to empty")
    assert daemon.events(events.REFUSED_ALERTS_ACCEPTED)
    assert_no_secrets(daemon.log_path.read_text())
    assert_no_secrets(b"\n".join(payload for _, payload, _ in collector.messages).decode())  # status, alerts


# --- payload size ------------------------------------------------------------------------------------------------


def long_alert(sentences: int, title: str = "Pact") -> Alert:
    text = " ".join(["Russia and North Korea signed a new agreement on defence in Moscow."] * sentences)
    return Alert(
        id="0" * 32,
        rule=RuleInfo(id="russia-dprk-agreement", title="New Russia–North Korea agreement", severity="high"),
        article=ArticleInfo(path="inbox/a.txt", sha256="f" * 64, title=title),
        entities=[],
        evidence=[
            EvidenceInfo(start=0, end=len(text), text=text, spans=[SpanInfo(start=0, end=6, text="Russia", source="r")])
        ]
        * 5,
        watchlist_version="v",
        produced_at="2026-01-01T00:00:00.000Z",
    )


def test_an_alert_over_the_payload_limit_is_trimmed_to_fit_and_marked_never_dropped() -> None:
    limit = 4096
    small = json.loads(encode_alert(long_alert(1), limit))
    assert small["trimmed"] is False
    big = encode_alert(long_alert(200), limit)
    assert len(big) <= limit
    payload = json.loads(big)
    assert payload["trimmed"] is True
    assert payload["evidence"][0]["text"].startswith("Russia and North Korea")
    huge_title = encode_alert(long_alert(200, title="समझौता " * 2000), limit)
    assert len(huge_title) <= limit
    assert json.loads(huge_title)["trimmed"] is True


@pytest.mark.e2e
def test_a_trimmed_alert_passes_a_broker_whose_message_size_limit_equals_max_payload_bytes(
    tmp_path: Path, brokers: list[SecureBroker]
) -> None:
    broker = secure_broker(tmp_path / "b")
    broker.server.stop()
    broker.server.extra_conf += "message_size_limit 4096\n"
    broker.server.write_conf()
    broker.server.start()
    brokers.append(broker)
    daemon = daemon_for(tmp_path / "d", broker.server.port)
    daemon.extra_env["MONITOR_MQTT__MAX_PAYLOAD_BYTES"] = "4096"
    sentence = "Russia and North Korea signed a new agreement on defence in Moscow, " + "and further " * 600
    daemon.drop("long.txt", f"Pact\n\n{sentence}.\n")
    with Collector(broker.server.port, "newsmon/#") as collector, running_daemon(daemon):
        wait_until(lambda: len(alert_ids(collector)) == 1, 20, what="the trimmed alert")
    raw = next(p for t, p, _ in collector.messages if t.startswith(ALERTS))
    assert len(raw) <= 4096
    assert json.loads(raw)["trimmed"] is True


# --- least privilege ---------------------------------------------------------------------------------------------


def listening_sockets() -> dict[str, str]:
    """Listening TCP sockets of the machine: inode -> local address as /proc shows it (hex ``addr:port``)."""
    sockets = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # TCP_LISTEN
                    sockets[fields[9]] = fields[1]
    return sockets


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"", p.stat().st_mtime_ns, p.stat().st_mode)
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.e2e
def test_a_run_leaves_the_inbox_byte_for_byte_unchanged_listens_only_on_its_console_and_writes_only_its_state(
    tmp_path: Path, brokers: list[SecureBroker]
) -> None:
    broker = secure_broker(tmp_path / "b")
    brokers.append(broker)
    daemon = daemon_for(tmp_path / "d", broker.server.port)
    daemon.drop("pakt.txt", AGREEMENT_ARTICLE)
    daemon.drop("sub/treaty.md", TREATY_ARTICLE)
    daemon.drop("binary.txt", b"\x00\x01\x02\xff" * 100)
    daemon.drop("empty.txt", b"")
    daemon.drop("bad.json", b"{not json")
    daemon.drop("nested.json", b"[" * 100_000 + b"]" * 100_000)
    daemon.drop("latin1.txt", "Café crème\n\nRussia signed\xe9".encode("latin-1"))
    inbox_before = snapshot(daemon.inbox)
    workdir_before = set(os.listdir(daemon.workdir))
    with running_daemon(daemon):
        run_until_processed(daemon, 2)
        wait_until(lambda: len(daemon.events(events.BAD_INPUT_FILE)) >= 4, 20, what="bad files recorded")
        wait_until(lambda: outbox_depth(daemon) == 0, 20, what="delivery")
        assert daemon.proc is not None
        listening = listening_sockets()
        addresses = {listening[inode] for inode in socket_inodes(daemon.proc.pid) if inode in listening}
        console = f"0100007F:{daemon.web_port:04X}"  # 127.0.0.1, the console's port: nothing else, nowhere else
        assert addresses == {console}, "the daemon listens on a port besides its console on loopback"
    assert snapshot(daemon.inbox) == inbox_before
    bad = {Path(str(e["path"])).name: e["reason"] for e in daemon.events(events.BAD_INPUT_FILE)}
    assert bad["nested.json"] == "malformed-json"  # one hostile file costs itself, not its batch
    assert not daemon.events(events.PROCESSING_BATCH_FAILED)
    created = set(os.listdir(daemon.workdir)) - workdir_before
    assert created <= {"state", "monitor.toml", "daemon.log"}, created
    assert_no_secrets(daemon.log_path.read_text())


# --- the production broker example -------------------------------------------------------------------------------

READER, READER_PASSWORD = "dashboard", "pw-dash-Rd4-never-in-logs"
OBSERVER, OBSERVER_PASSWORD = "observer", "pw-obs-7Qk-never-in-logs"


@pytest.fixture
def shipped_broker(tmp_path: Path, pki: Pki) -> Iterator[tuple[int, int]]:
    """deploy/mosquitto.conf and the ACL example, with their paths moved into a temp folder, as shipped; the
    users of the ACL example (the daemon and a dashboard) and one more reader, added as the ACL example says.
    Yields the plain (loopback) and the TLS port."""
    etc = tmp_path / "etc"
    (etc / "certs").mkdir(parents=True)
    for source, target in (
        (pki.server.cert, "broker.crt"),
        (pki.server.key, "broker.key"),
        (pki.ca.cert_path, "ca.crt"),
    ):
        shutil.copy(source, etc / "certs" / target)
    acl = (REPO / "deploy" / "mosquitto-acl.example").read_text()
    (etc / "acl").write_text(f"{acl}\nuser {OBSERVER}\ntopic read newsmon/#\n")
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(etc / "passwd"), USER, PASSWORD], check=True)
    for user, password in ((READER, READER_PASSWORD), (OBSERVER, OBSERVER_PASSWORD)):
        subprocess.run(["mosquitto_passwd", "-b", str(etc / "passwd"), user, password], check=True)
    plain_port, tls_port = free_port(), free_port()
    conf = (
        (REPO / "deploy" / "mosquitto.conf")
        .read_text()
        .replace("/etc/mosquitto/", f"{etc}/")
        .replace("/var/lib/mosquitto/", f"{tmp_path}/")
        .replace("listener 1883 ", f"listener {plain_port} ")
        .replace("listener 8883", f"listener {tls_port} 127.0.0.1")
        .replace("log_dest syslog", f"log_dest file {tmp_path}/mosquitto.log")
    )
    if os.geteuid() == 0:
        conf += "user root\n"
    (tmp_path / "mosquitto.conf").write_text(conf)
    server = subprocess.Popen(["mosquitto", "-c", str(tmp_path / "mosquitto.conf")], stderr=subprocess.PIPE)
    try:
        wait_until(lambda: port_open(tls_port) or server.poll() is not None, 10, what="mosquitto")
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        opened = re.findall(r"Opening \S+ listen socket on port (\d+)", (tmp_path / "mosquitto.log").read_text())
        assert sorted(map(int, opened)) == sorted((plain_port, tls_port)), "a listener the config does not mean"
        yield plain_port, tls_port
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.e2e
def test_the_deploy_broker_example_runs_and_takes_the_daemons_alerts_over_mutual_tls(
    tmp_path: Path, pki: Pki, shipped_broker: tuple[int, int]
) -> None:
    _plain, tls_port = shipped_broker
    daemon = daemon_for(tmp_path / "d", tls_port, tls=tls_conf(pki.ca.cert_path, pki.client))
    daemon.drop("pakt.txt", AGREEMENT_ARTICLE)
    daemon.start()
    try:
        run_until_processed(daemon, 1)
        wait_until(lambda: outbox_depth(daemon) == 0, 20, what="delivery")
    finally:
        assert daemon.stop() == 0
    assert not daemon.events(events.ALERT_REFUSED)
    assert daemon.events(events.BROKER_CONNECTED)
    assert_no_secrets(daemon.log_path.read_text(), pki)


def connect_as(port: int, user: str, password: str, client_id: str) -> None:
    """One connection under ``client_id``: CONNACK, then a clean disconnect, as a hostile reader would loop."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.username_pw_set(user, password)
    assert client.connect("127.0.0.1", port, keepalive=10) == paho.MQTT_ERR_SUCCESS
    client.loop_start()
    try:
        wait_until(client.is_connected, 10, what=f"{user} connected as {client_id}")
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.e2e
def test_a_reader_connecting_with_the_daemons_client_id_cannot_knock_it_off_the_shipped_broker(
    tmp_path: Path, pki: Pki, shipped_broker: tuple[int, int]
) -> None:
    plain_port, tls_port = shipped_broker
    observer = Collector(plain_port, "newsmon/#", client_id="observer", auth=(OBSERVER, OBSERVER_PASSWORD)).start()
    daemon = daemon_for(tmp_path / "d", tls_port, tls=tls_conf(pki.ca.cert_path, pki.client))
    daemon.client_id = ""  # its own default, as shipped
    daemon.start()
    try:
        daemon.wait_ready()
        wait_until(lambda: bool(observer.payloads("newsmon/status")), 10, what="the retained status")
        status = observer.payloads("newsmon/status")[-1]
        assert status["state"] == "online"
        own_id = str(daemon.events(events.BROKER_CONNECTED)[0]["client_id"])
        guessed = f"newsmon-{status['host']}-{status['pid']}"  # what the status spelled before
        assert own_id != guessed
        assert str(status["pid"]) not in own_id and str(status["host"]) not in own_id
        for _round in range(4):  # the attack as reported: the daemon's id, over and over
            for client_id in (guessed, own_id, USER):
                connect_as(plain_port, READER, READER_PASSWORD, client_id)
        daemon.drop("pakt.txt", AGREEMENT_ARTICLE)
        wait_until(lambda: len(alert_ids(observer)) == 1, 20, what="the alert after the attempts")
    finally:
        assert daemon.stop() == 0
        observer.stop()
    states = [p["state"] for p in observer.payloads("newsmon/status")]
    assert states == ["online", "offline"], states  # the offline of the clean stop only, no Last Will
    assert observer.payloads("newsmon/status")[-1]["reason"] == "stopped"
    assert len(daemon.events(events.BROKER_CONNECTED)) == 1
    assert not daemon.events(events.BROKER_UNREACHABLE)
    assert not daemon.events(events.BROKER_REACHABLE_AGAIN)


def test_the_default_client_id_is_new_for_every_process_and_not_spelled_by_the_status() -> None:
    ids = {default_client_id() for _ in range(50)}
    assert len(ids) == 50
    for client_id in ids:
        assert client_id.startswith("newsmon-")
        parts = client_id.split("-")
        # the random part is 16 hex digits: a pid's digits may turn up inside it by chance, never as a part
        assert socket.gethostname() not in client_id and str(os.getpid()) not in parts
        assert len(parts[-1]) == 16 and int(parts[-1], 16) >= 0
    assert default_client_id("tail").startswith("newsmon-tail-")


@pytest.mark.e2e
def test_alerts_refused_on_one_topic_do_not_hold_up_the_other_rules(
    tmp_path: Path, brokers: list[SecureBroker]
) -> None:
    agreement_only = (
        f"topic read newsmon/#\n\nuser {USER}\ntopic readwrite newsmon/status\n"
        "topic readwrite newsmon/errors\ntopic readwrite newsmon/alerts/russia-dprk-agreement\n"
    )
    broker = secure_broker(tmp_path / "b", acl=agreement_only)
    brokers.append(broker)
    daemon = daemon_for(tmp_path / "d", broker.server.port)
    count = 260  # more refused alerts than one publish batch holds
    for index in range(count):
        daemon.drop(
            f"summit-{index}.txt",
            f"Summit {index}\n\nPutin met Kim Jong Un in Moscow on day {index} and they signed a new treaty.\n",
        )
    with Collector(broker.server.port, "newsmon/alerts/#") as collector, running_daemon(daemon):
        wait_until(
            lambda: (
                len([a for a in collector.payloads("newsmon/alerts/") if a["rule"]["id"] == "russia-dprk-agreement"])
                >= count
            ),
            60,
            what="every agreement alert past the refused meeting alerts",
        )
        wait_until(lambda: outbox_depth(daemon) == count, 10, what="only the refused meeting alerts kept")
        broker.set_acl(ALLOW_ALL)
        wait_until(lambda: outbox_depth(daemon) == 0, 60, what="the refused alerts once allowed")
    rules = Counter(a["rule"]["id"] for a in collector.payloads("newsmon/alerts/"))
    assert rules["russia-dprk-meeting"] >= count

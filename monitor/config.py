"""Daemon settings: pydantic models, loaded from TOML and overridden by ``MONITOR_<SECTION>__<KEY>``.

Unknown keys are rejected so that a typo in the config is an error, not a silently ignored setting.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

from monitor import topics
from monitor.problems import Problem, validation_message

CONFIG_ENV = "MONITOR_CONFIG"
DEFAULT_CONFIG_LOCATIONS = (Path("config/monitor.toml"), Path("/etc/monitor/monitor.toml"))


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WatchSettings(Section):
    #: what sees files arrive: "inotify" (Linux; tells a rename into place from a write), "watchfiles" (any
    #: platform; every file waits out the settle time), "auto": inotify on Linux when it can be had, else
    #: watchfiles (monitor/sources/backend.py)
    backend: Literal["auto", "inotify", "watchfiles"] = "auto"
    paths: list[Path] = Field(default_factory=lambda: [Path("./inbox")])
    include: list[str] = Field(default_factory=lambda: ["*.txt", "*.md", "*.json", "*.html"])
    ignore: list[str] = Field(default_factory=lambda: [".*", "*~", "*.tmp", "*.part", "*.swp"])
    #: include and ignore patterns match names regardless of case unless this is true
    case_sensitive: bool = False
    #: a file written in place is read once its size and mtime stayed unchanged this long
    settle_ms: int = Field(default=300, ge=0)
    #: full rescan of the folders, to catch what the watcher missed (0: never)
    rescan_seconds: float = Field(default=60.0, ge=0)
    max_bytes: int = Field(default=5_000_000, gt=0)
    #: bad files are moved here (off by default: the daemon never writes into watched folders)
    quarantine: Path | None = None
    #: read files with more than one hard link (off: another link may be a file outside the watched folders)
    hardlinks: bool = False


class TlsSettings(Section):
    #: CA bundle to verify the broker; empty means the system store
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


class MqttSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    topic_prefix: str = "newsmon"
    client_id: str = ""
    username: str | None = None
    password_file: Path | None = None
    password: SecretStr | None = None
    tls: TlsSettings | None = None
    qos: Literal[0, 1, 2] = 1
    keepalive: int = Field(default=30, ge=5)
    embedded: bool = False
    #: "5" sees a broker's refusal of a publish (ACL) in the PUBACK; "3.1.1" cannot (Mosquitto acks and drops)
    protocol: Literal["5", "3.1.1"] = "5"
    #: alert payloads above this are trimmed (Mosquitto's message_size_limit must be at least this)
    max_payload_bytes: int = Field(default=262_144, ge=4096)
    #: republish the retained status with counters this often (0: only on connect and reload)
    status_interval_seconds: float = Field(default=60.0, ge=0)

    @field_validator("topic_prefix")
    @classmethod
    def _plain_topic_levels(cls, value: str) -> str:
        return topics.check_prefix(value)


class StateSettings(Section):
    dir: Path = Path("./state")
    #: history (articles handled, contents, alerts, error records) older than this is pruned by itself
    retention_days: float = Field(default=90.0, gt=0)
    #: intake pauses while the outbox holds this many messages (the broker is away): nothing is dropped
    outbox_max: int = Field(default=100_000, ge=1)


class HistorySettings(Section):
    """The archive the console searches (``monitor/history.py``): articles, their texts and alerts."""

    #: archived articles and alerts older than this are pruned by themselves (with their search index rows)
    retention_days: float = Field(default=90.0, gt=0)
    #: keep the parsed article texts (search and retro runs need them); off, only titles are kept
    keep_text: bool = True


class ProcessingSettings(Section):
    #: worker processes that tag articles (0: tag in the daemon's own thread). One process tags on one
    #: core at a time (the GIL); workers let tagging use every core.
    workers: int = Field(default=0, ge=0, le=64)


class StoriesSettings(Section):
    """Story grouping (``monitor/stories.py``): one alert per event, follow-ups only when something is new."""

    #: false: every rule firing on every article alerts, as before stories
    enabled: bool = True
    #: articles this far apart by their own dates may still report one event
    window_hours: float = Field(default=72.0, gt=0)
    #: similarity an article needs to join an open story; at most 1.5, the score of an article that agrees
    #: with a story in every part (words 0.8, entities 0.3, terms 0.1, rules 0.1, event day 0.2:
    #: ``story_similarity.MAX_SIMILARITY``):
    #: a higher threshold would silently never group anything
    threshold: float = Field(default=0.8, gt=0, le=1.5)
    #: estimated word-shingle Jaccard from which an article is a copy of another (joins its story always)
    near_duplicate: float = Field(default=0.5, gt=0, le=1)


#: the default watchlist folder, relative to the working directory (a checkout, a deploy)
DEFAULT_WATCHLISTS = Path("config/watchlists")
#: the same watchlists shipped inside the package, for a working directory without that folder
PACKAGED_WATCHLISTS = Path(__file__).resolve().parent / "watchlists"


def _default_watchlists() -> list[Path]:
    """`config/watchlists` where it exists, else the shipped copy: `monitor tag x.txt` works anywhere."""
    return [DEFAULT_WATCHLISTS if DEFAULT_WATCHLISTS.is_dir() else PACKAGED_WATCHLISTS]


class WatchlistSettings(Section):
    paths: list[Path] = Field(default_factory=_default_watchlists)


class LogSettings(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class MetricsSettings(Section):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=9464, ge=1, le=65535)


class WebSettings(Section):
    """The analyst's console (``monitor/web``): served by the daemon on its own event loop."""

    enabled: bool = True
    #: a non-loopback address needs ``password_file`` or ``token_file`` (else the console stays off)
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    #: the login password (first line), read at start
    password_file: Path | None = None
    #: the ``Authorization: Bearer`` token (first line) for feed readers and scripts, read at start
    token_file: Path | None = None
    #: behind a reverse proxy (TLS): believe its ``X-Forwarded-Proto``/``-Host``/``-For`` headers (off: a
    #: client could claim any scheme or address); only when the console is reachable through the proxy alone
    trusted_proxy: bool = False
    #: mark the session and CSRF cookies ``Secure`` even when the request does not look like https
    secure_cookies: bool = False

    @field_validator("password_file", "token_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


class ClusterSettings(Section):
    """Scale-out on NATS JetStream (``monitor/cluster``, deploy/cluster.md); absent: single-host mode."""

    servers: list[str] = Field(default_factory=lambda: ["nats://127.0.0.1:4222"], min_length=1)
    #: worker: stream -> tagging -> outbox -> MQTT; ingest: watched folders -> stream (no tagging). A host
    #: that does both runs two daemons, each with its own state folder (deploy/cluster.md)
    role: Literal["worker", "ingest"] = "worker"
    stream: str = Field(default="NEWSMON_ARTICLES", pattern=r"^[A-Za-z0-9_-]+$")
    subject: str = Field(default="newsmon.articles", pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
    #: copies of the stream kept by the cluster (3: survives one node's loss; at most the node count)
    replicas: int = Field(default=3, ge=1, le=5)
    #: a second publish of the same bytes within this window is dropped by JetStream itself
    duplicate_window_seconds: float = Field(default=3600.0, gt=0)
    #: a NATS credentials file (``.creds``: JWT and seed); unset: no authentication
    credentials_file: Path | None = None
    tls: TlsSettings | None = None
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    #: the durable pull consumer every worker shares
    consumer: str = Field(default="newsmon-workers", pattern=r"^[A-Za-z0-9_-]+$")
    #: an article not acknowledged this long after delivery goes to another worker (a worker tagging it
    #: keeps it with in-progress acks)
    ack_wait_seconds: float = Field(default=30.0, ge=1)
    #: deliveries before an article counts as poison: the last one sends it to ``dead_letter_subject``
    max_deliver: int = Field(default=5, ge=2)
    #: unset: ``<subject>.dead`` (two article streams in one cluster then never claim the same subject)
    dead_letter_subject: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")

    @property
    def dead_letters_subject(self) -> str:
        return self.dead_letter_subject or f"{self.subject}.dead"

    @model_validator(mode="after")
    def _dead_letters_apart(self) -> ClusterSettings:
        if self.dead_letters_subject == self.subject:
            raise ValueError("dead_letter_subject must differ from subject (the dead letters are a stream apart)")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MONITOR_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    watch: WatchSettings = Field(default_factory=WatchSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    state: StateSettings = Field(default_factory=StateSettings)
    processing: ProcessingSettings = Field(default_factory=ProcessingSettings)
    stories: StoriesSettings = Field(default_factory=StoriesSettings)
    history: HistorySettings = Field(default_factory=HistorySettings)
    watchlists: WatchlistSettings = Field(default_factory=WatchlistSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    cluster: ClusterSettings | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file (passed as init kwargs); no .env or secrets dir magic.
        return (env_settings, init_settings)


class ConfigError(Exception):
    """The daemon config is unusable; ``problems`` says where, one line each."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def find_config(explicit: Path | None) -> Path | None:
    """The config file to use: ``--config``, ``$MONITOR_CONFIG``, then the default locations."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    return next((p for p in DEFAULT_CONFIG_LOCATIONS if p.is_file()), None)


def load_settings(explicit: Path | None = None) -> tuple[Settings, Path | None]:
    """Load settings from the config file (if any) and the environment, or raise ConfigError."""
    path = find_config(explicit)
    label = str(path) if path else "<defaults>"
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError([Problem(label, "-", f"cannot read: {exc.strerror or exc}")]) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([Problem(label, "-", f"invalid TOML: {exc}")]) from exc
    from_env = environment_keys(os.environ)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError([_problem(label, err, from_env) for err in exc.errors()]) from exc
    except SettingsError as exc:  # an environment variable that is not valid JSON where a list is due
        section = re.search(r'field "(\w+)"', str(exc))
        names = [name for name, keys in from_env.items() if section and keys[0] == section.group(1)]
        raise ConfigError(
            [
                Problem(
                    ENVIRONMENT,
                    " or ".join(names) or "MONITOR_*",
                    f"not valid JSON: {exc.__cause__ or exc}",
                )
            ]
        ) from exc
    return settings, path


ENVIRONMENT = "<environment>"


def environment_keys(environ: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """``MONITOR_<SECTION>__<KEY>`` variables -> the setting they set (``("mqtt", "port")``)."""
    prefix = Settings.model_config.get("env_prefix", "")
    return {
        name: tuple(name[len(prefix) :].lower().split("__"))
        for name in environ
        if name.upper().startswith(prefix) and name.upper() != CONFIG_ENV
    }


def _problem(label: str, err: Any, from_env: Mapping[str, tuple[str, ...]]) -> Problem:
    """The problem, blamed on the environment variable that set the value when one did (it beats the file)."""
    loc = tuple(str(part) for part in err["loc"])
    message = validation_message(err, Settings)
    variable = next((name for name, keys in from_env.items() if loc[: len(keys)] == keys), None)
    if variable is not None:
        return Problem(ENVIRONMENT, variable, f"{'.'.join(loc)}: {message}")
    return Problem(label, ".".join(loc) or "-", message)


class PasswordFileError(ValueError):
    """The password file cannot be used; the message names the file and why, never its content."""


def read_password(mqtt: MqttSettings) -> str | None:
    """The broker password, from ``password_file`` (first line) or the ``password`` setting/env var.

    Read at every connect, so a corrected file is picked up on the next retry.
    """
    if mqtt.password_file is not None:
        try:
            text = mqtt.password_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise PasswordFileError(
                f"mqtt.password_file {mqtt.password_file}: cannot read: {exc.strerror or type(exc).__name__}"
            ) from None
        except UnicodeDecodeError:
            raise PasswordFileError(f"mqtt.password_file {mqtt.password_file}: not UTF-8 text") from None
        lines = text.splitlines()
        if not lines or not lines[0]:
            raise PasswordFileError(f"mqtt.password_file {mqtt.password_file}: empty first line")
        return lines[0]
    if mqtt.password is not None:
        return mqtt.password.get_secret_value()
    return None

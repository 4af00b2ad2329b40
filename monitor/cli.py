"""The ``monitor`` command. Thin: parse arguments, load settings, call into the modules that do the work."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from monitor import __version__
from monitor.config import ConfigError, Settings, load_settings
from monitor.engine.result import SEVERITIES

if TYPE_CHECKING:
    from monitor.engine import Engine


DESCRIPTION = (
    "newsmon: tag Hindi and English news articles with YAML watchlists and publish alerts over MQTT. "
    "`monitor run` is the daemon; the other commands try watchlists, check settings and follow alerts."
)


def _settings_or_exit(config: Path | None) -> tuple[Settings, Path | None]:
    try:
        return load_settings(config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        raise SystemExit(1) from exc


def _engine_or_exit(paths: Sequence[Path]) -> Engine:
    from monitor.engine import WatchlistError, load_engine

    try:
        return load_engine(paths)
    except WatchlistError as exc:
        for problem in exc.problems:
            print(f"watchlist error: {problem}", file=sys.stderr)
        raise SystemExit(1) from exc


def cmd_run(args: argparse.Namespace) -> int:
    from monitor import logs
    from monitor.launch import run_daemon

    settings, path = _settings_or_exit(args.config)
    logs.configure(settings.log.level, settings.log.format)
    return run_daemon(
        settings, embedded_broker=args.embedded_broker, config_path=path, rebuild_state=args.rebuild_state
    )


def cmd_tag(args: argparse.Namespace) -> int:
    from monitor.tagging import tag_files

    settings, _path = _settings_or_exit(args.config)
    engine = _engine_or_exit(args.watchlist or settings.watchlists.paths)
    from monitor.stories import StoryBook

    return tag_files(
        engine,
        args.files,
        max_bytes=settings.watch.max_bytes,
        as_json=args.json,
        explain=args.explain,
        stories=StoryBook.from_settings(settings.stories),
    )


def cmd_check(args: argparse.Namespace) -> int:
    from monitor.engine import problems_of

    try:
        settings, path = load_settings(args.config)
    except ConfigError as exc:
        print("\n".join(map(str, exc.problems)))
        return 1
    from monitor.brokercheck import check_broker_settings

    label = str(path or "<defaults>")
    problems = [*check_broker_settings(settings.mqtt, label), *problems_of(settings.watchlists.paths)]
    for warning in (problem for problem in problems if problem.level == "warning"):
        print(warning, file=sys.stderr)
    if errors := [problem for problem in problems if problem.level == "error"]:
        print("\n".join(map(str, errors)))
        return 1
    print(f"ok: {label} and watchlists {', '.join(map(str, settings.watchlists.paths))}")
    return 0


def cmd_tail(args: argparse.Namespace) -> int:
    import asyncio

    from monitor.tail import TailFilter, tail

    settings, path = _settings_or_exit(args.config)
    from monitor.brokercheck import check_broker_settings

    problems = [f for f in check_broker_settings(settings.mqtt, str(path or "<defaults>")) if f.level == "error"]
    if problems:
        print("\n".join(f"broker settings: {f}" for f in problems), file=sys.stderr)
        return 1
    wanted = TailFilter(rules=frozenset(args.rule or ()), min_severity=args.severity, watchlist=args.watchlist)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(tail(settings.mqtt, wanted, as_json=args.json, client_id=args.client_id, count=args.count))
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from monitor import logs
    from monitor.backfill import run_backfill

    settings, _path = _settings_or_exit(args.config)
    logs.configure("warning", settings.log.format)
    if not args.folder.is_dir():
        print(f"backfill: {args.folder}: not a folder", file=sys.stderr)
        return 1
    engine = _engine_or_exit(settings.watchlists.paths)
    return run_backfill(settings, engine, args.folder, publish_mode=args.publish, flush_timeout=args.flush_timeout)


def cmd_submit(args: argparse.Namespace) -> int:
    from monitor import logs
    from monitor.cluster.submit import run_submit

    settings, _path = _settings_or_exit(args.config)
    logs.configure("warning", settings.log.format)
    return run_submit(settings, args.files, args.published_at)


def cmd_retro(args: argparse.Namespace) -> int:
    from monitor import logs
    from monitor.retro_cli import run_retro, state_settings

    settings, _path = _settings_or_exit(args.config)
    logs.configure("warning", settings.log.format)
    if args.until is not None and args.until < args.since:
        print(f"retro: --until {args.until} is before --since {args.since}", file=sys.stderr)
        return 2
    engine = _engine_or_exit(args.watchlist)
    return run_retro(
        state_settings(settings, args.state_dir),
        engine,
        args.since,
        args.until,
        publish=args.publish,
        as_json=args.json,
        every_mention=args.every_mention,
        flush_timeout=args.flush_timeout,
    )


def cmd_digest(args: argparse.Namespace) -> int:
    from monitor.digest import digest_markdown
    from monitor.history import History
    from monitor.retro_cli import state_settings
    from monitor.store import DB_NAME

    settings, _path = _settings_or_exit(args.config)
    db = state_settings(settings, args.state_dir).state.dir / DB_NAME
    if not db.is_file():
        print(f"digest: no state database at {db}", file=sys.stderr)
        return 2
    history = History(db)
    try:
        print(digest_markdown(history.digest(args.date or datetime.now(UTC).date())), end="")
    finally:
        history.close()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from monitor.status import run_status

    settings, _path = _settings_or_exit(args.config)
    return run_status(settings, json_output=args.json, timeout=args.timeout, max_age=args.max_age)


def cmd_schema(args: argparse.Namespace) -> int:
    from monitor.alerts import alert_json_schema

    print(json.dumps(alert_json_schema(), indent=2, ensure_ascii=False))
    return 0


def _positive_seconds(text: str) -> float:
    """A duration in seconds, more than 0 (argparse turns the error into one usage line)."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def _day(text: str) -> date:
    """A calendar day, strictly YYYY-MM-DD (``date.fromisoformat`` also takes ``20260101`` and week dates)."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from None


def _seconds(text: str) -> float:
    """A duration in seconds, 0 or more."""
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 seconds or more, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--config",
            type=Path,
            help="daemon config (TOML); default: $MONITOR_CONFIG, ./config/monitor.toml, /etc/monitor/monitor.toml",
        )
        return p

    run = with_config(commands.add_parser("run", help="run the daemon"))
    run.add_argument("--embedded-broker", action="store_true", help="start an in-process MQTT broker (quickstart only)")
    run.add_argument(
        "--rebuild-state",
        action="store_true",
        help="if the state database is corrupt, empty or missing: set it aside and start afresh "
        "(the watched folders' articles are alerted again, under the same ids)",
    )
    run.set_defaults(func=cmd_run)

    tag = with_config(commands.add_parser("tag", help="tag files once and print the result (no broker needed)"))
    tag.add_argument("--json", action="store_true", help="one JSON object per line per file (with --explain too)")
    tag.add_argument("--explain", action="store_true", help="why each rule fired or did not")
    tag.add_argument(
        "--watchlist",
        action="append",
        type=Path,
        metavar="FILE",
        help="tag with this watchlist file or folder instead of the configured ones (repeatable)",
    )
    tag.add_argument("files", nargs="+", metavar="FILE")
    tag.set_defaults(func=cmd_tag)

    check = with_config(commands.add_parser("check", help="validate the config and every watchlist"))
    check.set_defaults(func=cmd_check)

    tail_cmd = with_config(commands.add_parser("tail", help="print alerts as they arrive"))
    tail_cmd.add_argument("--json", action="store_true", help="raw JSON, one alert per line")
    tail_cmd.add_argument("--rule", action="append", help="only this rule (repeatable)")
    tail_cmd.add_argument("--severity", choices=SEVERITIES, help="at least this severity")
    tail_cmd.add_argument("--watchlist", help="only alerts produced by this watchlist version")
    tail_cmd.add_argument(
        "--client-id",
        help="persistent session under this id: alerts sent while away are delivered on return (Mosquitto: up to "
        "max_queued_messages; the embedded broker: in memory, while it runs)",
    )
    tail_cmd.add_argument("--count", type=int, default=0, help="exit after this many alerts (0: never)")
    tail_cmd.set_defaults(func=cmd_tail)

    backfill = with_config(commands.add_parser("backfill", help="tag an archive folder that was never watched"))
    backfill.add_argument("folder", type=Path)
    backfill.add_argument(
        "--publish", action="store_true", help="publish through the outbox (default: dry run, print what would alert)"
    )
    backfill.add_argument(
        "--flush-timeout", type=float, default=30.0, help="seconds to keep delivering after tagging (default 30)"
    )
    backfill.set_defaults(func=cmd_backfill)

    submit = with_config(commands.add_parser("submit", help="hand articles to the cluster's stream ([cluster])"))
    submit.add_argument("files", nargs="+", type=Path, metavar="FILE")
    submit.add_argument(
        "--published-at",
        metavar="TIME",
        help="their publication time, ISO 8601 with a zone (the Newsmon-Published-At header; a JSON body's own wins)",
    )
    submit.set_defaults(func=cmd_submit)

    retro = with_config(commands.add_parser("retro", help="run a watchlist over the archived articles of a date range"))
    retro.add_argument(
        "--watchlist", action="append", type=Path, required=True, metavar="FILE_OR_DIR", help="watchlist (repeatable)"
    )
    retro.add_argument("--since", type=_day, required=True, metavar="DATE", help="first day (YYYY-MM-DD), inclusive")
    retro.add_argument("--until", type=_day, metavar="DATE", help="last day, inclusive (default: the newest)")
    retro.add_argument(
        "--publish", action="store_true", help="send what fired as retro alerts (never an alert sent before)"
    )
    retro.add_argument("--json", action="store_true", help="one `monitor tag --json` object per article that fired")
    retro.add_argument(
        "--every-mention",
        action="store_true",
        help="every article that fires, not grouped into stories (only openings and follow-ups otherwise)",
    )
    retro.add_argument("--state-dir", type=Path, metavar="DIR", help="the state folder (default: state.dir)")
    retro.add_argument(
        "--flush-timeout", type=float, default=30.0, help="seconds to keep delivering (default 30; no daemon running)"
    )
    retro.set_defaults(func=cmd_retro)

    digest = with_config(commands.add_parser("digest", help="print a day's digest of stories as Markdown"))
    digest.add_argument("--date", type=_day, metavar="DATE", help="the day (YYYY-MM-DD; default: today, UTC)")
    digest.add_argument("--state-dir", type=Path, metavar="DIR", help="the state folder (default: state.dir)")
    digest.set_defaults(func=cmd_digest)

    status = with_config(
        commands.add_parser(
            "status",
            help="is the daemon running and healthy (exit 0 ok, 1 degraded, 2 not running, 3 unknown)",
            description="Reads the state folder (read-only) and the retained status topic. Exit codes: 0 ok; "
            "1 degraded (broker not connected or unreachable, outbox older than --max-age, last reload failed); "
            "2 not running; 3 unknown (the state folder cannot be read).",
        )
    )
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.add_argument(
        "--timeout", type=_positive_seconds, default=3.0, help="seconds to wait for the status topic (default 3)"
    )
    status.add_argument(
        "--max-age",
        type=_seconds,
        default=300.0,
        help="an outbox message older than this is degraded (default 300 s)",
    )
    status.set_defaults(func=cmd_status)

    schema = commands.add_parser("schema", help="print a JSON Schema")
    schema.add_argument("what", choices=["alert"])
    schema.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())

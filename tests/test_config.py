from __future__ import annotations

from pathlib import Path

import pytest

from harness.processes import WATCHLISTS, monitor_cli
from monitor.config import ConfigError, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_apply_without_a_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    settings, path = load_settings()
    assert path is None
    assert settings.mqtt.topic_prefix == "newsmon"
    assert settings.mqtt.qos == 1
    assert settings.watch.paths == [Path("./inbox")]


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = write(tmp_path / "m.toml", '[mqtt]\nhost = "broker.example"\nport = 1883\n')
    monkeypatch.setenv("MONITOR_MQTT__PORT", "1884")
    monkeypatch.setenv("MONITOR_WATCH__PATHS", '["/srv/news/in"]')
    settings, _ = load_settings(conf)
    assert settings.mqtt.port == 1884
    assert settings.mqtt.host == "broker.example"
    assert settings.watch.paths == [Path("/srv/news/in")]


def test_config_is_found_through_the_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = write(tmp_path / "m.toml", '[mqtt]\ntopic_prefix = "desk"\n')
    monkeypatch.setenv("MONITOR_CONFIG", str(conf))
    settings, path = load_settings()
    assert path == conf
    assert settings.mqtt.topic_prefix == "desk"


@pytest.mark.parametrize(
    ("toml", "key", "fragment"),
    [
        ("[mqtt]\nprot = 1883\n", "mqtt.prot", "unknown key"),
        ('[mqtt]\nport = "many"\n', "mqtt.port", "integer"),
        ("[wach]\npaths = []\n", "wach", "unknown key"),
        ('[mqtt]\ntopic_prefix = "news/#"\n', "mqtt.topic_prefix", "'#'"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, toml: str, key: str, fragment: str) -> None:
    conf = write(tmp_path / "bad.toml", toml)
    with pytest.raises(ConfigError) as err:
        load_settings(conf)
    [problem] = err.value.problems
    assert problem.file == str(conf)
    assert problem.key == key
    assert fragment in problem.message


def test_broken_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    conf = write(tmp_path / "broken.toml", "[mqtt\nport = 1\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(conf)


@pytest.mark.e2e
def test_check_command_fails_on_a_typo_with_file_and_key(tmp_path: Path) -> None:
    conf = write(tmp_path / "typo.toml", f'[watchlists]\npaths = ["{WATCHLISTS}"]\n[mqtt]\nhots = "x"\n')
    result = monitor_cli("check", "--config", str(conf))
    assert result.returncode == 1
    assert f"{conf}: mqtt.hots: unknown key" in result.stdout


@pytest.mark.e2e
def test_check_command_fails_on_a_wrong_type(tmp_path: Path) -> None:
    conf = write(tmp_path / "type.toml", f'[watchlists]\npaths = ["{WATCHLISTS}"]\n[watch]\nmax_bytes = "big"\n')
    result = monitor_cli("check", "--config", str(conf))
    assert result.returncode == 1
    assert f"{conf}: watch.max_bytes:" in result.stdout


@pytest.mark.e2e
def test_check_command_passes_on_the_shipped_config() -> None:
    result = monitor_cli("check", "--config", "config/monitor.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok:")


@pytest.mark.e2e
def test_check_command_reports_broken_yaml_with_file_and_line(tmp_path: Path) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    bad = write(lists / "broken.yaml", "entities:\n  - id: russia\n    name: [unclosed\n")
    conf = write(tmp_path / "m.toml", f'[watchlists]\npaths = ["{lists}"]\n')
    result = monitor_cli("check", "--config", str(conf))
    assert result.returncode == 1
    assert str(bad) in result.stdout
    assert f"{bad}:" in result.stdout and any(ch.isdigit() for ch in result.stdout.split(str(bad), 1)[1][:8])


def test_an_environment_value_that_is_not_json_is_one_clear_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_WATCH__PATHS", "/srv/news/in")  # a list is due: '["/srv/news/in"]'
    with pytest.raises(ConfigError) as err:
        load_settings(None)
    [problem] = err.value.problems
    assert (problem.file, problem.key) == ("<environment>", "MONITOR_WATCH__PATHS")
    assert "not valid JSON" in problem.message


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("MONITOR_MQTT__PORT", "abc", "mqtt.port: Input should be a valid integer"),
        ("MONITOR_MQTT__HOTS", "x", "mqtt.hots: unknown key; did you mean 'host'?"),
        ("MONITOR_LOG__LEVEL", "debg", "did you mean 'debug'?"),
    ],
)
def test_a_wrong_environment_value_names_the_variable_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str
) -> None:
    conf = write(tmp_path / "m.toml", '[mqtt]\nport = 1883\n[log]\nlevel = "info"\n')
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as err:
        load_settings(conf)
    [problem] = err.value.problems
    assert (problem.file, problem.key) == ("<environment>", variable)
    assert fragment in problem.message


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ("[mqtt]\nhots = 'x'\n", "mqtt.hots: unknown key; did you mean 'host'?"),
        ("[mqtt.tls]\nca_fiel = 'x'\n", "mqtt.tls.ca_fiel: unknown key; did you mean 'ca_file'?"),
        ("[log]\nformat = 'jsno'\n", "did you mean 'json'?"),
        ("[wach]\n", "wach: unknown key; did you mean 'watch'?"),
    ],
)
def test_a_mistyped_key_or_value_gets_a_did_you_mean(tmp_path: Path, toml: str, fragment: str) -> None:
    conf = write(tmp_path / "m.toml", toml)
    with pytest.raises(ConfigError) as err:
        load_settings(conf)
    [problem] = err.value.problems
    assert fragment in str(problem)

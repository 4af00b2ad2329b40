"""The native engine build (`setup.py`, `monitor/engine/native.py`): what runs is always the current source."""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.engine import native

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
PACKAGE = Path(native.__file__).resolve().parent.parent
SOURCE = b"VALUE = 1\n"
SOURCE_HASH = hashlib.sha256(SOURCE).hexdigest()


def _engine_dir(tmp_path: Path, manifest: object = None, *, source: bool = True) -> Path:
    """An engine folder with one module, `match.py`, and a build of it in `_native/` (the build's bytes
    do not matter here: nothing is imported)."""
    builds = tmp_path / native.NATIVE_DIR
    builds.mkdir()
    if source:
        (tmp_path / "match.py").write_bytes(SOURCE)
    (builds / f"match{SUFFIX}").write_bytes(b"built")
    if manifest is not None:
        (builds / native.MANIFEST).write_text(json.dumps(manifest))
    return tmp_path


def test_a_build_made_from_the_current_source_is_imported(tmp_path: Path) -> None:
    folder = _engine_dir(tmp_path, {"match": SOURCE_HASH})
    assert native.native_builds(folder) == ({"match": folder / native.NATIVE_DIR / f"match{SUFFIX}"}, [])


def test_a_build_whose_source_was_edited_since_is_stale_and_not_imported(tmp_path: Path) -> None:
    folder = _engine_dir(tmp_path, {"match": SOURCE_HASH})
    (folder / "match.py").write_text("VALUE = 2\n")
    assert native.native_builds(folder) == ({}, ["match"])


@pytest.mark.parametrize(
    "manifest", [None, {}, {"other": SOURCE_HASH}, ["match"]], ids=["none", "empty", "other", "list"]
)
def test_a_build_the_manifest_does_not_vouch_for_is_never_imported(tmp_path: Path, manifest: object) -> None:
    assert native.native_builds(_engine_dir(tmp_path, manifest)) == ({}, [])


def test_a_broken_manifest_imports_nothing_rather_than_failing(tmp_path: Path) -> None:
    folder = _engine_dir(tmp_path)
    (folder / native.NATIVE_DIR / native.MANIFEST).write_text("{not json")
    assert native.native_builds(folder) == ({}, [])


def test_a_build_without_a_source_beside_it_is_the_module(tmp_path: Path) -> None:
    folder = _engine_dir(tmp_path, {"match": SOURCE_HASH}, source=False)
    assert list(native.native_builds(folder)[0]) == ["match"]


def test_the_engine_build_says_native_exactly_when_the_fresh_builds_were_imported() -> None:
    """Where this checkout was built (the README's install), its engine runs native; a pure-Python
    install runs from source, and says so."""
    fresh, _ = native.native_builds()
    if fresh and not native.pure_python_asked():
        assert native.engine_build() == f"native ({len(fresh)} modules)"
        import monitor.engine.match

        assert isinstance(monitor.engine.match.__loader__, importlib.machinery.ExtensionFileLoader)
    else:
        assert native.engine_build() == "source"


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "monitor" / "engine"


def _run_in_copy(root: Path, code: str, pure: bool = False) -> tuple[list[str], list[str]]:
    """Runs `code` against the copy of the package in `root`: its output's words and its warnings."""
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", **({native.PURE_PYTHON: "1"} if pure else {})}
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split(), [line for line in done.stderr.splitlines() if "RuntimeWarning" in line]


HOW_IT_RUNS = (
    "import monitor.engine.novelty as n, monitor.engine.match as m\n"
    "from monitor.engine.native import engine_build\n"
    "print(getattr(n, 'EDITED', False), m.__file__.endswith('.py'), engine_build())\n"
)


def test_an_edited_engine_source_runs_itself_not_its_old_build_with_one_warning(tmp_path: Path) -> None:
    engine = _copy(tmp_path)
    source = engine / "novelty.py"
    source.write_text(source.read_text() + "\nEDITED = True\n")
    fresh, _ = native.native_builds()
    output, warnings = _run_in_copy(tmp_path, HOW_IT_RUNS)
    if fresh:  # the other modules still run their builds
        assert output == ["True", "False", "native", f"({len(fresh) - 1}", "modules)"]
        assert len(warnings) == 1 and "novelty" in warnings[0] and "pip install -e ." in warnings[0]
    else:
        assert output == ["True", "True", "source"]
        assert warnings == []


def test_an_unedited_copy_runs_its_builds_without_a_warning(tmp_path: Path) -> None:
    _copy(tmp_path)
    output, warnings = _run_in_copy(tmp_path, "from monitor.engine.native import engine_build\nprint(engine_build())")
    assert " ".join(output) == native.engine_build()
    assert warnings == []


def test_asking_for_pure_python_at_run_time_runs_every_engine_module_from_source(tmp_path: Path) -> None:
    _copy(tmp_path)
    output, warnings = _run_in_copy(tmp_path, HOW_IT_RUNS, pure=True)
    assert output == ["False", "True", "source"]
    assert warnings == []


def test_a_checkout_without_the_finder_never_runs_the_builds(tmp_path: Path) -> None:
    """An older commit checked out over a built tree (the builds are not tracked, so they stay) knows
    nothing of `_native/`: Python alone never finds them there."""
    engine = _copy(tmp_path)
    (engine / "__init__.py").write_text("from monitor.engine.engine import Engine, load_engine\n")
    output, _ = _run_in_copy(tmp_path, "import monitor.engine.match as m\nprint(m.__file__.endswith('.py'))")
    assert output == ["True"]


def test_a_build_left_beside_its_source_is_never_imported(tmp_path: Path) -> None:
    """A build where Python would find it by itself (an older way of building put them there) is not
    what runs, fresh build or none: here it is not even a loadable module, and the engine imports the
    (edited) source."""
    engine = _copy(tmp_path)
    source = engine / "novelty.py"
    source.write_text(source.read_text() + "\nEDITED = True\n")
    (engine / f"novelty{SUFFIX}").write_bytes(b"not a module")
    output, _ = _run_in_copy(tmp_path, HOW_IT_RUNS)
    assert output[0] == "True"

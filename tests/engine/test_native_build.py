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


def _folder(tmp_path: Path, manifest: dict[str, str] | None) -> Path:
    """A package folder with one module, `match.py`, and a build of it (its bytes do not matter here)."""
    (tmp_path / "match.py").write_bytes(SOURCE)
    (tmp_path / f"match{SUFFIX}").write_bytes(b"built")
    if manifest is not None:
        (tmp_path / native.MANIFEST).write_text(json.dumps(manifest))
    return tmp_path


def test_a_build_made_from_the_current_source_is_not_stale(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"match": SOURCE_HASH})
    assert native.built_modules(folder) == {"match"}
    assert native.stale_modules(folder) == []


def test_a_build_whose_source_was_edited_since_is_stale(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"match": SOURCE_HASH})
    (folder / "match.py").write_text("VALUE = 2\n")
    assert native.stale_modules(folder) == ["match"]


@pytest.mark.parametrize("manifest", [None, {}, {"other": "0" * 64}], ids=["no manifest", "empty", "not listed"])
def test_a_build_the_manifest_does_not_vouch_for_is_stale(tmp_path: Path, manifest: dict[str, str] | None) -> None:
    assert native.stale_modules(_folder(tmp_path, manifest)) == ["match"]


def test_a_broken_manifest_makes_every_build_stale_rather_than_an_error(tmp_path: Path) -> None:
    folder = _folder(tmp_path, None)
    (folder / native.MANIFEST).write_text("{not json")
    assert native.stale_modules(folder) == ["match"]


def test_a_build_without_a_source_beside_it_shadows_nothing(tmp_path: Path) -> None:
    (tmp_path / f"written_dates{SUFFIX}").write_bytes(b"built")
    assert native.stale_modules(tmp_path) == []


def test_the_engine_build_says_native_exactly_when_the_built_modules_were_imported_native() -> None:
    """Where this checkout was built (the README's install), its engine runs native; a pure-Python
    install (or a stale build) runs from source, and says so."""
    folder = Path(native.__file__).resolve().parent
    built = native.built_modules(folder)
    if built and not native.stale_modules(folder):
        assert native.engine_build() == f"native ({len(built)} modules)"
        import monitor.engine.match

        assert monitor.engine.match.__file__ is not None
        assert not monitor.engine.match.__file__.endswith(".py")
    else:
        assert native.engine_build() == "source"


def _import_in_copy(root: Path, code: str, pure: bool = False) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", **({native.PURE_PYTHON: "1"} if pure else {})}
    return subprocess.run(
        [sys.executable, "-W", "default", "-c", code],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_edited_engine_source_runs_from_source_with_one_warning(tmp_path: Path) -> None:
    """A copy of the package, builds and all, with `novelty.py` edited after its build: the edit runs
    (never the old build), every engine module comes from source, and one warning names the stale one."""
    shutil.copytree(PACKAGE, tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    source = tmp_path / "monitor" / "engine" / "novelty.py"
    source.write_text(source.read_text() + "\nEDITED_AFTER_THE_BUILD = True\n")
    code = (
        "import monitor.engine.novelty as n, monitor.engine.match as m\n"
        "from monitor.engine.native import engine_build\n"
        "print(n.EDITED_AFTER_THE_BUILD, m.__file__.endswith('.py'), engine_build())\n"
    )
    done = _import_in_copy(tmp_path, code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "source"]
    was_built = bool(native.built_modules(PACKAGE / "engine"))
    warnings = [line for line in done.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warnings) == (1 if was_built else 0), done.stderr
    if was_built:
        assert "novelty" in warnings[0] and "pip install -e ." in warnings[0]


def test_an_unedited_copy_runs_its_build_without_a_warning(tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    done = _import_in_copy(tmp_path, "from monitor.engine.native import engine_build\nprint(engine_build())\n")
    assert done.returncode == 0, done.stderr
    assert "RuntimeWarning" not in done.stderr
    expected = native.engine_build()
    assert done.stdout.strip() == expected


def test_asking_for_pure_python_at_run_time_runs_every_engine_module_from_source_without_a_warning(
    tmp_path: Path,
) -> None:
    shutil.copytree(PACKAGE, tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    code = (
        "import monitor.engine.match as m\n"
        "from monitor.engine.native import engine_build\n"
        "print(m.__file__, engine_build())\n"
    )
    done = _import_in_copy(tmp_path, code, pure=True)
    assert done.returncode == 0, done.stderr
    path, build = done.stdout.split(maxsplit=1)
    assert path.endswith("match.py") and build.strip() == "source"
    assert "RuntimeWarning" not in done.stderr

"""The native engine build (`setup.py`): which engine modules run as native code, imported only while
their source is the one they were built from.

The builds live in `_native/`, not beside their sources, so Python never finds them on its own: a
checkout of another commit, or a source edited since, runs its source. `use_native_builds` puts a finder
first on the import path that loads a module's build while its source still has the hash recorded at the
build (`native-build.<interpreter>.json`); a build whose source changed is left for its source, with one warning that
says how to rebuild. Nothing here is compiled itself.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import multiprocessing
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PACKAGE = "monitor.engine"
ENGINE_DIR = Path(__file__).resolve().parent
#: where `setup.py` puts the builds and their sources' hashes
NATIVE_DIR = "_native"
#: one list per interpreter, as `setup.py` writes it
MANIFEST = f"native-build.{sys.implementation.cache_tag}.json"
#: set (not `0`) at run time: the engine runs from source even where it was built (for a profiler that
#: reads Python lines); set at install: nothing is built (`setup.py`)
PURE_PYTHON = "NEWSMON_PURE_PYTHON"


def pure_python_asked() -> bool:
    return os.environ.get(PURE_PYTHON, "") not in ("", "0")


def _native_files(folder: Path) -> dict[str, Path]:
    """module -> its build in `folder` (for this interpreter; the most specific suffix first:
    `match.cpython-311-x86_64-linux-gnu.so` is `match`)."""
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        suffix = next((end for end in importlib.machinery.EXTENSION_SUFFIXES if path.name.endswith(end)), None)
        if suffix is not None:
            found.setdefault(path.name[: -len(suffix)], path)
    return found


def native_builds(engine_dir: Path = ENGINE_DIR) -> tuple[dict[str, Path], list[str]]:
    """The builds to import (module -> file): those the manifest records with their source's current
    hash; and the modules whose source changed since their build (stale: they run from source). A build
    the manifest does not list is never imported."""
    native = engine_dir / NATIVE_DIR
    try:
        manifest = json.loads((native / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, []
    if not isinstance(manifest, dict):
        return {}, []
    files = _native_files(native)
    fresh: dict[str, Path] = {}
    stale: list[str] = []
    for module, recorded in sorted(manifest.items()):
        built, source = files.get(module), engine_dir / f"{module}.py"
        if built is None:
            continue
        if source.exists() and hashlib.sha256(source.read_bytes()).hexdigest() != recorded:
            stale.append(module)
        else:
            fresh[module] = built
    return fresh, stale


class _EngineFinder(importlib.abc.MetaPathFinder):
    """Finds each engine module as its fresh build, or else as its source: never as a build Python
    would find on its own (one left beside the source by an older way of building)."""

    def __init__(self, engine_dir: Path, builds: dict[str, Path]) -> None:
        self._engine_dir = engine_dir
        self._builds = {f"{PACKAGE}.{module}": path for module, path in builds.items()}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        built = self._builds.get(fullname)
        if built is not None:
            loader = importlib.machinery.ExtensionFileLoader(fullname, str(built))
            return importlib.util.spec_from_file_location(fullname, built, loader=loader)
        package, _, module = fullname.rpartition(".")
        if package != PACKAGE:  # asked about every import of the process: the others at once
            return None
        source = self._engine_dir / f"{module}.py"
        return importlib.util.spec_from_file_location(fullname, source) if source.is_file() else None


def use_native_builds(engine_dir: Path = ENGINE_DIR) -> list[str]:
    """Import the engine's modules from here on as their fresh builds (none with `NEWSMON_PURE_PYTHON`
    set) or their sources; warn once when some builds are stale (in the main process: its workers
    import the same). Returns the stale modules."""
    if any(isinstance(finder, _EngineFinder) for finder in sys.meta_path):
        return []
    fresh, stale = ({}, []) if pure_python_asked() else native_builds(engine_dir)
    sys.meta_path.insert(0, _EngineFinder(engine_dir, fresh))
    if stale and multiprocessing.parent_process() is None:
        warnings.warn(
            f"newsmon: {', '.join(stale)} changed since the engine's native build; they run from source "
            "(slower) until it is built again: pip install -e .",
            RuntimeWarning,
            stacklevel=2,
        )
    return stale


def engine_build() -> str:
    """How the engine runs: `source` (interpreted: a pure-Python install, `NEWSMON_PURE_PYTHON`, or no
    build matching the sources) or `native (N modules)`, counting the engine modules imported native."""
    import monitor.engine.engine  # noqa: F401 (imports every module an article runs through)

    native = [
        name
        for name, module in list(sys.modules.items())
        if name.startswith(PACKAGE + ".")
        and isinstance(getattr(module, "__loader__", None), importlib.machinery.ExtensionFileLoader)
    ]
    return f"native ({len(native)} modules)" if native else "source"

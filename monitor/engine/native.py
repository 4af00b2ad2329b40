"""Which engine modules run as native code (built by Cython, `setup.py`), and the guard that an edited
source is never shadowed by its old build.

Python imports an extension module in preference to the source beside it, so after an edit of
`monitor/engine/match.py` without a rebuild, the old build would still run. `setup.py` writes the hash
of each source it built (`native-build.json`); when a source no longer matches (or a build is there
that the list does not vouch for), every engine module is imported from its source instead, with one
warning: slower, never stale. Nothing here is compiled itself.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PACKAGE = "monitor.engine"
ENGINE_DIR = Path(__file__).resolve().parent
MANIFEST = "native-build.json"


def built_modules(folder: Path) -> set[str]:
    """The modules with a native build in `folder` (for this interpreter)."""
    found = set()
    for path in folder.iterdir():
        # the most specific suffix first: `match.cpython-311-x86_64-linux-gnu.so` is `match`, not a `.so`
        suffix = next((suffix for suffix in importlib.machinery.EXTENSION_SUFFIXES if path.name.endswith(suffix)), None)
        if suffix is not None:
            found.add(path.name[: -len(suffix)])
    return found


def stale_modules(folder: Path) -> list[str]:
    """The native builds in `folder` that do not match their source: the source changed since, or the
    manifest does not list them (a build the manifest cannot vouch for counts as stale)."""
    built = built_modules(folder)
    if not built:
        return []
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    stale = []
    for module in sorted(built):
        source = folder / f"{module}.py"
        if not source.exists():
            continue  # a build without a source (an installed wheel may ship none): nothing to shadow
        recorded = manifest.get(module) if isinstance(manifest, dict) else None
        if recorded != hashlib.sha256(source.read_bytes()).hexdigest():
            stale.append(module)
    return stale


class _FromSource(importlib.abc.MetaPathFinder):
    """Finds the named engine modules as their `.py` sources, ahead of the extension modules."""

    def __init__(self, folder: Path, modules: Sequence[str]) -> None:
        self._sources = {f"{PACKAGE}.{module}": folder / f"{module}.py" for module in modules}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        source = self._sources.get(fullname)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(fullname, source)


#: set (not `0`) at run time: the engine runs from source even where it was built (to profile it line
#: by line); set at install: nothing is built (`setup.py`)
PURE_PYTHON = "NEWSMON_PURE_PYTHON"


def pure_python_asked() -> bool:
    return os.environ.get(PURE_PYTHON, "") not in ("", "0")


def guard_stale_builds(folder: Path = ENGINE_DIR) -> list[str]:
    """When any native build in `folder` is stale, import every built engine module from its source
    (all of them: one kind of code throughout) and warn once; returns the stale modules. With
    `NEWSMON_PURE_PYTHON` set, every one is imported from source, without a warning."""
    asked = pure_python_asked()
    stale = [] if asked else stale_modules(folder)
    if (asked or stale) and not any(isinstance(finder, _FromSource) for finder in sys.meta_path):
        sys.meta_path.insert(0, _FromSource(folder, sorted(built_modules(folder))))
    if stale:
        warnings.warn(
            f"newsmon: the native build of {', '.join(stale)} in {folder} is older than its source; the engine "
            "runs from source (slower) until it is rebuilt: pip install -e .",
            RuntimeWarning,
            stacklevel=2,
        )
    return stale


def engine_build() -> str:
    """How the engine runs: `source` (interpreted: a pure-Python install, or a stale build) or
    `native (N modules)`, counting the engine modules imported from a native build."""
    import monitor.engine.engine  # noqa: F401 (imports every module an article runs through)

    native = [
        name
        for name, module in list(sys.modules.items())
        if name.startswith(PACKAGE + ".") and not str(getattr(module, "__file__", "") or "").endswith(".py")
    ]
    return f"native ({len(native)} modules)" if native else "source"

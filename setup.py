"""Builds the engine's per-article modules as native code with Cython when it can, and installs newsmon.

The engine is plain Python (`monitor/engine/`); Cython compiles the modules that run for every article,
unchanged, into extension modules beside them: the same code, with the interpreter's dispatch taken out
(about a fifth less time an article, `bench/README.md`, "Engine cost"). Each module is optional: where
there is no C compiler, or with `NEWSMON_PURE_PYTHON=1`, newsmon installs as pure Python and behaves the
same. The build writes `monitor/engine/native-build.json` with the hash of each compiled module's source,
so that an edited source is never shadowed by its old build (`monitor/engine/native.py`).

Everything else about the package is in `pyproject.toml`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ENGINE = Path("monitor/engine")
#: the modules every article runs through (normalize → tokenize → match → rules → novelty); loading
#: and compiling the watchlists stay interpreted
NATIVE_MODULES = (
    "normalize",
    "offsets",
    "segment",
    "match",
    "result",
    "rules",
    "passages",
    "assertion",
    "sentence_cues",
    "assess",
    "novelty",
    "sides",
    "asides",
    "written_dates",
    "engine",
)
#: beside the built modules: each one's source hash (`monitor/engine/native.py` reads it)
MANIFEST = "native-build.json"


def _source_hash(module: str) -> str:
    return hashlib.sha256((ENGINE / f"{module}.py").read_bytes()).hexdigest()


class BuildNative(build_ext):
    """`build_ext` that records which engine modules it built, and from which source."""

    def run(self) -> None:
        self._built: dict[str, str] = {}
        super().run()
        if not self.extensions:
            return
        manifest = Path(self.get_ext_fullpath(self.extensions[0].name)).parent / MANIFEST
        manifest.write_text(json.dumps(dict(sorted(self._built.items())), indent=1) + "\n")

    def build_extension(self, ext: Any) -> None:
        super().build_extension(ext)  # a failure (an optional module) leaves it out of the manifest
        module = ext.name.rsplit(".", 1)[1]
        self._built[module] = _source_hash(module)


def _extensions() -> list[Extension]:
    if os.environ.get("NEWSMON_PURE_PYTHON", "") not in ("", "0"):  # monitor/engine/native.py: PURE_PYTHON
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:  # a build without Cython installs the pure-Python engine
        return []
    modules = [
        Extension(f"monitor.engine.{module}", [str(ENGINE / f"{module}.py")], optional=True)
        for module in NATIVE_MODULES
    ]
    # Python semantics throughout: annotations are not C types, functions stay introspectable
    directives = {"language_level": 3, "annotation_typing": False, "binding": True}
    built: list[Extension] = cythonize(
        modules, build_dir="build/cython", compiler_directives=directives, nthreads=os.cpu_count() or 1, quiet=True
    )
    return built


setup(
    ext_modules=_extensions(),
    cmdclass={"build_ext": BuildNative},
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
)

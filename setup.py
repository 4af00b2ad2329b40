"""Builds the engine's per-article modules as native code with Cython when it can, and installs newsmon.

The engine is plain Python (`monitor/engine/`); Cython compiles the modules that run for every article,
unchanged, into extension modules: the same code, with the interpreter's dispatch taken out (about a
fifth less time an article, `bench/README.md`, "Engine cost"). They go to `monitor/engine/_native/`,
never beside their sources, with `native-build.<interpreter>.json`: the hash each one was built from. The engine
imports a build only while its source still has that hash (`monitor/engine/native.py`), so an edited
source, or a checkout of another commit, never runs an old build. Each module is optional: where it does
not compile, or there is no compiler or no Cython, or with `NEWSMON_PURE_PYTHON=1`, newsmon installs as
pure Python and behaves the same (`build_backend.py` asks for Cython only when it is to be used).

Everything else about the package is in `pyproject.toml`.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import os
import sys
from pathlib import Path

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
#: where the builds go, inside the package, and the list of their sources' hashes there (both names are
#: `monitor/engine/native.py`'s too)
NATIVE_DIR = "_native"
#: one list per interpreter (`cpython-311`): builds for two Pythons in one checkout keep each other
MANIFEST = f"native-build.{sys.implementation.cache_tag}.json"
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
#: set (not `0`): nothing is built (`monitor/engine/native.py`: `PURE_PYTHON`)
PURE_PYTHON = "NEWSMON_PURE_PYTHON"


def _source_hashes() -> dict[str, str]:
    """Each module's source hash, taken before it is compiled: a source edited during the build no
    longer matches what the build records, so the engine runs it from source."""
    return {module: hashlib.sha256((ENGINE / f"{module}.py").read_bytes()).hexdigest() for module in NATIVE_MODULES}


HASHES = _source_hashes()


def clear_builds(place: Path) -> None:
    """This interpreter's builds in `place` (an engine folder) and their list, and any build beside the
    sources (where Python would find it by itself): an earlier build is never left to run."""
    native = place / NATIVE_DIR
    for module in NATIVE_MODULES:
        (native / f"{module}{SUFFIX}").unlink(missing_ok=True)
        (place / f"{module}{SUFFIX}").unlink(missing_ok=True)
    (native / MANIFEST).unlink(missing_ok=True)


class BuildNative(build_ext):  # type: ignore[misc]
    """`build_ext` that moves the builds into `_native/` (out of Python's own sight: only the engine's
    finder imports them), clears what it did not build, and records which modules it built and from
    which source."""

    def run(self) -> None:
        self._built: dict[str, str] = {}
        if not self.extensions:
            return
        # where the builds are made, and (installed editable) the package folder they are copied to
        places = [Path(self.build_lib) / ENGINE, *([ENGINE] if self.inplace else [])]
        for place in places:
            clear_builds(place)
        super().run()
        manifest = json.dumps(dict(sorted(self._built.items())), indent=1) + "\n"
        for place in places:
            (place / NATIVE_DIR).mkdir(parents=True, exist_ok=True)
            for module in self._built:
                (place / self._file_name(module)).replace(place / NATIVE_DIR / self._file_name(module))
            (place / NATIVE_DIR / MANIFEST).write_text(manifest)

    def _file_name(self, module: str) -> str:
        return Path(self.get_ext_filename(f"monitor.engine.{module}")).name

    def build_extension(self, ext: Extension) -> None:
        super().build_extension(ext)  # a failure (every module is optional) leaves it out of the manifest
        module = ext.name.rsplit(".", 1)[1]
        self._built[module] = HASHES[module]


def _extensions() -> list[Extension]:
    if os.environ.get(PURE_PYTHON, "") not in ("", "0"):
        clear_builds(ENGINE)  # an earlier build is not run either
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:  # a build without Cython installs the pure-Python engine
        clear_builds(ENGINE)
        return []
    modules = [Extension(f"monitor.engine.{module}", [str(ENGINE / f"{module}.py")]) for module in NATIVE_MODULES]
    # Python semantics throughout: annotations are not C types, functions stay introspectable
    directives = {"language_level": 3, "annotation_typing": False, "binding": True}
    try:
        built: list[Extension] = cythonize(
            modules,
            build_dir="build/cython",
            compiler_directives=directives,
            force=True,  # by content, never by a file's time (a source restored with an old one)
            exclude_failures=True,
            nthreads=os.cpu_count() or 1,
            quiet=True,
        )
    except Exception as error:  # whatever Cython raises, the package installs interpreted
        print(f"newsmon: the native engine build is skipped ({error}): the engine runs interpreted")
        clear_builds(ENGINE)
        return []
    for extension in built:
        extension.optional = True  # cythonize's copies drop the flag: a module that fails to compile is left out
    return built


setup(
    ext_modules=_extensions(),
    cmdclass={"build_ext": BuildNative},
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
)

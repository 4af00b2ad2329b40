"""The PEP 517 build backend: setuptools', asking for Cython only when the engine is to be built native.

With `NEWSMON_PURE_PYTHON=1` (`setup.py`) nothing is compiled, so the install needs no Cython either: it
works from an index or a mirror without it.
"""

from __future__ import annotations

import os

from setuptools import build_meta
from setuptools.build_meta import *  # noqa: F403 (every hook not redefined here is setuptools')

#: the Cython the native build is made and tested with (`setup.py`)
CYTHON = "Cython>=3.0,<4"


def _native() -> list[str]:
    return [] if os.environ.get("NEWSMON_PURE_PYTHON", "") not in ("", "0") else [CYTHON]


def get_requires_for_build_wheel(config_settings: dict[str, str | list[str]] | None = None) -> list[str]:
    return [*build_meta.get_requires_for_build_wheel(config_settings), *_native()]


def get_requires_for_build_editable(config_settings: dict[str, str | list[str]] | None = None) -> list[str]:
    return [*build_meta.get_requires_for_build_editable(config_settings), *_native()]

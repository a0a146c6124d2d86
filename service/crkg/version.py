"""The project version, read from its one source of truth: ``pyproject.toml``.

An installed distribution carries the version in its metadata; a source checkout
that was never installed falls back to reading ``pyproject.toml`` directly, so the
two can never disagree.
"""

from __future__ import annotations

import tomllib
from importlib import metadata

from crkg.paths import REPO_ROOT


def _read_version() -> str:
    pyproject = REPO_ROOT / "pyproject.toml"
    if pyproject.is_file():
        # A checkout: pyproject.toml is the truth even if the installed metadata is stale.
        with pyproject.open("rb") as fh:
            return tomllib.load(fh)["project"]["version"]
    return metadata.version("crkg")


__version__ = _read_version()

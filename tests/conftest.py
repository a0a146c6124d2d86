"""Fixtures shared by every test folder.

``built`` builds the repository's real sources once per test session into a
temporary store and dist folder (tests never write into the repository).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from crkg.paths import REPO_ROOT

SHARED = REPO_ROOT.parent / "shared"


@dataclass
class Built:
    store_dir: Path
    dist_dir: Path
    result: object


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    """The shipped data built (validated, reasoned) into a temporary store and dist/."""
    from crkg.build.pipeline import build

    root = tmp_path_factory.mktemp("built")
    result = build(store_dir=root / "store", dist_dir=root / "dist", progress=lambda _m: None)
    return Built(root / "store", root / "dist", result)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``shared/`` folder beside the checkout (source study, facts, design)."""
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: the tests need the shared/ folder beside the checkout")
    return SHARED

"""Fixtures shared by every test folder.

``built`` builds the repository's real sources once per test session into a
temporary store and dist folder (tests never write into the repository).
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from crkg.paths import study_sources_dir

FIRST_STUDY = "xu-chen-shanghai"

# Builds in tests convert their few small studies in the test's own process: a pool of
# worker processes costs more to start (about half a second) than it saves on them.
# tests/unit/test_build_jobs.py starts pools on purpose (``jobs=2``, ``--jobs 2``).
os.environ.setdefault("CRKG_BUILD_JOBS", "1")


@dataclass
class Built:
    store_dir: Path
    dist_dir: Path
    result: object


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    """The shipped data built (validated, reasoned) into a temporary store and dist/."""
    from crkg.pipeline.build import build

    root = tmp_path_factory.mktemp("built")
    result = build(store_dir=root / "store", dist_dir=root / "dist", progress=lambda _m: None)
    return Built(root / "store", root / "dist", result)


def build_studies(root: Path, folders, reason: bool = True) -> Path:
    """Build the study *folders* together (a data folder laid out like the repository's,
    in *root*) with ``crkg build``; returns the store's path (its search index beside it)."""
    import shutil

    from crkg.paths import DATA_DIR
    from crkg.pipeline.build import build

    data = root / "data"
    (data / "studies").mkdir(parents=True)
    shutil.copy(DATA_DIR / "context.jsonld", data / "context.jsonld")
    for folder in folders:
        shutil.copytree(folder, data / "studies" / Path(folder).name)
    build(data_dir=data, store_dir=root / "store", dist_dir=None, reason=reason, progress=lambda _m: None)
    return root / "store"


@pytest.fixture(scope="session")
def studies_builder():
    """:func:`build_studies`, as a fixture (test modules cannot import a conftest by name)."""
    return build_studies


@pytest.fixture(scope="session")
def first_study_text() -> str:
    """The first study's full text, carried in its own folder (``sources/study.zh.txt``)."""
    return (study_sources_dir(FIRST_STUDY) / "study.zh.txt").read_text(encoding="utf-8")


class Listener:
    """A plain TCP server on 127.0.0.1 that counts the connections it accepts: the stand-in
    target of a SERVICE clause, which must see no connection unless it is allow-listed."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()

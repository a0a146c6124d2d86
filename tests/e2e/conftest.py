"""A real ``crkg serve`` process on a free port of 127.0.0.1, over a fixture store.

``CRKG_QUERY_TIMEOUT=2`` so the runaway-query test is quick; the store is the synthetic
data of ``tests/fixtures/sparql`` written with ``write_store``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from crkg.store.embedded import write_store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sparql"
QUERY_TIMEOUT = 2.0


def fixture_graphs() -> list[tuple[str, bytes, str]]:
    rows = [line.split("\t") for line in (FIXTURES / "graphs.tsv").read_text(encoding="utf-8").splitlines() if line]
    assert rows, "tests/fixtures/sparql/graphs.tsv names no graph"
    return [(iri, (FIXTURES / name).read_bytes(), "text/turtle") for iri, name in rows]


def crkg_command() -> str:
    """The installed ``crkg`` console script (the README's command), beside this Python."""
    beside = Path(sys.executable).parent / "crkg"
    found = str(beside) if beside.exists() else shutil.which("crkg")
    assert found, "the crkg console script is not installed (pip install -e .)"
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``crkg serve`` as a child process; ``url`` is its base, ``endpoint`` its /sparql."""

    def __init__(self, store: Path, env: dict | None = None, workers: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.endpoint = self.url + "sparql"
        self.store = store
        self.stderr: list[str] = []
        environment = {**os.environ, "CRKG_QUERY_TIMEOUT": str(QUERY_TIMEOUT), **(env or {})}
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [crkg_command(), "serve", "--store", str(store), "--port", str(self.port),
             "--workers", str(workers)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environment,
        )
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self):
        for line in self.process.stderr:
            self.stderr.append(line.rstrip())

    def wait_ready(self, limit: float = 30.0) -> float:
        """Seconds from start to the first answered query."""
        while time.monotonic() - self.started < limit:
            if self.process.poll() is not None:
                raise AssertionError(f"crkg serve exited {self.process.returncode}: " + "\n".join(self.stderr))
            try:
                with urllib.request.urlopen(self.endpoint + "?query=ASK%7B%7D", timeout=2) as r:
                    if r.status == 200:
                        return time.monotonic() - self.started
            except OSError:
                time.sleep(0.02)
        raise AssertionError("crkg serve did not answer in time:\n" + "\n".join(self.stderr))

    def stop(self, sig=signal.SIGTERM, limit: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(limit)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError("crkg serve did not stop within %.0f s" % limit) from None
            finally:
                self._drainer.join(5)
                self.process.stderr.close()
        return self.process.returncode


def query_workers_of(server_pid: int) -> list[int]:
    """PIDs of the query processes a ``crkg serve`` process started (Linux /proc): its
    children running ``query_worker.py``. By parent, not by store path: a worker is given the
    resolved store generation, which other servers over the same data share."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text(errors="replace")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = next((line.split()[1] for line in status.splitlines() if line.startswith("PPid:")), None)
        if ppid == str(server_pid) and "query_worker.py" in cmdline:
            found.append(int(entry.name))
    return found


def processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line contains *text* (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="session")
def e2e_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("e2e-store") / "store"
    write_store(path, fixture_graphs())
    return path


@pytest.fixture(scope="module")
def server(e2e_store):
    srv = Server(e2e_store)
    srv.wait_ready()
    yield srv
    srv.stop()


def start_serve(store_dir: Path, log: Path, env: dict | None = None, ready_path: str = "/"):
    """``crkg serve`` (this Python, its own process group) on a free loopback port over
    *store_dir*, output to *log*; returns (base URL, process) once *ready_path* answers 200.
    Stop it with :func:`stop_serve`."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from crkg.cli import main; main()", "serve",
             "--host", "127.0.0.1", "--port", str(port), "--store", str(store_dir)],
            env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"crkg serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + ready_path, timeout=2) as r:
                if r.status == 200:
                    return url, process
        except OSError:
            pass
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"crkg serve did not answer within 60 s:\n{log.read_text()}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def serve_process():
    """(:func:`start_serve`, :func:`stop_serve`), as a fixture (test modules cannot import
    a conftest by name when several are loaded)."""
    return start_serve, stop_serve


def stop_serve(process: subprocess.Popen) -> None:
    """Ctrl-C, as a user stops it; then make sure nothing of it is left."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

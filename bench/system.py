"""The machine and the processes: what RESULTS.md notes and how memory is measured.

Memory is read from ``/proc`` (Linux) so the harness needs no extra dependency: a
process's ``VmHWM`` is its peak resident set, ``VmRSS`` its current one. The serving
processes of a service are its root process and every descendant (WSGI workers, query
worker processes), so a service's memory is the sum over that tree.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import threading
import time
from importlib import metadata
from pathlib import Path


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def ram_gib() -> float:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def virtuoso_version(binary: str | None = None) -> str:
    binary = binary or shutil.which("virtuoso-t")
    if not binary:
        return "not installed"
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    for line in (out.stdout + out.stderr).splitlines():
        if line.startswith("Version"):
            return line.split()[1]
    return "unknown"


def machine() -> dict[str, str]:
    """What the results were measured on."""
    return {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "ram": f"{ram_gib():.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "crkg": _version("crkg"),
        "pyoxigraph": _version("pyoxigraph"),
        "rdflib": _version("rdflib"),
        "pyshacl": _version("pyshacl"),
        "owlrl": _version("owlrl"),
        "flask": _version("flask"),
        "gunicorn": _version("gunicorn"),
        "waitress": _version("waitress"),
        "virtuoso": virtuoso_version(),
    }


# --------------------------------------------------------------------------- memory


def _status_kib(pid: int, field: str) -> int:
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """*pid* and every process below it (children of all its threads)."""
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in seen or not Path(f"/proc/{p}").exists():
            continue
        seen.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            for child in _read(str(task / "children")).split():
                todo.append(int(child))
    return seen


def tree_rss_mib(pid: int) -> float:
    """Current resident memory of *pid* and its descendants, in MiB."""
    return sum(_status_kib(p, "VmRSS") for p in descendants(pid)) / 1024


def tree_hwm_mib(pid: int) -> float:
    """Sum of each process's own peak resident memory (an upper bound of the tree's peak)."""
    return sum(_status_kib(p, "VmHWM") for p in descendants(pid)) / 1024


def self_hwm_mib() -> float:
    return _status_kib(os.getpid(), "VmHWM") / 1024


class RssSampler:
    """Samples the tree's summed RSS every *interval* seconds; ``peak`` is the maximum seen.

    Per-process peaks (VmHWM) of processes that have already exited are lost, and the sum
    of per-process peaks overstates the tree's peak; sampling the sum is the honest
    measure of "peak memory of the serving processes".
    """

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval = pid, interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mib(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss_mib(self.pid))


def wait_for_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> float:
    """Poll *url* until it answers (any status < 500); returns seconds waited."""
    import urllib.error
    import urllib.request

    start = time.perf_counter()
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                resp.read()
                return time.perf_counter() - start
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return time.perf_counter() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.02)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

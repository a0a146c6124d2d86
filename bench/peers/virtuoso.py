"""Virtuoso (Debian's ``virtuoso-opensource``) on loopback with a throwaway database.

``Virtuoso(workdir).start()`` writes a minimal ``virtuoso.ini`` into *workdir* (under
bench/out/), starts ``virtuoso-t`` in the foreground on two free loopback ports (SQL and
HTTP), and ``load_nquads(path)`` bulk-loads a dump with Virtuoso's own loader
(``ld_dir`` + ``rdf_loader_run``), one named graph per quad graph. Its SPARQL endpoint is
``http://127.0.0.1:{http_port}/sparql``; with no FROM the default graph is the union of all
graphs, as in crkg.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.system import free_port, wait_for_http

INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
LiteMode = 0
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 20
CheckpointInterval = 0
O_DIRECT = 0
CaseMode = 2
MaxStaticCursorRows = 5000
AllowOSCalls = 0
DirsAllowed = ., {data_dir}
ThreadCleanupInterval = 0
ThreadThreshold = 10
ResourcesCleanupInterval = 0
MaxQueryMem = 1G
VectorSize = 1000
MaxVectorSize = 1000000
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 10
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
MaxClientConnections = 20
ServerThreads = 20
MaxKeepAlives = 20
KeepAliveTimeout = 10
HTTPThreadSize = 280000
Charset = UTF-8
EnabledGzipContent = 0

[Client]
SQL_PREFETCH_ROWS = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT = 0
SQL_TXN_TIMEOUT = 0

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 0
"""


def ensure_installed(progress=print) -> str:
    """The path of ``virtuoso-t``; installs Debian's package through apt-get when missing."""
    binary = shutil.which("virtuoso-t")
    if binary:
        return binary
    progress("virtuoso-t is missing: installing virtuoso-opensource through apt-get")
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    subprocess.run(["apt-get", "update"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "virtuoso-opensource"],
                   check=True, env=env)
    # The package starts a system service on the default ports; the bench uses its own.
    subprocess.run(["service", "virtuoso-opensource-7", "stop"], check=False, env=env,
                   capture_output=True)
    binary = shutil.which("virtuoso-t")
    if not binary:
        raise RuntimeError("apt-get installed virtuoso-opensource but virtuoso-t is not on PATH")
    return binary


class Virtuoso:
    def __init__(self, workdir: Path, *, buffers: int = 85000, progress=print):
        self.workdir = Path(workdir).resolve()
        self.data_dir = self.workdir / "load"
        self.buffers = buffers
        self.progress = progress
        self.proc: subprocess.Popen | None = None
        self.sql_port = self.http_port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> float:
        """Start on a fresh database; returns seconds until the endpoint answered."""
        binary = ensure_installed(self.progress)
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        self.data_dir.mkdir(parents=True)
        self.sql_port, self.http_port = free_port(), free_port()
        (self.workdir / "virtuoso.ini").write_text(INI.format(
            d=self.workdir, data_dir=self.data_dir, sql_port=self.sql_port,
            http_port=self.http_port, buffers=self.buffers, dirty=self.buffers * 3 // 4))
        start = time.perf_counter()
        self.proc = subprocess.Popen(
            [binary, "-f", "-c", "virtuoso.ini"], cwd=self.workdir,
            stdout=open(self.workdir / "stdout.log", "wb"), stderr=subprocess.STDOUT)
        wait_for_http(self.endpoint + "?query=ASK%7B%7D", timeout=180, proc=self.proc)
        return time.perf_counter() - start

    def isql(self, *statements: str, timeout: float = 3600) -> str:
        isql = shutil.which("isql-vt") or shutil.which("isql")
        if not isql:
            raise RuntimeError("isql-vt (from virtuoso-opensource) is not on PATH")
        script = "".join(s.rstrip().rstrip(";") + ";\n" for s in statements)
        out = subprocess.run([isql, f"127.0.0.1:{self.sql_port}", "dba", "dba"], input=script,
                             capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0 or "*** Error" in out.stdout + out.stderr:
            raise RuntimeError(f"isql failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def load_nquads(self, dump: Path) -> float:
        """Bulk-load an N-Quads dump; returns the seconds it took (loader + checkpoint)."""
        target = self.data_dir / "data.nq"
        if target.exists():
            target.unlink()
        try:
            target.hardlink_to(Path(dump).resolve())
        except OSError:
            shutil.copyfile(dump, target)
        start = time.perf_counter()
        self.isql(f"ld_dir('{self.data_dir}', 'data.nq', 'urn:crkg:bench:default')",
                  "rdf_loader_run()", "checkpoint")
        elapsed = time.perf_counter() - start
        errors = self.isql("SELECT ll_file, ll_error FROM DB.DBA.load_list WHERE ll_error IS NOT NULL")
        if "data.nq" in errors:
            raise RuntimeError(f"Virtuoso could not load {dump}:\n{errors}")
        return elapsed

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.isql("shutdown", timeout=60)
        except Exception:  # noqa: BLE001 - fall back to terminating it
            pass
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":  # manual check: python -m bench.peers.virtuoso DUMP.nq
    with Virtuoso(Path("bench/out/virtuoso-manual"), progress=lambda m: print(m, file=sys.stderr)) as v:
        print("load", v.load_nquads(Path(sys.argv[1])), "s; endpoint", v.endpoint)

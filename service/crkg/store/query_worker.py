"""A query worker process of ``crkg.store.embedded``: run as a script, not imported by it.

Started as ``python -S -E query_worker.py FD STORE PARENT_PID MEMORY_MB PYOXIGRAPH_DIR``
(FD is the inherited socket; on Windows, which cannot pass descriptors, it is ``shared``
and the socket arrives as ``socket.share`` data on stdin):
``-S`` skips ``site`` (the .pth files, the editable-install finder), and the file
imports nothing but the standard library and pyoxigraph (whose folder is the last
argument), so a worker is ready in ~0.08 s instead of ~0.25 s (measured here) - it is
on the path of the first query after ``crkg serve`` starts and of every worker replaced
after a time-out. It holds no format table: the parent resolves the media type asked
for against ``crkg.formats`` and sends the canonical media type for each kind of
answer (``result_format`` for SELECT/ASK, ``graph_format`` for CONSTRUCT/DESCRIBE), which
pyoxigraph maps to its own format objects (``from_media_type``).

Protocol on the socket FD (``multiprocessing.connection`` framing, pickled tuples): first
``READY`` out once the store is open, then a request dict in, a reply tuple out: ``("ok", body, media_type, form, truncated)``,
``("ok", [graph IRIs])``, ``("syntax" | "query", message)`` (HTTP 400) or
``("unavailable", message)``. ``None`` asks the worker to exit.
"""

from __future__ import annotations

import os
import sys

# Run as a script, Python puts this file's folder (crkg's store package) first on the
# path; nothing here should be importable as a top-level module.
if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import threading  # noqa: E402
import time  # noqa: E402

#: Stack of the thread a worker runs queries in. Oxigraph's parser and optimiser recurse
#: once per nesting level *and* per element of long flat lists (measured: 10 000 triple
#: patterns segfault on the default 8 MB stack; 500 000 nested operators pass with 1 GiB).
#: Only the pages actually touched are committed.
WORKER_STACK_BYTES = 1024 * 1024 * 1024

#: The first message of a worker, once its store is open (or failed to open).
READY = ("ready",)
#: The FD argument that says "the socket comes as ``socket.share`` data on stdin" (Windows).
SHARED_SOCKET = "socket-share"


class _RowCapReached(Exception):
    pass


class _CappedWriter:
    """A binary sink that keeps the first *limit* lines and stops the writer after that."""

    def __init__(self, limit: int):
        self.limit = limit
        self.lines = 0
        self.chunks: list[bytes] = []

    def write(self, data) -> int:
        data = bytes(data)
        total = self.lines + data.count(b"\n")
        if total < self.limit or (total == self.limit and data.endswith(b"\n")):
            self.chunks.append(data)
            self.lines = total
            return len(data)
        # the limit-th line ends inside this chunk and something follows it: cut there
        cut = 0
        for _ in range(self.limit - self.lines):
            cut = data.index(b"\n", cut) + 1
        self.chunks.append(data[:cut])
        self.lines = self.limit
        raise _RowCapReached()

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)


def _run_query(store, request: dict) -> tuple:
    import pyoxigraph as ox

    kwargs: dict = {}
    if request["default_graphs"] or request["named_graphs"]:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in request["default_graphs"]]
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in request["named_graphs"]]
    elif request["union"]:
        kwargs["use_default_graph_as_union"] = True
    try:
        result = store.query(request["query"], **kwargs)
    except SyntaxError as exc:
        return ("syntax", str(exc))
    max_rows = request["max_rows"]
    if isinstance(result, (ox.QueryBoolean, ox.QuerySolutions)):
        media_type = request["result_format"]
        fmt = ox.QueryResultsFormat.from_media_type(media_type)
        if isinstance(result, ox.QueryBoolean):
            return ("ok", result.serialize(format=fmt), media_type, "ask", False)
        form = "select"
        if max_rows is None:
            return ("ok", result.serialize(format=fmt), media_type, form, False)
        tsv, truncated = _capped(result, ox.QueryResultsFormat.TSV, max_rows + 1)  # + the header line
        if fmt == ox.QueryResultsFormat.TSV:
            body = tsv
        else:
            body = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV).serialize(format=fmt)
        return ("ok", body, media_type, form, truncated)
    # CONSTRUCT or DESCRIBE (pyoxigraph does not say which; the caller knows from the text)
    form = request.get("form") if request.get("form") in ("construct", "describe") else "construct"
    graph_type = request["graph_format"]
    rdf_fmt = ox.RdfFormat.from_media_type(graph_type)
    # always through N-Triples, capped or not: so Turtle and RDF/XML get the prefixes
    nt, truncated = _capped(result, ox.RdfFormat.N_TRIPLES, float("inf") if max_rows is None else max_rows)
    if rdf_fmt == ox.RdfFormat.N_TRIPLES:
        return ("ok", nt, graph_type, form, truncated)
    # only the prefixes the graph uses, in a stable order (a substring test each)
    used = {p: ns for p, ns in sorted((request.get("prefixes") or {}).items())
            if f"<{ns}".encode() in nt}
    graph = ox.serialize(ox.parse(nt, format=ox.RdfFormat.N_TRIPLES), format=rdf_fmt, prefixes=used or None)
    return ("ok", graph, graph_type, form, truncated)


def _capped(result, line_format, limit) -> tuple[bytes, bool]:
    """*result* serialised in a one-item-per-line format, stopped after *limit* lines:
    (the bytes, whether the cap cut them)."""
    writer = _CappedWriter(limit)
    try:
        result.serialize(writer, format=line_format)
    except _RowCapReached:
        return writer.getvalue(), True
    return writer.getvalue(), False


def answer(store, open_error: str | None, request: dict) -> tuple:
    """The reply to one request (also called in the web process for bounded queries)."""
    if request.get("op") == "graphs":
        if store is None:
            return ("unavailable", open_error)
        return ("ok", sorted(g.value for g in store.named_graphs() if hasattr(g, "value")))
    if request.get("op") == "export":
        # every named graph except those listed, as N-Triples (for EmbeddedStore.load)
        import pyoxigraph as ox

        if store is None:
            return ("unavailable", open_error)
        skip = set(request["except"])
        graphs = []
        for graph in store.named_graphs():
            if isinstance(graph, ox.NamedNode) and graph.value not in skip:
                quads = store.quads_for_pattern(None, None, None, graph)
                graphs.append((graph.value, ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES)))
        return ("ok", graphs)
    if store is None:
        return ("unavailable", open_error)
    try:
        return _run_query(store, request)
    except MemoryError:
        return ("unavailable", "the query needed more memory than a query worker may use")
    except (ValueError, TypeError, RuntimeError) as exc:
        # evaluation errors (e.g. an unbound SERVICE variable), bad graph IRIs
        return ("query", str(exc))
    except OSError as exc:
        return ("unavailable", f"{type(exc).__name__}: {exc}")


def _watch_parent(parent_pid: int) -> None:
    """Exit when the web worker that started us is gone (a killed parent leaves no orphans)."""
    if sys.platform == "win32":
        # Windows never re-parents a process (getppid stays the same): wait on the parent
        import ctypes

        synchronize, infinite = 0x00100000, 0xFFFFFFFF
        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(synchronize, False, parent_pid)
        if handle:
            kernel32.WaitForSingleObject(handle, infinite)
        os._exit(0)
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(0)


def _limit_memory(megabytes: int | None) -> None:
    if not megabytes:
        return
    try:
        import resource

        # the query thread's stack is a private mapping and counts against RLIMIT_DATA
        # although only the touched part of it is ever committed
        limit = megabytes * 1024 * 1024 + WORKER_STACK_BYTES
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


def _worker_main(conn, path: str, parent_pid: int, memory_mb: int | None) -> None:
    """Entry point of a worker process: open the store read-only, answer until EOF."""
    import pyoxigraph as ox

    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    _limit_memory(memory_mb)
    store, open_error = None, None
    try:
        store = ox.Store.read_only(path)
    except OSError as exc:
        open_error = f"cannot open the store {path}: {exc}"
    # ONE long-lived thread with the large stack serves every request. A thread per query
    # failed under load: glibc frees a finished thread's stack lazily, so the next 1 GiB
    # stack did not fit under RLIMIT_DATA ("can't start new thread"; bench finding 2).
    threading.stack_size(WORKER_STACK_BYTES)
    server = threading.Thread(target=_serve, args=(conn, store, open_error))
    server.start()
    server.join()


def _serve(conn, store, open_error: str | None) -> None:
    """Answer requests from *conn* one after another until EOF or ``None``."""
    try:
        conn.send(READY)  # the store is open: the pool may hand this worker a query now
    except OSError:
        return
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        try:
            reply = answer(store, open_error, request)
        except Exception as exc:  # never leave the web worker waiting for a reply
            reply = ("unavailable", f"the query worker failed: {exc}")
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


def main(argv: list[str]) -> None:
    fd, path, parent_pid, memory_mb, pyoxigraph_dir = argv[1:6]
    if pyoxigraph_dir not in sys.path:
        sys.path.append(pyoxigraph_dir)
    from multiprocessing.connection import Connection

    if fd == SHARED_SOCKET:
        # Windows: no descriptor passing; the parent sends socket.share() data on stdin
        import socket

        sock = socket.fromshare(sys.stdin.buffer.read())
        conn = Connection(sock.detach())
    else:
        conn = Connection(int(fd))
    _worker_main(conn, path, int(parent_pid), int(memory_mb) or None)


if __name__ == "__main__":
    main(sys.argv)

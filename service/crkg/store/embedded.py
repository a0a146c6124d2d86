"""The embedded store: the on-disk Oxigraph store, queried in worker processes.

ARCHITECTURE.md, "Facts measured": pyoxigraph releases the GIL while it evaluates a
query but nothing can interrupt it from inside the process, and several processes can
open ``Store.read_only(path)`` at once. So each ``EmbeddedStore`` keeps a small pool of
**worker processes** (started with ``subprocess``: no fork after threads), each holding the store
open read-only (``crkg.store.query_worker``, a script that imports only pyoxigraph, so a
worker starts in ~0.1 s). A query is handed to an idle worker over a socket; if no answer comes
within the time limit the worker is killed (SIGKILL), a fresh one is started in its place
and ``QueryTimeout`` is raised, while the other workers go on answering.

Results are serialised by the engine inside the worker and travel back as bytes.

Lanes (issue 13, with ``crkg.store.admission``): the pool is the *fast lane*. A query still
running after its short budget (CPU time where ``/proc`` tells it; a fifth of it while
other queries wait for the lane) becomes *long*: its worker leaves the lane, is reniced
and retired when the query ends, a successor is started at once, and the query needs one
of the long slots or is stopped (429/503). A worker joins the lane only once it has
opened the store (its ``READY``), and a worker that dies is replaced the moment it dies
(one watcher thread per worker). A query the guard proves bounded (``guard.is_bounded``:
one triple pattern with a constant subject or object, no joins) is answered in this
process instead (issue 14: the hand-off cost more than the lookup); it cannot run away.

The row cap (``max_rows``) without per-row Python work
------------------------------------------------------
The worker serialises SELECT results as TSV and CONSTRUCT/DESCRIBE results as N-Triples:
both formats hold exactly one row (triple) per line, newlines in literals being escaped.
The engine writes them in ~8 KB chunks into a small writer that counts ``\\n`` per chunk
(``bytes.count``, in C) and stops the serialisation - and with it the lazy evaluation -
as soon as more than ``max_rows`` rows have arrived. Uncut (the common case) the
TSV/N-Triples bytes are converted to the requested format by the engine again
(``parse_query_results(...).serialize(...)`` / ``serialize(parse(...))``), which is
lossless; cut, the first ``max_rows`` lines are kept and converted the same way, and the
response says ``truncated=True``. ASK has one row and is never cut. This is correct for
any query (ORDER BY, aggregates, subqueries): the query text is never rewritten.
Measured: 30 000 rows serialise to TSV in 22 ms and convert to SPARQL JSON in 35 ms
(byte-identical to serialising JSON directly); over HTTP, all 5 016 triples of the shipped
data as SPARQL JSON in 68 ms, a cross product cut at 10 000 rows in 156 ms, ``ASK {}`` 3 ms.

Other guards: a worker runs queries on a thread with a 1 GiB stack (Oxigraph recurses per
nesting level and per element of long lists; the default stack segfaults at ~10 000), and
optionally under a data-segment limit (``memory_mb``); a worker that dies is replaced and
the query answers ``BackendUnavailable`` (HTTP 503).

The dataset (SPARQL 1.1 Protocol §2.1.4)
----------------------------------------
With no ``default-graph-uri``/``named-graph-uri`` and no ``FROM`` in the query, the
default graph is the union of all named graphs (``use_default_graph_as_union``). With
protocol graph IRIs, exactly those graphs (an empty default graph if only named graphs
are given); a query's own ``FROM``/``FROM NAMED`` is honoured when the protocol gives none.
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Iterable, Sequence

import pyoxigraph

from crkg import formats
from crkg.config import Config
from crkg.errors import CrkgError
from crkg.namespaces import PREFIX_IRIS
from crkg.paths import RELEASE_DIR_NAME, STORE_SIDE_DIR_NAME, store_release_dir
from crkg.store import generation as store_generation
from crkg.store import guard, query_worker
from crkg.store.base import (
    BackendUnavailable,
    QueryError,
    QueryResponse,
    QueryTimeout,
    Store,
)
from crkg.store.admission import (
    POLL_SECONDS,
    Admission,
    ClientOverShare,
    QueryCancelled,
    ServiceBusy,
)
from crkg.store.admission import current as current_caller

_WORKER_SCRIPT = query_worker.__file__
#: where pyoxigraph is installed: the one folder a worker (started without ``site``) needs
_PYOXIGRAPH_DIR = os.path.dirname(os.path.dirname(pyoxigraph.__file__))


# =============================================================== parent side


class _Worker:
    """One query process (``crkg.store.query_worker`` run as a script), over a socketpair.

    A plain subprocess rather than ``multiprocessing``: its spawn re-imports the parent's
    ``__main__`` script in the child (breaking any script without a ``__main__`` guard),
    and fork after threads is unsafe. The worker starts with ``-S -E`` and imports only
    pyoxigraph, so it is ready in a fraction of the interpreter's usual start-up time.
    The same on every platform and whatever ``multiprocessing``'s start method: POSIX
    passes the socket as an inherited descriptor, Windows (which cannot) as
    ``socket.share`` data on the worker's stdin.
    """

    def __init__(self, generation: str, memory_mb: int | None):
        #: the store generation this worker opens (``crkg.store.generation.current`` of
        #: the store path, resolved by the caller: the worker opens exactly this folder)
        self.generation = path = generation
        #: running a long query (outside the fast lane); retired when it ends
        self.long = False
        self._cpu_at_start: float | None = None
        parent, child = socket.socketpair()
        try:
            if sys.platform == "win32":
                self.process = subprocess.Popen(
                    [sys.executable, "-S", "-E", _WORKER_SCRIPT, query_worker.SHARED_SOCKET,
                     path, str(os.getpid()), str(memory_mb or 0), _PYOXIGRAPH_DIR],
                    stdin=subprocess.PIPE,
                )
                self.process.stdin.write(child.share(self.process.pid))
                self.process.stdin.close()
            else:
                self.process = subprocess.Popen(
                    [sys.executable, "-S", "-E", _WORKER_SCRIPT,
                     str(child.fileno()), path, str(os.getpid()), str(memory_mb or 0), _PYOXIGRAPH_DIR],
                    pass_fds=(child.fileno(),),
                    stdin=subprocess.DEVNULL,
                )
        finally:
            child.close()
        self.conn = Connection(parent.detach())

    def started_query(self) -> None:
        self._cpu_at_start = _cpu_seconds(self.process.pid)

    def spent_budget(self, budget: float, wall: float) -> bool:
        """Has the running query used its short *budget*? CPU time where the system tells
        it (Linux ``/proc``): on a loaded machine a cheap query waits for a CPU longer than
        it runs, and must not be taken for a runaway. Wall time elsewhere, and at most
        ``_WALL_BUDGET_FACTOR`` times the budget anyway (a query waiting on the disk)."""
        if wall >= budget * _WALL_BUDGET_FACTOR or self._cpu_at_start is None:
            return True
        now = _cpu_seconds(self.process.pid)
        return now is None or now - self._cpu_at_start >= budget

    def lower_priority(self) -> None:
        """A long query yields the CPU to the cheap ones (POSIX ``nice``; not on Windows)."""
        if hasattr(os, "setpriority"):
            try:
                os.setpriority(os.PRIO_PROCESS, self.process.pid, LONG_QUERY_NICENESS)
            except OSError:
                pass

    def stop(self, kill: bool = False) -> None:
        try:
            if not kill:
                try:
                    self.conn.send(None)
                    self.process.wait(2.0)
                except (OSError, ValueError, subprocess.TimeoutExpired):
                    pass
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait(5.0)
        finally:
            self.conn.close()


#: The share of the short budget a query may use while others wait for the fast lane.
CONTENDED_BUDGET_FRACTION = 0.2

#: A query is long after this many times the short budget of wall time, whatever its CPU.
_WALL_BUDGET_FACTOR = 4
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process *pid* (Linux ``/proc``), None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


#: Seconds a new query worker may take to open the store before it is given up.
_START_LIMIT = 60.0
#: Seconds before a worker that died while starting is replaced.
_RESTART_PAUSE = 1.0

#: ``nice`` increment of a worker whose query became long (it is retired afterwards, as an
#: unprivileged process cannot lower its niceness again).
LONG_QUERY_NICENESS = 10


def query_request(sparql: str, info: guard.QueryInfo, media_type: str, default_graph_uris=(),
                  named_graph_uris=(), max_rows: int | None = None, prefixes: dict | None = None) -> dict:
    """The request a query worker answers (``query_worker.answer``), for a checked query."""
    return {
        "op": "query",
        "query": sparql,
        # the worker writes what fits the answer: results or a graph (crkg.formats)
        "result_format": formats.for_answer(media_type, formats.RESULTS).media_type,
        "graph_format": formats.for_answer(media_type, formats.GRAPH).media_type,
        "default_graphs": list(default_graph_uris),
        "named_graphs": list(named_graph_uris),
        "union": not info.has_dataset,
        "max_rows": max_rows,
        "form": info.form,
        "prefixes": prefixes or {},
    }


def response_of(reply: tuple) -> QueryResponse:
    """A worker's reply as the Store interface answers it (or raises)."""
    status = reply[0]
    if status == "ok":
        _, body, media, form, truncated = reply
        return QueryResponse(body=body, media_type=media, query_form=form, truncated=truncated)
    if status in ("syntax", "query"):
        raise QueryError(reply[1])
    raise BackendUnavailable(reply[1])


class EmbeddedStore(Store):
    """The Oxigraph store at *path*, opened read-only by *workers* query processes.

    *service_allowlist*: endpoints a ``SERVICE`` clause may call (see ``crkg.store.guard``);
    empty refuses every ``SERVICE``. *memory_mb*: a data-segment limit per worker
    (RLIMIT_DATA); a query that needs more fails with ``BackendUnavailable``.
    *prefixes*: the bindings Turtle and RDF/XML answers declare (those they use).
    :meth:`from_config` takes all of these from a ``crkg.config.Config``.

    *admission* (``crkg.store.admission.Admission``): per-client limits and the long-query
    slots; a query still running after *short_budget* seconds leaves the fast lane (its
    worker is replaced at once) and needs a long slot. *queue_wait*: seconds a query waits
    for a free worker of the fast lane before ``ServiceBusy`` (503). Without *admission*
    nothing is limited and no query becomes long (the build, scripts, tests).
    """

    def __init__(
        self,
        path,
        *,
        workers: int = Config.QUERY_WORKERS,
        service_allowlist: Sequence[str] = (),
        memory_mb: int | None = None,
        prefixes: dict[str, str] | None = None,
        max_nesting: int = Config.MAX_NESTING,
        admission: Admission | None = None,
        short_budget: float = Config.SHORT_QUERY_BUDGET,
        queue_wait: float = Config.QUEUE_WAIT,
    ):
        # not resolved: *path* names the generation write_store swaps in (a link or a
        # pointer folder, crkg.store.generation), and new workers open whatever it names then
        self.path = os.path.abspath(path)
        if not Path(self.path).is_dir():
            raise CrkgError(f"no store at {path}: run `crkg build` first (or give --store DIR)")
        self.service_allowlist = tuple(service_allowlist)
        self.max_nesting = max_nesting
        self.prefixes = dict(PREFIX_IRIS if prefixes is None else prefixes)
        self.admission = admission
        self.short_budget = float(short_budget)
        self.queue_wait = float(queue_wait)
        self._memory_mb = memory_mb
        self._size = max(1, int(workers))
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._waiting = 0  # queries waiting for a worker of the fast lane
        self._all: set[_Worker] = set()  # every live worker, fast lane and long
        self._lock = threading.Lock()
        self._closed = False
        self._graphs: list[str] | None = None
        #: (generation, read-only store) for the bounded queries answered in this process
        self._local: tuple[str, pyoxigraph.Store] | None = None
        #: workers killed (timeout, hang-up) or found dead and replaced since the store opened
        self.restarts = 0
        self._current_generation = str(store_generation.current(self.path))
        self._generation_checked = time.monotonic()
        for _ in range(self._size):
            self._add_worker()

    @classmethod
    def from_config(cls, config: Config, *, path=None, workers: int | None = None,
                    admit: bool = False) -> "EmbeddedStore":
        """The store *config* describes (``STORE_DIR``, its workers, guard and memory limit).

        *admit*: apply the serving block's admission rules (per-client limits, long-query
        slots): the web service does; ``crkg query``, ``push`` and ``link`` act for one user
        and do not."""
        return cls(
            config.STORE_DIR if path is None else path,
            workers=config.QUERY_WORKERS if workers is None else workers,
            service_allowlist=config.SERVICE_ALLOWLIST,
            memory_mb=config.WORKER_MEMORY_MB or None,
            max_nesting=config.MAX_NESTING,
            admission=Admission.from_config(config) if admit else None,
            short_budget=config.SHORT_QUERY_BUDGET,
            queue_wait=config.QUEUE_WAIT,
        )

    # -- pool --------------------------------------------------------------------------

    def _add_worker(self) -> None:
        worker = _Worker(self._generation(), self._memory_mb)
        with self._lock:
            self._all.add(worker)
        threading.Thread(target=self._watch, args=(worker,), daemon=True,
                         name=f"crkg-watch-{worker.process.pid}").start()

    def _watch(self, worker: _Worker) -> None:
        """Make *worker* idle once it is ready; replace it the moment it dies.

        Idle only after its ``READY``: a query handed to a worker still starting would
        spend the start-up (~0.1 s, far more on a loaded machine) of its short budget.
        """
        ready = False
        try:
            if worker.conn.poll(_START_LIMIT) and worker.conn.recv() == query_worker.READY:
                ready = True
                self._idle.put(worker)
            else:
                worker.process.kill()
        except (EOFError, OSError):
            pass
        worker.process.wait()
        if not ready:
            time.sleep(_RESTART_PAUSE)  # one that cannot start is not restarted in a tight loop
        self._replace(worker, kill=True)

    def _replace(self, worker: _Worker, kill: bool) -> None:
        """Stop *worker* and, if it was in the fast lane, start its successor (idempotent)."""
        with self._lock:
            if worker not in self._all:
                return  # already replaced or retired
            self._all.discard(worker)
            if kill:
                self.restarts += 1
        worker.stop(kill=kill)
        if not self._closed and not worker.long:
            self._add_worker()

    def _retire(self, worker: _Worker) -> None:
        """A long query's worker is done: let it exit (its successor already runs)."""
        with self._lock:
            if worker not in self._all:
                return
            self._all.discard(worker)
        try:
            worker.conn.send(None)  # it exits; its watcher thread reaps it
        except (OSError, ValueError):
            worker.process.kill()
        worker.conn.close()

    def _take(self, wait: float) -> _Worker:
        deadline = time.monotonic() + wait
        while True:
            try:
                with self._lock:
                    self._waiting += 1
                try:
                    worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
                finally:
                    with self._lock:
                        self._waiting -= 1
            except queue.Empty:
                retry = self.admission.retry_after if self.admission else 5
                raise ServiceBusy(
                    f"every query worker stayed busy for {wait:g} s; try again later", retry
                ) from None
            with self._lock:
                alive = worker in self._all
            if alive and worker.process.poll() is None and worker.generation == self._generation():
                return worker
            # died while idle, or the store was rebuilt (write_store): take a fresh one
            self._graphs = None
            self._replace(worker, kill=worker.process.poll() is not None)

    def _call(self, request: dict, timeout: float, admit: bool = True) -> tuple:
        if self._closed:
            raise BackendUnavailable("the store is closed")
        admission = self.admission if admit else None
        caller = current_caller()
        if admission is not None:
            admission.enter(caller.client)
        try:
            wait = min(timeout, self.queue_wait) if admission is not None else timeout
            worker = self._take(wait)
            return self._exchange(worker, request, timeout, admission, caller)
        finally:
            if admission is not None:
                admission.leave(caller.client)

    def _exchange(self, worker: _Worker, request: dict, timeout: float,
                  admission: Admission | None, caller) -> tuple:
        """Send *request* to *worker* and wait for the reply, within the rules of admission."""
        start = time.monotonic()
        deadline = start + timeout
        budget_end = start + self.short_budget if admission is not None else float("inf")
        contended_end = start + self.short_budget * CONTENDED_BUDGET_FRACTION
        slot = None  # the long slot, once the query is long
        try:
            worker.started_query()
            worker.conn.send(request)
            while True:
                now = time.monotonic()
                if now >= deadline:
                    self._replace(worker, kill=True)
                    raise QueryTimeout(
                        f"the query ran longer than the time limit of {timeout:g} s and was stopped"
                    )
                if slot is not None and slot.preempted.is_set():
                    self._replace(worker, kill=True)
                    admission.cool(caller.client)
                    raise ServiceBusy(
                        f"the query ran {now - start:.0f} s and was stopped to give its slot to a "
                        f"newer long query: all {admission.long_total} slots for long queries were "
                        "taken - try again later", admission.retry_after)
                if caller.disconnected():
                    self._replace(worker, kill=True)
                    if worker.long:
                        admission.cool(caller.client)
                    raise QueryCancelled("the client hung up; its query was stopped")
                if admission is not None and not worker.long and self._over_budget(worker, now, start,
                                                                                  budget_end, contended_end):
                    try:
                        slot = admission.escalate(caller.client)
                    except (ClientOverShare, ServiceBusy):
                        self._replace(worker, kill=True)
                        raise
                    self._make_long(worker)
                wake = deadline if worker.long else min(deadline, budget_end)
                if worker.conn.poll(max(0.0, min(POLL_SECONDS, wake - now))):
                    reply = worker.conn.recv()
                    break
        except (EOFError, OSError) as exc:
            # the worker died (crash or memory limit): start a new one
            self._replace(worker, kill=True)
            raise BackendUnavailable(
                "the query worker stopped while answering (the query may need more memory "
                "than allowed); the worker was restarted"
            ) from exc
        finally:
            if slot is not None:
                admission.settle(slot)
        if worker.long:
            self._retire(worker)
        else:
            self._idle.put(worker)
        return reply

    def _call_here(self, request: dict) -> tuple:
        """Answer a query that cannot run away (``guard.is_bounded``) in this process.

        Issue 14: the hand-off to a worker process was ~0.3 ms of a lookup's ~1 ms. A
        bounded query is one index range scan stopped at the row cap, so it needs neither
        the kill switch nor the memory limit of a worker. It still counts against the
        client's share. The store is opened read-only here on first use and reopened when
        ``write_store`` swapped in a new generation.
        """
        caller = current_caller()
        if self.admission is not None:
            self.admission.enter(caller.client, bounded=True)
        try:
            store = self._local_store()
            if store is None:
                return self._call(request, self.queue_wait, admit=False)
            return query_worker.answer(store, None, request)
        finally:
            if self.admission is not None:
                self.admission.leave(caller.client)

    def _local_store(self):
        generation = self._generation()
        local = self._local
        if local is not None and local[0] == generation:
            return local[1]
        with self._lock:
            if self._local is None or self._local[0] != generation:
                try:
                    self._local = (generation, pyoxigraph.Store.read_only(generation))
                except OSError:
                    return None  # the workers report why (as "unavailable")
            return self._local[1]

    def _over_budget(self, worker: _Worker, now: float, start: float, budget_end: float,
                     contended_end: float) -> bool:
        """Has the query on *worker* run past its short budget?

        The budget shrinks to ``CONTENDED_BUDGET_FRACTION`` of itself while other queries
        wait for the fast lane (a multilevel feedback queue: under contention the fast lane
        is for the short jobs only), so a wave of runaways moves out of the way of the
        cheap queries queued behind it.
        """
        if now >= budget_end:
            return worker.spent_budget(self.short_budget, now - start)
        if self._waiting and now >= contended_end:
            return worker.spent_budget(self.short_budget * CONTENDED_BUDGET_FRACTION, now - start)
        return False

    def _make_long(self, worker: _Worker) -> None:
        """Take *worker* out of the fast lane: a successor starts now, it yields the CPU."""
        worker.long = True
        worker.lower_priority()
        if not self._closed:
            self._add_worker()

    def _generation(self) -> str:
        """The generation folder *path* names now (checked at most once a second)."""
        now = time.monotonic()
        if now - self._generation_checked > 1.0:
            self._current_generation = str(store_generation.current(self.path))
            self._generation_checked = now
        return self._current_generation

    def pool_size(self) -> dict:
        """Live workers: in the fast lane (idle or busy) and running long queries."""
        with self._lock:
            long = sum(1 for w in self._all if w.long)
            return {"fast": len(self._all) - long, "long": long, "idle": self._idle.qsize()}

    # -- Store interface ---------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        media_type: str,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        timeout: float = Config.QUERY_TIMEOUT,
        max_rows: int | None = None,
        info: guard.QueryInfo | None = None,
    ) -> QueryResponse:
        info = self._checked(sparql, info)
        request = query_request(sparql, info, media_type, default_graph_uris, named_graph_uris,
                                max_rows, self.prefixes)
        if info.bounded and not default_graph_uris and not named_graph_uris:
            reply = self._call_here(request)
        else:
            reply = self._call(request, timeout)
        return response_of(reply)

    def named_graphs(self) -> list[str]:
        if self._graphs is None:
            reply = self._call({"op": "graphs"}, Config.QUERY_TIMEOUT)
            if reply[0] != "ok":
                raise BackendUnavailable(reply[1])
            self._graphs = list(reply[1])
        return list(self._graphs)

    def load(self, graphs: Iterable[tuple[str, bytes, str]]) -> None:
        """Replace the given named graphs (keeping the others).

        The new store is written beside the old one and swapped in atomically
        (``write_store``), so queries never see a half-loaded store; each worker is
        replaced by one opening the new store before its next query.
        """
        replaced = list(graphs)
        # read what is kept through a worker: this process never opens RocksDB for reading
        reply = self._call({"op": "export", "except": [iri for iri, _, _ in replaced]},
                           Config.EXPORT_TIMEOUT, admit=False)
        if reply[0] != "ok":
            raise BackendUnavailable(reply[1])
        kept = [(iri, data, "application/n-triples") for iri, data in reply[1]]
        write_store(self.path, kept + replaced)
        self._graphs = None
        self._generation_checked = float("-inf")  # workers move to the new store at once

    def release_file(self, name: str) -> bytes | None:
        """``<store>.release/ontology/<name>``, written by ``crkg build`` beside the store."""
        path = store_release_dir(self.path) / RELEASE_DIR_NAME / name
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def close(self) -> None:
        self._closed = True
        self._local = None
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# =============================================================== writing (build side)


def write_store(path, graphs: Iterable[tuple[str, bytes, str]]) -> Path:
    """Load (graph IRI, data, media type) items into a NEW store and swap it in atomically.

    See :class:`NewGeneration` (which this uses) for how the swap works. Returns the new
    directory.
    """
    generation = NewGeneration(path)
    try:
        for iri, data, media_type in graphs:
            generation.load(iri, data, media_type)
        return generation.commit()
    finally:
        generation.abort()


#: Suffix of a generation still being written (removed by the next writer if its process died).
_PARTIAL = store_generation.PARTIAL_SUFFIX


class NewGeneration:
    """A store generation being written beside *path*, swapped in by :meth:`commit`.

    The store is written in a fresh directory ``.<name>.<stamp>.<pid>.partial`` beside
    *path*; :meth:`commit` flushes it, renames it to ``.<name>.<stamp>.<pid>`` (complete)
    and makes *path* name it (``crkg.store.generation.point_to``: a symbolic link replaced
    with one ``rename``, or where links cannot be made - Windows - a pointer file replaced
    with ``os.replace``): a reader resolving *path* sees the old store or the new one,
    never half of one. An existing real directory at *path* (made by hand or an older
    crkg) is moved aside first. :meth:`abort` (also after a commit: then it does nothing) removes the
    unfinished directory; a directory left by a killed writer is removed by the next
    writer (its process id is in the name).

    *base*: start from a copy of the store *path* points to now (a RocksDB checkpoint:
    hard links, no rewrite), so an incremental build only removes and loads the graphs
    that changed.

    The generation just replaced is kept (a running server still reads it; its
    ``EmbeddedStore`` notices the change and moves its workers over), older ones are
    removed (``crkg.store.generation.remove_old``: on Windows one still open is left for
    the next build). :attr:`side_dir` is a folder inside the generation for the build's side
    artefacts (``crkg.pipeline.artefacts``): swapped in with the store.
    """

    def __init__(self, path, *, base: bool = False):
        import pyoxigraph as ox

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned(self.path)
        stamp = f"{time.time_ns():x}.{os.getpid()}"
        self.final = self.path.parent / f".{self.path.name}.{stamp}"
        self.target = self.final.with_name(self.final.name + _PARTIAL)
        self.side_dir = self.target / STORE_SIDE_DIR_NAME
        self._done = False
        try:
            if base and self.path.exists():
                ox.Store.read_only(str(store_generation.current(self.path))).backup(str(self.target))
                self.store = ox.Store(str(self.target))
                side = self.side_dir
                if side.exists():
                    shutil.rmtree(side)  # the build writes every artefact again
            else:
                self.store = ox.Store(str(self.target))
        except BaseException:
            self.abort()
            raise

    def graphs(self) -> set[str]:
        return {g.value for g in self.store.named_graphs() if hasattr(g, "value")}

    def remove_graph(self, iri: str) -> None:
        import pyoxigraph as ox

        node = ox.NamedNode(iri)
        if self.store.contains_named_graph(node):
            self.store.remove_graph(node)

    def load(self, iri: str, data=None, media_type: str = "application/n-triples", *, path=None) -> None:
        """Bulk-load triples (bytes *data* or the file *path*) into the named graph *iri*."""
        import pyoxigraph as ox

        known = formats.by_media_type(media_type)
        if known is None or known.kind == formats.RESULTS:
            raise CrkgError(f"graph {iri}: cannot load media type {media_type!r}")
        if known.kind == formats.DATASET:
            raise CrkgError(f"graph {iri}: give triples (a graph), not a dataset ({media_type})")
        fmt = known.oxigraph
        source = {"input": data} if path is None else {"path": str(path)}
        try:
            self.store.bulk_load(**source, format=fmt, to_graph=ox.NamedNode(iri))
        except (SyntaxError, ValueError) as exc:
            raise CrkgError(f"graph {iri}: cannot load it as {media_type}: {exc}") from exc

    def adopt_side(self, folder: Path) -> None:
        """Move a finished side folder (the build's artefacts) into this generation."""
        if self.side_dir.exists():
            shutil.rmtree(self.side_dir)
        os.rename(folder, self.side_dir)

    def remove_triples(self, iri: str, data: bytes) -> None:
        """Remove the N-Triples *data* (no blank nodes) from the named graph *iri*."""
        import pyoxigraph as ox

        graph = ox.NamedNode(iri)
        for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES):
            self.store.remove(ox.Quad(t.subject, t.predicate, t.object, graph))

    def commit(self, *, optimize: bool = True) -> Path:
        self.store.flush()
        if optimize:
            self.store.optimize()
        del self.store
        os.rename(self.target, self.final)
        self._done = True
        previous = store_generation.point_to(self.path, self.final)
        # the generation just replaced stays: a running server may still be reading it
        store_generation.remove_old(self.path, keep={self.final, previous})
        return self.final

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self.__dict__.pop("store", None)  # closes RocksDB before its folder goes
        shutil.rmtree(self.target, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_abandoned(path) -> list[Path]:
    """Remove unfinished generations (and build staging folders) of *path* whose writer
    is gone (killed mid-write). Returns what was removed."""
    path = Path(path)
    removed = []
    for folder in path.parent.glob(f".{path.name}.*{_PARTIAL}"):
        try:
            pid = int(folder.name[: -len(_PARTIAL)].rsplit(".", 1)[1])
        except (ValueError, IndexError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed

"""A pool of worker processes for the build's independent pieces of work (each study's
conversion and quick validation: ``crkg.pipeline.build``), sized by the CPUs at hand.

The processes are started with the ``spawn`` method, which behaves the same on Linux,
macOS and Windows and is safe beside threads: a worker inherits nothing from the parent
but what the pool's initializer is given, so every module-level cache it uses is filled
in the worker itself. (A script calling ``crkg.pipeline.build.build`` with several jobs
must therefore guard its top level with ``if __name__ == "__main__":``, as any
``multiprocessing`` program started with spawn must: the workers import the main module.)
Starting two workers and their first imports (rdflib, pySHACL, the converter) takes
about 0.7 s of wall time on the project's machine, which is why a single study is
converted in the build's own process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def worker_count(jobs: int, tasks: int) -> int:
    """Processes for *tasks* studies with ``--jobs`` *jobs* (0: one per available CPU);
    1 means no pool (the build's own process), as does a single task."""
    wanted = available_cpus() if jobs == 0 else jobs
    return max(1, min(wanted, tasks))


def start_pool(workers: int, initializer=None, initargs: tuple = ()) -> ProcessPoolExecutor:
    """*workers* spawned processes, each running ``initializer(*initargs)`` once (a
    module-level function: it is pickled by name)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=initializer, initargs=initargs)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """End *pool*'s workers now rather than after the tasks already handed to them (which
    ``shutdown(cancel_futures=True)`` waits for): a stopped build ends at once. Python
    3.14 has ``terminate_workers``; before it, the executor's own table of its processes."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


def peak_mib() -> float:
    """This process's peak resident memory in MiB (0 where getrusage is missing: Windows)."""
    try:
        import resource
    except ImportError:
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024

"""One study's conversion and quick validation: the part of ``crkg build`` that does
not depend on the other studies, run in the build's own process or in a worker process.

``crkg.pipeline.build`` calls :func:`convert_and_check` directly for one study (or with
``--jobs 1``), and through a pool of worker processes started with the ``spawn`` method
(:func:`start_pool`) when several studies are to be done: spawn behaves the same on
Linux, macOS and Windows and copies nothing from the parent but what it is given. A
worker therefore keeps no state but what :func:`_init_worker` hands it (the ontology's
N-Triples and the digests with which studies last conformed); the shapes, the mapping
names and the compiled SPARQL checks are read and cached by each worker itself.

A worker writes the converted study into the build cache (``_ConvertedCache.put``: its
own temporary names, then an atomic rename) and returns a small :class:`StudyOutcome`;
the build stages the studies in folder order from the cache, so its output does not
depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from crkg.errors import CrkgError


@dataclass(frozen=True)
class StudyTask:
    """A study folder to convert (``cached`` None) or, already converted, to validate."""

    folder: Path
    #: the digest of the folder's sources (its name in the build cache)
    source_key: str
    cache: Path
    #: from the build cache: {"key", "digest", "path"} of the converted study
    cached: dict | None = None


@dataclass
class StudyOutcome:
    """What the build needs back (small: it crosses a process boundary)."""

    #: the CrkgError message of a study that does not convert (the rest is then unset)
    error: str | None = None
    key: str | None = None
    digest: str | None = None
    #: the SPARQL pass found nothing (True), found something or could not run (False:
    #: the build asks pySHACL for the report); None: not validated, it conformed as it is
    conforms: bool | None = None
    #: wall seconds of this study's conversion and of its validation, in the process that did it
    seconds: dict[str, float] = field(default_factory=dict)
    #: peak resident memory (MiB) of the process that did it, so far
    peak_mib: float = 0.0


def convert_and_check(task: StudyTask, ontology_nt: bytes, already_valid: dict[str, str]) -> StudyOutcome:
    """Convert *task*'s study (unless cached) into the build cache, and run the SPARQL
    pass of the shapes over it unless *already_valid* says it conformed as it is."""
    from crkg.pipeline.build import _ConvertedCache, _conforms_quickly, _digest_lines, _is_scoped, \
        _line_terms, canonical_lines, split_shared
    from crkg.pipeline.studies import load_study

    started = time.perf_counter()
    lines = None
    if task.cached is None:
        try:
            study = load_study(task.folder)
        except CrkgError as exc:
            return StudyOutcome(error=str(exc), seconds={"convert": time.perf_counter() - started},
                                peak_mib=_peak_mib())
        key = study.key
        lines = canonical_lines(study.graph, str(study.graph_iri))
        warnings = list(getattr(study, "warnings", []))
        del study  # at most one study's rdflib graph alive per process
        digest = _digest_lines(lines)
        shared_lines, mentioned = split_shared(lines, key)
        mentioned |= {t for line in lines for t in _line_terms(line) if t and _is_scoped(t, key)}
        _ConvertedCache(task.cache).put(task.source_key, key, lines, shared_lines, mentioned, warnings)
    else:
        key, digest = task.cached["key"], task.cached["digest"]
    converted = time.perf_counter()
    conforms = None
    if already_valid.get(key) != digest:
        if lines is None:
            with open(task.cached["path"], "rb") as f:
                lines = f.readlines()
        conforms = _conforms_quickly(lines, ontology_nt)
    return StudyOutcome(key=key, digest=digest, conforms=conforms, peak_mib=_peak_mib(),
                        seconds={"convert": converted - started, "SHACL validation": time.perf_counter() - converted})


def _peak_mib() -> float:
    """This process's peak resident memory in MiB (0 where getrusage is missing: Windows)."""
    try:
        import resource
    except ImportError:
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# --------------------------------------------------------------------------- the pool

_state: tuple[bytes, dict[str, str]] | None = None


def _init_worker(ontology_nt: bytes, already_valid: dict[str, str]) -> None:
    global _state
    _state = (ontology_nt, already_valid)


def run_task(task: StudyTask) -> StudyOutcome:
    """What a pool from :func:`start_pool` runs: :func:`convert_and_check` with the pool's state."""
    assert _state is not None, "the pool's initializer did not run"
    return convert_and_check(task, *_state)


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


def start_pool(workers: int, ontology_nt: bytes, already_valid: dict[str, str]) -> ProcessPoolExecutor:
    """*workers* spawned processes, each given the ontology and *already_valid* once;
    ``pool.submit(run_task, task)`` converts and checks a study there."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(ontology_nt, already_valid))


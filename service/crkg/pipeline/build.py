"""``crkg build``: sources → validated, reasoned dataset → embedded store and ``dist/``.

ARCHITECTURE.md, "Data flow": one direction, no back and forth. The steps are

1. the ontology (version stamped from pyproject.toml) and the SHACL shapes;
2. HermiT on the ontology (TBox and codebook): consistent, every class satisfiable.
   Skipped, with one line saying so and how to run it, when there is no Java runtime
   (issue 15: serving needs no Java); ``strict`` makes that an error;
3. the linksets of ``links/`` into ``graph/links``;
4. every study folder on its own (issue 14: memory bounded by the largest studies, not
   the corpus): converted into its own named graph, validated with SHACL when it changed
   (errors name the source file and item key), written as sorted, canonical N-Triples
   into a staging folder beside the store. Several studies are converted and checked in
   parallel worker processes, one study each at a time (``--jobs``,
   ``crkg.pipeline.worker_pool``), and staged in folder order;
5. the OWL 2 RL closure, study by study (``crkg.pipeline.rules``), of each study with
   the ontology and the shared resources it reaches (places, works ... that other studies
   and the linksets also describe), minus what is asserted, into ``graph/inferred``; a
   study whose inputs did not change reuses its closure from the build cache. The rules
   report contradictions (disjoint classes, functional properties) as errors;
6. ``dist/``: N-Quads of the whole dataset, Turtle and JSON-LD per graph, the ontology
   release files and the shapes, with SHA-256 sums (``crkg.pipeline.dist``);
7. the side artefacts (``crkg.pipeline.artefacts``: VoID counts, ``build.json``, the
   ontology release files, the full-text search index ``crkg.search.index``);
8. the persistent Oxigraph store, with the side artefacts inside it, swapped in
   atomically; an existing store is copied (a RocksDB checkpoint) and only the
   graphs that changed are replaced.

The build is deterministic (same sources, same bytes: blank nodes are given
canonical labels and every serialisation is sorted) and skips itself when a manifest
of the sources' digests and the build options says nothing changed and ``dist/`` matches
its sums. A failed write (disk full, read-only folder) is a :class:`CrkgError` (exit 2)
that leaves the old store and ``dist/`` as they were. Nothing here knows about HTTP.

The manifest (``<store>.manifest.json``, :func:`read_manifest`) records, besides the
digests: ``options`` (``{"reason": bool}``) and ``hermit`` (``{"ran": bool, "why_not":
str | None}``); the same two are in the store's side artefact ``build.json``
(``crkg.pipeline.artefacts.build_info``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from crkg.errors import CrkgError, NonConformant
from crkg.files import write_atomically
from crkg.namespaces import ID, INFERRED_GRAPH, LINKS_GRAPH, ONTOLOGY_GRAPH
from crkg.paths import (
    DATA_DIR,
    DEFAULT_DIST_DIR,
    DEFAULT_STORE_DIR,
    ONTOLOGY_DIR,
    REPO_ROOT,
    SHAPES_DIR,
)
from crkg.pipeline.dist import dist_is_intact, graph_file_stem, sums_digest
from crkg.version import __version__

__all__ = ["build", "ensure_built", "graph_file_stem", "is_up_to_date", "manifest_path", "read_manifest"]

#: Bump when the build's output for the same sources changes, so stale stores rebuild.
#: 2: study language, selectors, structured locators, mapping.csv; 3: the streamed build
#: (per-graph canonical blank-node labels, compiled OWL 2 RL rules)
PIPELINE_REVISION = "3"

Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class BuildResult:
    store_dir: Path
    dist_dir: Path | None
    skipped: bool = False
    #: graph IRI -> triple count
    graphs: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    #: {"ran": bool, "why_not": str | None}
    hermit: dict = field(default_factory=dict)
    #: processes that converted and validated the studies (1: the build's own, no pool)
    workers: int = 1
    #: the largest peak resident memory (MiB) of one of those worker processes (0: no pool)
    worker_peak_mib: float = 0.0
    #: the peak resident memory (MiB) of the process that wrote the search index (0: this one)
    index_peak_mib: float = 0.0


# --------------------------------------------------------------------------- sources


def resolve_data_dir(data_dir: Path) -> tuple[Path, Path | None]:
    """(folder of study folders, folder of linksets or None) for a ``--data`` argument.

    *data_dir* is either laid out like the repository's ``data/`` (``studies/`` and
    optionally ``links/``) or is itself a folder of study folders.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise CrkgError(f"{data_dir}: no such data folder")
    if (data_dir / "studies").is_dir():
        links = data_dir / "links"
        return data_dir / "studies", links if links.is_dir() else None
    return data_dir, None


def link_files(links_dir: Path | None) -> list[Path]:
    """The accepted linksets: Turtle files directly in ``links/`` (not proposals)."""
    if links_dir is None:
        return []
    return sorted(links_dir.glob("*.ttl"))


def source_files(data_dir: Path = DATA_DIR) -> list[Path]:
    """Every file whose content decides the build's output, in a stable order."""
    from crkg.pipeline.studies import discover_studies

    studies_dir, links_dir = resolve_data_dir(data_dir)
    files: list[Path] = [REPO_ROOT / "pyproject.toml"]
    files += sorted(p for p in ONTOLOGY_DIR.rglob("*") if p.is_file())
    files += sorted(SHAPES_DIR.glob("*.ttl"))
    context = studies_dir.parent / "context.jsonld"
    if context.is_file():
        files.append(context)
    for folder in discover_studies(studies_dir):
        files += sorted(p for p in folder.rglob("*") if p.is_file())
    files += link_files(links_dir)
    return files


def sources_digest(data_dir: Path = DATA_DIR) -> str:
    digest = hashlib.sha256(f"crkg {__version__} pipeline {PIPELINE_REVISION}\n".encode())
    for path in source_files(data_dir):
        # Names relative to the checkout, so a fresh clone elsewhere is not "stale".
        resolved = path.resolve()
        name = resolved.relative_to(REPO_ROOT) if resolved.is_relative_to(REPO_ROOT) else resolved
        digest.update(str(name).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def manifest_path(store_dir: Path) -> Path:
    """The build manifest sits beside the store (never inside RocksDB's own folder)."""
    store_dir = Path(store_dir)
    return store_dir.with_name(store_dir.name + ".manifest.json")


def cache_dir(store_dir: Path) -> Path:
    """The build cache beside the store: per-study closures keyed by their inputs."""
    store_dir = Path(store_dir)
    return store_dir.with_name(store_dir.name + ".cache")


def read_manifest(store_dir: Path) -> dict | None:
    manifest = manifest_path(store_dir)
    if not Path(store_dir).is_dir() or not manifest.is_file():
        return None
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def build_options(*, reason: bool = True) -> dict:
    """The options that change what a build writes (recorded in the manifest)."""
    return {"reason": bool(reason)}


def is_up_to_date(
    store_dir: Path,
    data_dir: Path = DATA_DIR,
    digest: str | None = None,
    *,
    reason: bool = True,
    strict: bool = False,
) -> bool:
    """The store was built from these sources with these options (and, when *strict*,
    with the HermiT check run)."""
    recorded = read_manifest(store_dir)
    if recorded is None:
        return False
    if recorded.get("options") != build_options(reason=reason):
        return False
    if strict and reason and not (recorded.get("hermit") or {}).get("ran"):
        return False
    return recorded.get("sources_digest") == (digest or sources_digest(data_dir))


# --------------------------------------------------------------------------- steps


class _Steps:
    """Numbered progress lines with the time each step took."""

    def __init__(self, total: int, progress: Progress):
        self.total, self.progress, self.n = total, progress, 0
        self.timings: dict[str, float] = {}

    def run(self, name: str, func, *args, **kwargs):
        self.n += 1
        self.progress(f"[{self.n}/{self.total}] {name} ...")
        start = time.perf_counter()
        result = func(*args, **kwargs)
        elapsed = time.perf_counter() - start
        if isinstance(result, _Parts):
            # a step made of interleaved parts (convert, validate ... per study): the
            # timings name the parts, which add up to the step
            self.timings.update(result.seconds)
            result = result.value
        else:
            self.timings[name] = elapsed
        self.progress(f"[{self.n}/{self.total}] {name}: done in {elapsed:.2f} s")
        return result


@dataclass
class _Parts:
    """A step's result with the seconds of its parts (see :meth:`_Steps.run`)."""

    value: object
    seconds: dict[str, float]


def rules_digest() -> str:
    """What decides whether a study conforms, besides the study: ontology, shapes, validator."""
    from crkg.pipeline import shacl_sparql, shacl_validation

    digest = hashlib.sha256(f"crkg {__version__} pipeline {PIPELINE_REVISION}\n".encode())
    files = sorted(p for p in ONTOLOGY_DIR.rglob("*") if p.is_file()) + sorted(SHAPES_DIR.glob("*.ttl"))
    for path in files + [Path(shacl_validation.__file__), Path(shacl_sparql.__file__)]:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _reasoner_digest(ontology_lines: list[bytes]) -> str:
    """What decides a study's closure besides its own triples and context."""
    from crkg.pipeline import reason, rules

    digest = hashlib.sha256(f"crkg {__version__} pipeline {PIPELINE_REVISION}\n".encode())
    for module in (reason, rules):
        digest.update(hashlib.sha256(Path(module.__file__).read_bytes()).digest())
    digest.update(b"".join(ontology_lines))
    return digest.hexdigest()


def canonical_lines(graph, graph_iri: str) -> list[bytes]:
    """*graph* (rdflib) as sorted N-Triples lines with canonical blank-node labels.

    Labels come from RDF canonicalisation of the graph alone, prefixed with a digest of
    the graph's IRI so that two graphs' blank nodes never share a label in the dataset.
    """
    import pyoxigraph as ox

    data = graph.serialize(format="nt", encoding="utf-8")
    triples = list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
    if any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in triples):
        dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        tag = hashlib.sha256(graph_iri.encode()).hexdigest()[:8]

        def relabel(term):
            return ox.BlankNode(f"g{tag}{term.value}") if isinstance(term, ox.BlankNode) else term

        triples = [ox.Triple(relabel(q.subject), q.predicate, relabel(q.object)) for q in dataset]
    return _sorted_nt(triples)


def _sorted_nt(triples) -> list[bytes]:
    import pyoxigraph as ox

    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    return sorted(set(line + b"\n" for line in data.splitlines() if line))


def _digest_lines(lines: list[bytes]) -> str:
    return hashlib.sha256(b"".join(lines)).hexdigest()


def _load_links(files: list[Path]):
    from rdflib import Graph

    graph = Graph()
    for path in files:
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises several unrelated types for bad syntax
            raise CrkgError(f"{path}: cannot parse linkset: {exc}") from exc
    return graph


def _to_rdflib(lines: list[bytes]):
    from rdflib import Graph

    graph = Graph()
    if lines:
        graph.parse(data=b"".join(lines).decode("utf-8"), format="nt")
    return graph


# --------------------------------------------------------------------------- staging


@dataclass
class _Staged:
    """One graph written to the staging folder as sorted N-Triples."""

    iri: str
    path: Path
    digest: str
    triples: int


class _Staging:
    """The build's scratch folder beside the store (``.<store>.build-<stamp>.<pid>.partial``).

    Removed when the build ends; a folder left by a killed build is removed by the next
    one (``crkg.store.embedded.remove_abandoned``). HermiT's temporary files go here too.
    """

    def __init__(self, store_dir: Path):
        from crkg.store.embedded import remove_abandoned

        store_dir.parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned(store_dir)
        self.dir = store_dir.parent / f".{store_dir.name}.build-{time.time_ns():x}.{os.getpid()}.partial"
        self.dir.mkdir()
        self.graphs: dict[str, _Staged] = {}

    def write(self, iri: str, lines: list[bytes]) -> _Staged:
        path = self.dir / f"{graph_file_stem(iri)}.nt"
        with open(path, "wb") as out:
            out.writelines(lines)
        staged = _Staged(iri, path, _digest_lines(lines), len(lines))
        self.graphs[iri] = staged
        return staged

    def adopt(self, iri: str, source: Path, digest: str, triples: int) -> _Staged:
        """Stage an existing file of sorted lines (the build cache's) without copying it."""
        path = self.dir / f"{graph_file_stem(iri)}.nt"
        _link_or_copy(source, path)
        staged = _Staged(iri, path, digest, triples)
        self.graphs[iri] = staged
        return staged

    def read(self, iri: str) -> list[bytes]:
        with open(self.graphs[iri].path, "rb") as f:
            return f.readlines()

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _is_scoped(iri: str, key: str) -> bool:
    if not iri.startswith(str(ID)):
        return False
    rest = iri[len(str(ID)):]
    parts = rest.split("/")
    return (len(parts) >= 3 and parts[1] == key) or rest in (f"study/{key}", f"study/{key}/")


class _SharedContext:
    """Triples about resources several studies may describe (places, works, events):
    every study's, and the linksets'. A study is reasoned over with those it reaches."""

    def __init__(self):
        self.by_subject: dict[str, set[bytes]] = {}

    def add(self, lines: list[bytes], key: str | None) -> set[str]:
        """Record the shared triples among *lines* (of study *key*, or a linkset when None);
        returns the IRIs the lines mention that are not scoped to the study."""
        shared, mentioned = split_shared(lines, key)
        self.add_shared(shared)
        return mentioned

    def add_shared(self, lines) -> None:
        for line in lines:
            subject, _obj = _line_terms(line)
            self.by_subject.setdefault(subject, set()).add(line)

    def reachable(self, start: set[str], own: set[bytes]) -> list[bytes]:
        """The shared triples reachable from *start* by subject → object, minus *own*."""
        seen, stack, out = set(), list(start), set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            for line in self.by_subject.get(node, ()):
                if line not in own:
                    out.add(line)
                _s, obj = _line_terms(line)
                if obj:
                    stack.append(obj)
        return sorted(out)

    def is_asserted(self, line: bytes) -> bool:
        subject, _o = _line_terms(line)
        return bool(subject) and line in self.by_subject.get(subject, ())


def split_shared(lines: list[bytes], key: str | None) -> tuple[list[bytes], set[str]]:
    """(the lines about resources not scoped to study *key*, every IRI the lines mention
    that is not scoped to it). For a linkset (*key* None) every line is shared."""
    shared, mentioned = [], set()
    for line in lines:
        subject, obj = _line_terms(line)
        for term in (subject, obj):
            if term and (key is None or not _is_scoped(term, key)):
                mentioned.add(term)
        if subject and (key is None or not _is_scoped(subject, key)):
            shared.append(line)
    return shared, mentioned


def _line_terms(line: bytes) -> tuple[str | None, str | None]:
    """(subject IRI, object IRI) of an N-Triples line (None for blank nodes, literals)."""
    subject = obj = None
    if line.startswith(b"<"):
        end = line.index(b">")
        subject = line[1:end].decode("utf-8")
        rest = line[end + 2:]
        p_end = rest.index(b">")
        tail = rest[p_end + 2:]
        if tail.startswith(b"<"):
            obj = tail[1:tail.index(b">")].decode("utf-8")
    return subject, obj


# --------------------------------------------------------------------------- steps of a build


def _check_ontology(ontology, *, reason: bool, strict: bool, workdir: Path, cache: Path,
                    ontology_lines: list[bytes], progress: Progress) -> dict:
    """HermiT on the ontology alone (TBox + codebook); skipped without Java unless *strict*.

    Its verdict depends on the ontology alone, so a consistent ontology is remembered in
    the build cache (by the digest of its triples and of the reasoning code) and the JVM
    is not started again for it."""
    import owlready2

    from crkg.pipeline import reason as reasoning
    from crkg.pipeline.reason import HERMIT_HOW_TO, check_consistency, hermit_unavailable

    if not reason:
        return {"ran": False, "why_not": "built with --no-reason"}
    verdict = cache / "hermit" / (hashlib.sha256(
        _digest_lines(ontology_lines).encode() + owlready2.VERSION.encode()
        + Path(reasoning.__file__).read_bytes()).hexdigest() + ".consistent")
    if verdict.is_file():
        progress("  HermiT: the ontology is unchanged since HermiT found it consistent")
        return {"ran": True, "why_not": None}
    why_not = hermit_unavailable()
    if why_not is not None:
        if strict:
            raise CrkgError(f"--strict: the HermiT check of the ontology cannot run ({why_not}); {HERMIT_HOW_TO}")
        progress(f"  HermiT check of the ontology skipped ({why_not}); to run it, {HERMIT_HOW_TO}")
        return {"ran": False, "why_not": why_not}
    check_consistency(ontology, workdir=workdir)
    verdict.parent.mkdir(parents=True, exist_ok=True)
    for old in verdict.parent.glob("*.consistent"):
        old.unlink(missing_ok=True)
    verdict.write_text("HermiT found this ontology consistent, every class satisfiable\n", encoding="utf-8")
    return {"ran": True, "why_not": None}


#: Modules of this package that do not take part in converting a study (the build's own
#: steps after it): a change to them keeps the converted studies in the cache. Any other
#: module (a new one too) counts as the converter's.
_NOT_CONVERTER = frozenset({
    "build.py", "dist.py", "artefacts.py", "reason.py", "rules.py", "shacl_sparql.py",
    "shacl_validation.py", "shacl_report.py", "rdf_files.py", "validate.py", "worker_pool.py",
})


def _converter_digest() -> str:
    """What decides a study's converted graph besides its folder: the converter's code,
    the ontology (mapping.csv is resolved against it), the namespaces and the version."""
    import crkg.namespaces
    import crkg.pipeline

    digest = hashlib.sha256(f"crkg {__version__} pipeline {PIPELINE_REVISION}\n".encode())
    modules = [p for p in sorted(Path(crkg.pipeline.__file__).parent.glob("*.py")) if p.name not in _NOT_CONVERTER]
    ontology = sorted(p for p in ONTOLOGY_DIR.rglob("*") if p.is_file())
    for path in modules + [Path(crkg.namespaces.__file__)] + ontology:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _folder_digest(folder: Path, converter: str) -> str:
    """The digest of everything a study's conversion reads: its files, the shared context."""
    from crkg.pipeline.studies import context_file_for

    digest = hashlib.sha256(converter.encode())
    context = context_file_for(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in ([context] if context.is_file() else []) + files:
        name = path.name if path == context else path.relative_to(folder).as_posix()
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class _ConvertedCache:
    """Converted studies keyed by the digest of their sources, so an unchanged study
    folder is not converted, read or parsed again (issue 14: adding one study costs one):
    ``<k>.nt`` its canonical lines, ``<k>.shared.nt`` those about shared resources, and
    ``<k>.json`` its key, digest, size and the IRIs it mentions."""

    def __init__(self, cache: Path):
        self.dir = cache / "converted"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.used: set[str] = set()

    def get(self, key: str) -> dict | None:
        self.used.add(key)
        try:
            meta = json.loads((self.dir / f"{key}.json").read_text(encoding="utf-8"))
            if not all((self.dir / f"{key}{ext}").is_file() for ext in (".nt", ".shared.nt")):
                return None
            return dict(meta, path=self.dir / f"{key}.nt", shared_path=self.dir / f"{key}.shared.nt")
        except (OSError, ValueError):
            return None

    def put(self, key: str, study_key: str, lines: list[bytes], shared: list[bytes], mentioned: set[str],
            warnings: list[str]) -> None:
        self.used.add(key)
        write_atomically(self.dir / f"{key}.nt", b"".join(lines))
        write_atomically(self.dir / f"{key}.shared.nt", b"".join(shared))
        meta = {"key": study_key, "digest": _digest_lines(lines), "triples": len(lines),
                "mentioned": sorted(mentioned), "warnings": list(warnings)}
        write_atomically(self.dir / f"{key}.json", json.dumps(meta).encode())

    def prune(self) -> None:
        for old in self.dir.iterdir():
            # and what a stopped worker left half written (``crkg.files.write_atomically``'s temporary files)
            if old.name.split(".", 1)[0] not in self.used or old.name.endswith(".tmp"):
                old.unlink(missing_ok=True)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or no hard links there
        shutil.copyfile(source, target)


def _conforms_quickly(lines: list[bytes], ontology_nt: bytes) -> bool:
    """The SPARQL pass of the shapes (``crkg.pipeline.shacl_sparql``) finds nothing."""
    from crkg.pipeline.shacl_sparql import quick_results
    from crkg.pipeline.validate import load_shapes

    found = quick_results(b"".join(lines), ontology_nt, load_shapes())
    return found is not None and not found


@dataclass(frozen=True)
class _StudyTask:
    """A study folder to convert (``cached`` None) or, already converted, to validate."""

    folder: Path
    #: the digest of the folder's sources (its name in the build cache)
    source_key: str
    cache: Path
    #: from the build cache: {"key", "digest", "path"} of the converted study
    cached: dict | None = None


@dataclass
class _StudyOutcome:
    """What :func:`_convert_and_check` gives back (small: it may cross a process boundary)."""

    #: the CrkgError message of a study that does not convert (the rest is then unset)
    error: str | None = None
    key: str | None = None
    digest: str | None = None
    #: the SPARQL pass found nothing (True), found something or could not run (False:
    #: the build asks pySHACL for the report); None: not validated, it conformed as it is
    conforms: bool | None = None
    #: wall seconds of this study's conversion and of its validation, in the process that did it
    seconds: dict[str, float] = field(default_factory=dict)
    #: peak resident memory (MiB) of the worker process that did it, so far (0: this process)
    peak_mib: float = 0.0


def _convert_and_check(task: _StudyTask, ontology_nt: bytes, already_valid: dict[str, str]) -> _StudyOutcome:
    """The part of a study's turn that depends on no other study, in this process or in a
    worker's: convert it (unless cached) into the build cache (``_ConvertedCache.put``:
    its own temporary names, then an atomic rename), then run the SPARQL pass of the
    shapes over it unless *already_valid* says it conformed as it is."""
    from crkg.pipeline.studies import load_study

    started = time.perf_counter()
    lines = None
    if task.cached is None:
        try:
            study = load_study(task.folder)
        except CrkgError as exc:
            return _StudyOutcome(error=str(exc), seconds={"convert": time.perf_counter() - started})
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
    return _StudyOutcome(key=key, digest=digest, conforms=conforms,
                         seconds={"convert": converted - started, "SHACL validation": time.perf_counter() - converted})


#: a worker process's (ontology N-Triples, {key: digest it last conformed with}), given
#: once by the pool's initializer: spawned workers inherit nothing else from the build
_worker_state: tuple[bytes, dict[str, str]] | None = None


def _init_worker(ontology_nt: bytes, already_valid: dict[str, str]) -> None:
    global _worker_state
    _worker_state = (ontology_nt, already_valid)


def _in_worker(task: _StudyTask) -> _StudyOutcome:
    """What the pool runs (pickled by name): :func:`_convert_and_check` with the worker's state."""
    from crkg.pipeline.worker_pool import peak_mib

    assert _worker_state is not None, "the pool's initializer did not run"
    outcome = _convert_and_check(task, *_worker_state)
    outcome.peak_mib = peak_mib()
    return outcome


def _convert_and_validate(folders, ontology, staging: _Staging, shared: _SharedContext,
                          already_valid: dict[str, str], cache: Path, progress: Progress, jobs: int = 1):
    """Each study on its own: convert (unless its sources are unchanged since a build
    that converted them), validate when changed, stage.

    Conversion and the SPARQL pass of the shapes (:func:`_convert_and_check`) depend
    on nothing but the study, so when two or more studies need them and *jobs* allows
    (0: one process per available CPU), they run in that many spawned worker processes,
    each holding one study's rdflib graph at a time; otherwise in this process, one study
    at a time, with no pool to start. Either way the outcomes are taken in folder order:
    the warnings and progress lines, the duplicate-key check, pySHACL (the report with
    messages and source lines, only when the SPARQL pass finds something or cannot run)
    and the staging happen here as the folders come, so the output is the same whatever
    *jobs* is. Studies that do not convert are all reported at once (issue 9).

    Timings (``_Parts``): "convert", "SHACL validation", "stage studies" are disjoint
    stretches of this step's wall time. The time spent waiting for the workers (pool
    start and stop included) is split between convert and SHACL validation in proportion
    to the wall seconds the workers spent on each.

    Returns ({key: digest}, {key: mentioned shared IRIs}, {key: graph IRI}, (worker
    processes, their peak resident MiB)); one worker process means this one."""
    from concurrent.futures.process import BrokenProcessPool

    from crkg.namespaces import study_graph
    from crkg.pipeline.studies import load_study
    from crkg.pipeline.worker_pool import start_pool, stop_pool, worker_count
    from crkg.pipeline.validate import validate

    seconds = {"convert": 0.0, "SHACL validation": 0.0, "stage studies": 0.0}
    started = time.perf_counter()
    converted_cache = _ConvertedCache(cache)
    converter = _converter_digest()
    ontology_nt = b"".join(staging.read(str(ONTOLOGY_GRAPH)))
    tasks, hits = [], []
    for folder in folders:
        source_key = _folder_digest(folder, converter)
        hit = converted_cache.get(source_key)
        hits.append(hit)
        cached = None if hit is None else {"key": hit["key"], "digest": hit["digest"], "path": hit["path"]}
        tasks.append(_StudyTask(folder, source_key, cache, cached))
    todo = [i for i, t in enumerate(tasks)
            if t.cached is None or already_valid.get(t.cached["key"]) != t.cached["digest"]]
    workers = worker_count(jobs, len(todo))
    reused = sum(hit is not None for hit in hits)
    seconds["convert"] += time.perf_counter() - started

    failures, digests, mentioned, iris, folder_of = [], {}, {}, {}, {}
    broken: list[str] = []  # studies that do not convert: all reported at once (issue 9)
    waited, in_workers, peak_mib = 0.0, {"convert": 0.0, "SHACL validation": 0.0}, 0.0
    pool, futures, finished = None, {}, False
    try:
        if workers > 1:
            begun = time.perf_counter()
            pool = start_pool(workers, _init_worker, (ontology_nt, already_valid))
            futures = {i: pool.submit(_in_worker, tasks[i]) for i in todo}
            waited += time.perf_counter() - begun
        todo_here = set(todo) - set(futures)
        for i, (folder, task, hit) in enumerate(zip(folders, tasks, hits)):
            begun = time.perf_counter()
            if i in futures:
                try:
                    outcome = futures.pop(i).result()
                except BrokenProcessPool:
                    raise CrkgError(f"{folder}: the worker process converting it ended abruptly (out of "
                                    "memory?); `crkg build --jobs 1` converts in the build's own process") from None
                for part, value in outcome.seconds.items():
                    in_workers[part] += value
                waited += time.perf_counter() - begun
                peak_mib = max(peak_mib, outcome.peak_mib)
            elif i in todo_here:
                outcome = _convert_and_check(task, ontology_nt, already_valid)
                for part, value in outcome.seconds.items():
                    seconds[part] += value
                seconds["convert"] += time.perf_counter() - begun - sum(outcome.seconds.values())
            else:
                outcome = _StudyOutcome(key=hit["key"], digest=hit["digest"])
            begun = time.perf_counter()
            if outcome.error is not None:
                broken.append(outcome.error)
                seconds["convert"] += time.perf_counter() - begun
                continue
            key, digest = outcome.key, outcome.digest
            if hit is None:  # converted just now, into the cache
                hit = converted_cache.get(task.source_key)
                if hit is None:
                    raise CrkgError(f"{folder}: its converted graph vanished from the build cache {cache}")
            for warning in hit.get("warnings", []):  # checks skipped and why: said, never silent
                progress(f"  {key}: warning: {warning}")
            if key in folder_of:
                raise CrkgError(f"two study folders use the same key: {key} ({folder_of[key]} and {folder})")
            folder_of[key] = folder
            iri = str(study_graph(key))
            digests[key] = digest
            converted = time.perf_counter()
            seconds["convert"] += converted - begun
            if outcome.conforms is None:
                progress(f"  {key}: unchanged since it last conformed; not validated again")
            elif not outcome.conforms:
                study = load_study(folder)
                result = validate(study.graph, ontology=ontology)
                if not result.conforms:
                    failures.append(
                        f"study {key!r} does not conform to the shapes:\n"
                        + result.format(source_map=study.source_map)
                    )
                del study
            validated = time.perf_counter()
            seconds["SHACL validation"] += validated - converted
            staging.adopt(iri, hit["path"], digest, hit["triples"])
            with open(hit["shared_path"], "rb") as f:
                shared.add_shared(f.readlines())
            mentioned[key] = set(hit["mentioned"])
            iris[key] = iri
            seconds["stage studies"] += time.perf_counter() - validated
        finished = True
    finally:
        if pool is not None:
            begun = time.perf_counter()
            if not finished:  # an error, Ctrl-C or SIGTERM: stop the workers now (see stop_pool)
                stop_pool(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            waited += time.perf_counter() - begun
    worked = sum(in_workers.values())
    for part, value in in_workers.items():
        seconds[part] += waited * (value / worked if worked else part == "convert")
    if broken:
        raise CrkgError("\n\n".join(broken + failures))
    converted_cache.prune()
    if reused:
        progress(f"  {reused} of {len(folders)} studies unchanged since they were last converted")
    if failures:
        raise NonConformant("\n\n".join(failures))
    return _Parts((digests, mentioned, iris, (workers, peak_mib)), seconds)


def _reason_studies(ontology, staging: _Staging, shared: _SharedContext, study_iris: dict[str, str],
                    mentioned: dict[str, set[str]], cache: Path, progress: Progress) -> list[bytes]:
    """The OWL 2 RL inferences, study by study; unchanged inputs reuse the cached closure.

    A study's inputs are the ontology, its own triples and the shared triples it reaches
    (:class:`_SharedContext`). Rules join facts only along shared resources, so the
    union of these closures is the closure of the whole corpus. The base unit (ontology
    and linksets alone) gives the inferences about the codebook and the linked resources.
    """
    from crkg.pipeline.reason import closure_lines, materialise
    from crkg.pipeline.rules import as_nt, has_own_schema, nt_terms, read_schema

    ontology_lines = staging.read(str(ONTOLOGY_GRAPH))
    engine = _reasoner_digest(ontology_lines)
    ontology_triples = [nt_terms(line) for line in ontology_lines]
    schema = read_schema(ontology)
    schema_nt = None if schema.unsupported else as_nt(schema)
    cache = cache / "inferred"
    cache.mkdir(parents=True, exist_ok=True)
    inferred: set[bytes] = set()
    hits = 0
    units = [(None, staging.read(str(LINKS_GRAPH)), set())]
    for key in sorted(study_iris):
        units.append((key, None, mentioned[key]))
    used_keys = set()
    unit_keys: dict[str, str] = {}  # study key -> the digest of its unit's inputs
    for key, own, start in units:
        if own is None:
            own = staging.read(study_iris[key])
        own_set = set(own)
        context = shared.reachable(start, own_set) if key is not None else []
        unit_key = _unit_key(engine, own, context)
        if key is not None:
            unit_keys[key] = unit_key
        used_keys.add(unit_key)
        cached = cache / f"{unit_key}.nt"
        if cached.is_file():
            hits += 1
            with open(cached, "rb") as f:
                lines = f.readlines()
        else:
            unit = [nt_terms(line) for line in own + context]
            try:
                if schema_nt is not None and not has_own_schema(unit):
                    lines = closure_lines(schema_nt, ontology_triples + unit)
                else:  # a study's own framework (or a construct the rules lack): the general path
                    lines = _sorted_nt(_rdflib_to_ox(materialise(ontology, _to_rdflib(own + context))))
            except NonConformant as exc:
                where = f"study {key!r}" if key else "the ontology and linksets"
                raise NonConformant(f"{where}: {exc}") from None
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as out:
                out.writelines(lines)
            os.replace(tmp, cached)
        inferred.update(line for line in lines if not shared.is_asserted(line))
    for old in cache.glob("*.nt"):  # closures no study uses any more
        if old.stem not in used_keys:
            old.unlink(missing_ok=True)
    progress(f"  {len(units)} reasoning units, {hits} reused from the cache")
    return sorted(inferred), unit_keys


def _unit_key(engine: str, own: list[bytes], context: list[bytes]) -> str:
    """The digest of a reasoning unit's inputs: rules and ontology, its triples, the shared
    triples it reaches. Its closure, and the evidence views' facts, follow from them."""
    return hashlib.sha256(engine.encode() + _digest_lines(own).encode() + _digest_lines(context).encode()).hexdigest()


def _view_inputs(staging: _Staging, shared: _SharedContext, study_iris: dict[str, str],
                 mentioned: dict[str, set[str]], unit_keys: dict[str, str] | None) -> dict[str, str]:
    """Study key -> the digest of what its evidence-view facts are made from
    (``crkg.web.view_tables``): its reasoning unit's inputs, the linksets, whether the
    inferences are in. Without reasoning the unit keys are made here the same way."""
    links = staging.graphs[str(LINKS_GRAPH)].digest
    if unit_keys is None:
        engine = "no-reason " + _digest_lines(staging.read(str(ONTOLOGY_GRAPH)))
        unit_keys = {}
        for key, iri in study_iris.items():
            own = staging.read(iri)
            unit_keys[key] = _unit_key(engine, own, shared.reachable(mentioned[key], set(own)))
    return {key: hashlib.sha256(f"{unit}\0{links}".encode()).hexdigest() for key, unit in unit_keys.items()}


def _rdflib_to_ox(graph):
    import pyoxigraph as ox

    return list(ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES))


#: Above this share of the corpus to load again, a fresh store is faster than a changed copy
#: (removing a quad from RocksDB costs about what loading one does: bench/FINDINGS.md).
_FRESH_STORE_SHARE = 0.3


class _StoreLoad:
    """Write the new store generation in a thread, while the side artefacts are written.

    From an existing store: a copy of it (a RocksDB checkpoint) where unchanged graphs
    stay, a changed graph whose previous lines the cache holds gets only its difference
    (``graph/inferred`` when one study changes), and the rest is loaded again; from
    nothing (or when most would be loaded again): every graph bulk-loaded.

    Why a thread (issue 14, the 1e5 build against pyoxigraph's own bulk load): loading is
    RocksDB's work, done with the GIL released, and the search index beside it is Python's,
    so the two overlap on two cores (measured at 1e5: 1.2 s of loading hidden behind the
    3.3 s index). The side folder is needed only when the generation is committed
    (:meth:`finish`). Nothing is swapped in until then; :meth:`abort` waits for the thread
    and removes the unfinished generation.
    """

    def __init__(self, store_dir: Path, staging: _Staging, previous_digests: dict[str, str], cache: Path,
                 *, view_inputs: dict[str, str], progress: Progress):
        from crkg.store.embedded import NewGeneration

        self.staging, self.previous_digests = staging, previous_digests
        self.view_inputs, self.progress = view_inputs, progress
        self.tables = staging.dir / "view-tables"
        # the tables of the store served now, whose unchanged studies are copied
        from crkg.web.view_tables import tables_at

        self.previous_tables = tables_at(store_dir) if store_dir.exists() else None
        self.graph_cache = cache / "graphs"
        self.plans: dict[str, str] = {}
        incremental = bool(previous_digests) and store_dir.exists()
        if incremental:
            again = 0
            for iri, staged in staging.graphs.items():
                old = previous_digests.get(iri)
                if old == staged.digest:
                    self.plans[iri] = "keep"
                elif old and (self.graph_cache / f"{old}.nt").is_file():
                    self.plans[iri] = "diff"
                else:
                    self.plans[iri] = "load"
                    again += staged.triples
            incremental = again <= _FRESH_STORE_SHARE * sum(g.triples for g in staging.graphs.values())
        self.incremental = incremental
        self.generation = NewGeneration(store_dir, base=incremental)
        self.counts = (0, 0, 0)
        self.error: BaseException | None = None
        self.stopping = False  # set by abort(): stop after the graph being loaded
        self.thread = threading.Thread(target=self._run, name="crkg-store-load", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.counts = self._load()
            self.table_counts = self._write_view_tables()
        except BaseException as exc:  # noqa: BLE001 - raised again in the build's thread
            self.error = exc

    def _write_view_tables(self) -> dict:
        """The evidence views' tables (``crkg.web.view_tables``), asked of the loaded
        generation with the pages' own queries, before anything is swapped in."""
        from crkg.store.local import LocalStore
        from crkg.web.view_tables import write_tables

        return write_tables(self.tables, LocalStore(self.generation.store), self.view_inputs,
                            self.previous_tables)

    def _load(self) -> tuple[int, int, int]:
        generation, staging = self.generation, self.staging
        loaded = changed = kept = 0
        present = generation.graphs() if self.incremental else set()
        for iri in present - set(staging.graphs):
            generation.remove_graph(iri)
        for iri, staged in staging.graphs.items():
            if self.stopping:
                raise KeyboardInterrupt("the build stopped before the store was loaded")
            plan = self.plans.get(iri, "load") if iri in present else "load"
            if plan == "keep":
                kept += 1
                continue
            if plan == "diff" and _apply_difference(
                    generation, iri, self.graph_cache / f"{self.previous_digests[iri]}.nt", staged.path):
                changed += 1
                continue
            generation.remove_graph(iri)
            generation.load(iri, path=staged.path)
            loaded += 1
        return loaded, changed, kept

    def finish(self, side_folder: Path) -> tuple[int, int, int]:
        """Wait for the graphs, add *side_folder*, swap the generation in. Returns (graphs
        loaded, changed in place, kept)."""
        self.thread.join()
        if self.error is not None:
            raise self.error
        from crkg.web.view_tables import TABLES_DIR

        shutil.move(str(self.tables / TABLES_DIR), str(side_folder / TABLES_DIR))
        made = self.table_counts["made"]
        names = f" ({', '.join(made)})" if 0 < len(made) <= 5 else ""
        what = "study's table" if len(made) == 1 else "studies' tables"
        self.progress(f"  evidence views: {len(made)} {what} made{names}, "
                      f"{self.table_counts['kept']} kept from the previous store")
        self.generation.adopt_side(side_folder)  # the side artefacts go in with the store
        # a fresh store is compacted once; a changed copy is left to RocksDB's own compaction
        self.generation.commit(optimize=not self.incremental)
        # the lines of every graph the store now holds, for the next build's differences
        graph_cache, staging = self.graph_cache, self.staging
        graph_cache.mkdir(parents=True, exist_ok=True)
        wanted = {f"{g.digest}.nt" for g in staging.graphs.values()}
        for staged in staging.graphs.values():
            target = graph_cache / f"{staged.digest}.nt"
            if not target.exists():
                _link_or_copy(staged.path, target)
        for old in graph_cache.iterdir():
            if old.name not in wanted:
                old.unlink(missing_ok=True)
        return self.counts

    def abort(self) -> None:
        """Remove the generation unless :meth:`finish` committed it (after the thread ends:
        a build stopped by an error or Ctrl-C waits at most for the graph being loaded)."""
        self.stopping = True
        self.thread.join()
        self.generation.abort()


def _apply_difference(generation, iri: str, old_path: Path, new_path: Path) -> bool:
    """Change graph *iri* of *generation* from the sorted lines in *old_path* to those in
    *new_path*: remove the lines gone, load the lines new. False (nothing done) when a
    changed line has a blank node: the store keeps its own labels for those."""
    with open(old_path, "rb") as f:
        old = set(f.readlines())
    with open(new_path, "rb") as f:
        new = set(f.readlines())
    removed, added = sorted(old - new), sorted(new - old)
    if any(b"_:" in line for line in removed) or any(b"_:" in line for line in added):
        return False
    if removed:
        generation.remove_triples(iri, b"".join(removed))
    if added:
        generation.load(iri, b"".join(added))
    return True


def _collect_graph_stats(side, staging: _Staging, study_graphs: set[str], cache: Path) -> None:
    """Hand every staged graph's statistics to *side*; a graph unchanged since a build
    that counted it is not read again (the statistics are cached by its digest)."""
    import pyoxigraph as ox

    stats_dir = cache / "graph-stats"
    stats_dir.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for iri, staged in staging.graphs.items():
        cached = stats_dir / f"{staged.digest}.json"
        wanted.add(cached.name)
        try:
            side.add_stats(iri, json.loads(cached.read_text(encoding="utf-8")), study=iri in study_graphs)
            continue
        except (OSError, ValueError, KeyError):
            pass
        stats = side.add_graph(iri, ox.parse(path=str(staged.path), format=ox.RdfFormat.N_TRIPLES),
                               study=iri in study_graphs)
        write_atomically(cached, json.dumps(stats).encode())
    for old in stats_dir.iterdir():
        if old.name not in wanted:
            old.unlink(missing_ok=True)


def _write_side_artefacts(staging: _Staging, side, build_info: dict, ontology, *, study_iris: dict[str, str],
                          shared: _SharedContext, store_dir: Path, jobs: int, progress: Progress) -> tuple[Path, float]:
    """THE place where side artefacts are produced (issue 14 item 5). Returns (the folder,
    the peak memory in MiB of the search index's process: 0 when it ran here). Everything
    written into the folder (in the staging folder) is moved into the new store
    generation (``NewGeneration.adopt_side``) and swapped in with the store; readers find
    it through ``crkg.paths.store_side_dir``.

    Written now: the VoID counts and ``build.json`` (*side*, a
    ``crkg.pipeline.artefacts.SideArtefacts`` that has seen every staged graph), the
    ontology release files (``crkg.paths.store_release_dir``; ``/ontology`` serves them,
    the same bytes as ``dist/ontology/``) and the full-text search index
    (``crkg.search.index.index_path``), study by study: the previous store's index is
    copied and only the studies whose inputs changed are indexed again
    (``crkg.search.index.write_build_index``, in a child process: :class:`_IndexJob`). The
    evidence views' tables need the loaded store: :class:`_StoreLoad` makes them. Add new
    artefacts here, reading the staged
    N-Triples (``staging.graphs[iri].path``, with their ``digest`` for caching) one graph
    at a time.
    """
    from crkg.paths import STORE_SIDE_DIR_NAME
    from crkg.pipeline.artefacts import RELEASE_SUBDIR
    from crkg.pipeline.ontology import write_release
    from crkg.search.index import SEARCH_INDEX_FILE, index_path

    folder = staging.dir / STORE_SIDE_DIR_NAME
    folder.mkdir()
    study_graphs = set(study_iris.values())
    job = dict(
        path=folder / SEARCH_INDEX_FILE,
        studies={key: (staging.graphs[iri].path, staging.graphs[iri].digest) for key, iri in study_iris.items()},
        other_graphs=[g.path for iri, g in staging.graphs.items() if iri not in study_graphs],
        shared_lines=[line for lines in shared.by_subject.values() for line in lines],
        previous=index_path(store_dir) if store_dir.exists() else None,
        graph_files=[(iri, g.path) for iri, g in staging.graphs.items()],
    )
    with _IndexJob(job, jobs) as index:  # in a child process, while the rest is written here
        side.write(folder, build_info)
        write_release(folder / RELEASE_SUBDIR, ontology)
        counts, messages = index.result()
    for message in messages:
        progress(message)
    written = counts["written"]
    names = f" ({', '.join(unit or 'the base' for unit in written)})" if 0 < len(written) <= 5 else ""
    progress(f"  search index: {len(written)} of {counts['units']} units indexed{names}, {counts['kept']} kept "
             "from the previous store's index")
    return folder, counts.get("peak_mib", 0.0)


def _staged_quads(graph_files: list[tuple[str, Path]]):
    """Every staged graph's triples as quads, one graph file at a time."""
    import pyoxigraph as ox

    for iri, path in graph_files:
        graph = ox.NamedNode(iri)
        for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES):
            yield ox.Quad(t.subject, t.predicate, t.object, graph)


def index_job(job: dict) -> tuple[dict, list[str]]:
    """Write the search index of *job* (``crkg.search.index.write_build_index``'s arguments,
    with the staged graph files for a whole-corpus index); returns (its counts, its progress
    lines). Module level, so that a spawned process can run it."""
    from crkg.search.index import write_build_index

    messages: list[str] = []
    files = job.pop("graph_files")
    counts = write_build_index(job.pop("path"), whole_corpus=lambda: _staged_quads(files),
                               progress=messages.append, **job)
    return counts, messages


class _IndexJob:
    """The search index in a process of its own where there are two cores or more.

    Why (issue 14, the 1e5 build against pyoxigraph's bulk load): the index is Python and
    so are the evidence views' tables (``_StoreLoad``); in one process they share one
    interpreter lock, so the tables and the index took as long together as one after the
    other. The index reads only files (the staged graphs, the previous index), so a child
    writes it while this process loads the store and makes the tables. ``spawn``: the same
    on Linux, macOS and Windows, and safe beside the loading thread. With one core the
    index is written here, when its result is asked for.
    """

    def __init__(self, job: dict, jobs: int):
        self.job, self.process, self.reader = job, None, None
        from crkg.pipeline.worker_pool import worker_count

        self.parallel = worker_count(jobs, 2) >= 2  # ``--jobs 1``: this process alone

    def __enter__(self) -> "_IndexJob":
        if self.parallel:
            import multiprocessing

            context = multiprocessing.get_context("spawn")
            self.reader, writer = context.Pipe(duplex=False)
            self.process = context.Process(target=_index_child, args=(self.job, writer),
                                           name="crkg-search-index", daemon=True)
            self.process.start()
            writer.close()
        return self

    def result(self) -> tuple[dict, list[str]]:
        if self.process is None:
            return index_job(self.job)
        try:
            status, value = self.reader.recv()
        except EOFError:
            self.process.join()
            raise CrkgError(f"the search index process ended without a result (exit code "
                            f"{self.process.exitcode})") from None
        if status == "error":
            raise value
        return value

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            if self.process.is_alive() and exc[0] is not None:
                self.process.terminate()  # an error or Ctrl-C here: its file is in the staging folder
            self.process.join()
            self.reader.close()


def _index_child(job: dict, writer) -> None:
    """The child of :class:`_IndexJob`: the index written, the result (or error) sent back."""
    try:
        from crkg.pipeline.worker_pool import peak_mib

        counts, messages = index_job(job)
        writer.send(("ok", (dict(counts, peak_mib=peak_mib()), messages)))
    except BaseException as exc:  # noqa: BLE001 - raised again in the build
        writer.send(("error", exc if isinstance(exc, Exception) else CrkgError(repr(exc))))
    finally:
        writer.close()




def _remove_abandoned(store_dir: Path) -> None:
    """What a killed build left beside the store (staging folder, unfinished generation)."""
    from crkg.store.embedded import remove_abandoned

    if store_dir.parent.is_dir():
        remove_abandoned(store_dir)


@contextmanager
def _terminate_as_interrupt():
    """SIGTERM ends the build like Ctrl-C, so its cleanup (staging folder, unfinished store
    generation, HermiT's files) runs. Only in the main thread (signals are delivered there)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _write_error(exc: OSError, what: str, where: Path) -> CrkgError:
    reason = exc.strerror or str(exc)
    if exc.filename:
        reason += f" ({exc.filename})"
    return CrkgError(
        f"cannot write {what} at {where}: {reason}. Nothing was replaced: the previous "
        f"store and release files (if any) are as they were."
    )


# --------------------------------------------------------------------------- build


def build(
    *,
    data_dir: Path = DATA_DIR,
    store_dir: Path = DEFAULT_STORE_DIR,
    dist_dir: Path | None = DEFAULT_DIST_DIR,
    force: bool = False,
    reason: bool = True,
    strict: bool = False,
    jobs: int | None = None,
    progress: Progress = _stderr,
) -> BuildResult:
    """Run the whole build; see the module docstring. Raises NonConformant or CrkgError.

    *strict*: fail (CrkgError, exit 2) when the HermiT check cannot run (no Java),
    instead of building without it. *jobs*: processes converting and validating the
    studies (``crkg build --jobs``; 0: one per available CPU; 1: this process alone;
    None: ``Config.BUILD_JOBS``, i.e. ``CRKG_BUILD_JOBS``). The output does not depend on it.
    The workers are spawned, so a script calling this with several jobs guards its top
    level with ``if __name__ == "__main__":`` (``crkg.pipeline.worker_pool``).
    """
    if jobs is None:
        from crkg.config import Config

        jobs = Config.from_env().BUILD_JOBS
    if jobs < 0:
        raise CrkgError(f"jobs={jobs}: give 0 (one process per available CPU) or a positive number")
    store_dir, data_dir = Path(store_dir), Path(data_dir)
    dist_dir = Path(dist_dir) if dist_dir is not None else None
    _remove_abandoned(store_dir)
    digest = sources_digest(data_dir)
    previous = read_manifest(store_dir) or {}
    from crkg.search.index import index_path

    if not force and is_up_to_date(store_dir, data_dir, digest, reason=reason, strict=strict) and (
        dist_dir is None or dist_is_intact(dist_dir, previous.get("dist_sums"))
    ) and index_path(store_dir).is_file():
        progress(f"store {store_dir} is up to date with its sources; nothing to do (--force rebuilds)")
        return BuildResult(store_dir, dist_dir, skipped=True, hermit=previous.get("hermit") or {})
    with _terminate_as_interrupt():
        try:
            staging = _Staging(store_dir)
        except OSError as exc:
            raise _write_error(exc, "the store", store_dir) from exc
        try:
            return _build(data_dir, store_dir, dist_dir, digest, previous, reason, strict, jobs, staging, progress)
        except OSError as exc:
            raise _write_error(exc, "the build's output", store_dir.parent) from exc
        finally:
            staging.remove()


def _build(data_dir, store_dir, dist_dir, digest, previous, reason, strict, jobs, staging, progress) -> BuildResult:
    from crkg.pipeline.artefacts import SideArtefacts
    from crkg.pipeline.ontology import load_ontology
    from crkg.pipeline.studies import discover_studies

    studies_dir, links_dir = resolve_data_dir(data_dir)
    folders = discover_studies(studies_dir)
    if not folders:
        raise CrkgError(f"{studies_dir}: no study folders found (see data/README.md)")

    steps = _Steps(8 if reason else 6, progress)
    ontology = steps.run("ontology", load_ontology)
    ontology_lines = canonical_lines(ontology, str(ONTOLOGY_GRAPH))
    staging.write(str(ONTOLOGY_GRAPH), ontology_lines)
    hermit = {"ran": False, "why_not": "built with --no-reason"}
    if reason:
        hermit = steps.run("HermiT check of the ontology", _check_ontology, ontology, reason=reason,
                           strict=strict, workdir=staging.dir, cache=cache_dir(store_dir),
                           ontology_lines=ontology_lines, progress=progress)
    links = steps.run("linksets", _load_links, link_files(links_dir))
    links_lines = canonical_lines(links, str(LINKS_GRAPH))
    shared = _SharedContext()
    shared.add(links_lines, None)

    rules = rules_digest()
    already_valid = previous.get("validated", {}) if previous.get("rules_digest") == rules else {}
    n = len(folders)
    validated, mentioned, study_iris, (workers, worker_peak_mib) = steps.run(
        f"convert and validate {n} stud{'y' if n == 1 else 'ies'}",
        _convert_and_validate, folders, ontology, staging, shared, already_valid, cache_dir(store_dir), progress,
        jobs,
    )
    staging.write(str(LINKS_GRAPH), links_lines)
    del links

    unit_keys = None
    if reason:
        inferred, unit_keys = steps.run("OWL 2 RL inferences", _reason_studies, ontology, staging, shared,
                                        study_iris, mentioned, cache_dir(store_dir), progress)
        staging.write(str(INFERRED_GRAPH), inferred)
        del inferred
    view_inputs = _view_inputs(staging, shared, study_iris, mentioned, unit_keys)

    # the graphs in the order crkg.nq lists them: by "<iri>", as N-Quads sort
    order = sorted(staging.graphs, key=lambda iri: f"<{iri}>")
    staging.graphs = {iri: staging.graphs[iri] for iri in order}
    side = SideArtefacts()
    study_graphs = set(study_iris.values())
    _collect_graph_stats(side, staging, study_graphs, cache_dir(store_dir))
    options = build_options(reason=reason)
    info = {"version": __version__, "options": options, "hermit": hermit}

    if dist_dir is not None:
        from crkg.pipeline.dist import write_dist

        try:
            steps.run("write dist/", write_dist, dist_dir, [(i, g.path) for i, g in staging.graphs.items()])
        except OSError as exc:
            raise _write_error(exc, "the release files", dist_dir) from exc
    try:
        # the store is loaded in a thread while the side artefacts are written (_StoreLoad);
        # "load store" times what is left of the loading after them, and the commit
        loading = _StoreLoad(store_dir, staging, previous.get("graph_digests") or {}, cache_dir(store_dir),
                             view_inputs=view_inputs, progress=progress)
    except OSError as exc:
        raise _write_error(exc, "the store", store_dir) from exc
    try:
        side_folder, index_peak_mib = steps.run("side artefacts", _write_side_artefacts, staging, side, info, ontology,
                                study_iris=study_iris, shared=shared, store_dir=store_dir, jobs=jobs,
                                progress=progress)
        try:
            loaded, changed, kept = steps.run("load store", loading.finish, side_folder)
        except OSError as exc:
            raise _write_error(exc, "the store", store_dir) from exc
    finally:
        loading.abort()
    if kept or changed:
        progress(f"  {loaded} graphs loaded, {changed} changed in place, {kept} unchanged graphs kept "
                 "from the previous store")

    counts = {iri: g.triples for iri, g in staging.graphs.items()}
    manifest = {
        "version": __version__,
        "sources_digest": digest,
        "options": options,
        "hermit": hermit,
        "data_dir": str(data_dir.resolve()),
        "rules_digest": rules,
        "validated": validated,
        "dist_dir": str(dist_dir.resolve()) if dist_dir is not None else None,
        "dist_sums": sums_digest(dist_dir) if dist_dir is not None else None,
        "graphs": counts,
        "graph_digests": {iri: g.digest for iri, g in staging.graphs.items()},
    }
    target = manifest_path(store_dir)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    total = sum(counts.values())
    progress(f"built {total} triples in {len(counts)} named graphs into {store_dir}")
    return BuildResult(store_dir, dist_dir, graphs=counts, timings=steps.timings, hermit=hermit, workers=workers,
                       worker_peak_mib=worker_peak_mib, index_peak_mib=index_peak_mib)


def ensure_built(store_dir: Path = DEFAULT_STORE_DIR, progress: Progress = _stderr) -> bool:
    """Build the store from the repository's sources if it is missing or stale.

    Returns True when it built. ``crkg serve`` calls this before opening the store
    read-only, so a newcomer's first ``crkg serve`` works, and a served store never
    lags its sources. Without Java the build goes on without the HermiT check (and
    says so); the store still has its OWL 2 RL inferences.
    """
    store_dir = Path(store_dir)
    _remove_abandoned(store_dir)
    if not store_dir.exists():
        progress(f"store {store_dir} is missing: building it first")
        dist_dir = DEFAULT_DIST_DIR if store_dir.resolve() == DEFAULT_STORE_DIR.resolve() else None
        build(store_dir=store_dir, dist_dir=dist_dir, force=True, progress=progress)
        return True
    recorded = read_manifest(store_dir)
    if recorded is None:
        # Not made by ``crkg build`` (e.g. loaded by hand): nothing to compare it with.
        progress(f"store {store_dir} has no build manifest: serving it as it is")
        return False
    # A store built from another data folder (``crkg build --data``) is checked
    # against, and rebuilt from, that folder rather than the repository's data/.
    data_dir = Path(recorded.get("data_dir") or DATA_DIR)
    if not data_dir.is_dir():
        progress(f"store {store_dir} was built from {data_dir}, which is gone: serving it as it is")
        return False
    # served stores carry their inferences: one built with --no-reason is rebuilt with them
    if is_up_to_date(store_dir, data_dir, reason=True):
        return False
    progress(f"store {store_dir} is older than its sources in {data_dir} (or was built without "
             "its inferences): rebuilding it first")
    dist = recorded.get("dist_dir")
    build(data_dir=data_dir, store_dir=store_dir, dist_dir=Path(dist) if dist else None,
          progress=progress)
    return True

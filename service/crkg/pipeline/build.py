"""``crkg build``: sources → validated, reasoned dataset → embedded store and ``dist/``.

ARCHITECTURE.md, "Data flow": one direction, no back and forth. The steps are

1. the ontology (version stamped from pyproject.toml) and the SHACL shapes;
2. every study folder converted (YAML-LD + BibTeX) into its own named graph;
3. the linksets of ``links/`` into ``graph/links``;
4. SHACL validation of each study (errors name the source file and item key);
5. HermiT: the ontology with all data is consistent, every class satisfiable;
6. the OWL 2 RL closure, minus what is asserted, into ``graph/inferred``;
7. ``dist/``: N-Quads of the whole dataset, Turtle and JSON-LD per graph, the
   ontology release files and the shapes, with SHA-256 sums;
8. the persistent Oxigraph store, swapped in atomically;
9. the full-text search index beside it (``crkg.search.index``), renamed into place after it.

The build is deterministic (same sources, same bytes: blank nodes are given
canonical labels and every serialisation is sorted) and skips itself when a manifest
of the sources' digests says nothing changed. Nothing here knows about HTTP.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from crkg.errors import CrkgError, NonConformant
from crkg.namespaces import INFERRED_GRAPH, LINKS_GRAPH, ONTOLOGY_GRAPH, PREFIXES
from crkg.paths import (
    DATA_DIR,
    DEFAULT_DIST_DIR,
    DEFAULT_STORE_DIR,
    ONTOLOGY_DIR,
    REPO_ROOT,
    SHAPES_DIR,
    store_release_dir,
)
from crkg.version import __version__

#: Bump when the build's output for the same sources changes, so stale stores rebuild.
PIPELINE_REVISION = "2"  # 2: study language, selectors, structured locators, mapping.csv

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


def read_manifest(store_dir: Path) -> dict | None:
    manifest = manifest_path(store_dir)
    if not Path(store_dir).is_dir() or not manifest.is_file():
        return None
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_up_to_date(store_dir: Path, data_dir: Path = DATA_DIR, digest: str | None = None) -> bool:
    recorded = read_manifest(store_dir)
    if recorded is None:
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
        self.timings[name] = elapsed
        self.progress(f"[{self.n}/{self.total}] {name}: done in {elapsed:.2f} s")
        return result


def rules_digest() -> str:
    """What decides whether a study conforms, besides the study: ontology, shapes, validator."""
    from crkg.pipeline import validate as validator

    digest = hashlib.sha256(f"crkg {__version__} pipeline {PIPELINE_REVISION}\n".encode())
    files = sorted(p for p in ONTOLOGY_DIR.rglob("*") if p.is_file()) + sorted(SHAPES_DIR.glob("*.ttl"))
    for path in files + [Path(validator.__file__)]:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def study_digest(study) -> str:
    """The digest of exactly what is validated: the study's converted graph.

    Blank-node labels differ between conversions, so a study with blank nodes gets a new
    digest every build and is always validated again: the safe side of the shortcut.
    """
    lines = sorted(study.graph.serialize(format="nt", encoding="utf-8").splitlines())
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


def _validate_studies(studies, ontology, already_valid: dict[str, str], progress: Progress):
    """Validate each study whose graph changed since a build with the same rules.

    "Validate the change, not the world" (issue 6): a study that conformed under the
    same ontology, shapes and validator, and whose graph is byte-for-byte the same, is
    not validated again, so adding a study costs the validation of that study alone.
    """
    from crkg.pipeline.validate import validate

    failures, digests = [], {}
    for study in studies:
        digests[study.key] = study_digest(study)
        if already_valid.get(study.key) == digests[study.key]:
            progress(f"  {study.key}: unchanged since it last conformed; not validated again")
            continue
        result = validate(study.graph, ontology=ontology)
        if not result.conforms:
            failures.append(
                f"study {study.key!r} does not conform to the shapes:\n"
                + result.format(source_map=study.source_map)
            )
    if failures:
        raise NonConformant("\n\n".join(failures))
    return digests


def _load_links(files: list[Path]):
    from rdflib import Graph

    graph = Graph()
    for path in files:
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises several unrelated types for bad syntax
            raise CrkgError(f"{path}: cannot parse linkset: {exc}") from exc
    return graph


def _to_dataset(graphs: dict[str, "object"]):
    """rdflib graphs → one pyoxigraph Dataset with canonical blank-node labels."""
    import pyoxigraph as ox

    dataset = ox.Dataset()
    for iri, graph in graphs.items():
        data = graph.serialize(format="nt", encoding="utf-8")
        for triple in ox.parse(data, format=ox.RdfFormat.N_TRIPLES):
            dataset.add(ox.Quad(triple.subject, triple.predicate, triple.object, ox.NamedNode(iri)))
    # Blank-node labels would otherwise differ between runs and break byte-identical dumps.
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return dataset


def _sorted_quads(dataset, graph_iri: str | None = None):
    import pyoxigraph as ox

    quads = dataset if graph_iri is None else dataset.quads_for_graph_name(ox.NamedNode(graph_iri))
    return sorted(quads, key=lambda q: (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)))


def graph_file_stem(graph_iri: str) -> str:
    """``https://w3id.org/crkg/graph/study/k`` → ``study-k`` (dump file names)."""
    from crkg.namespaces import GRAPH

    return graph_iri.removeprefix(str(GRAPH)).replace("/", "-")


def _write_dist(dist_dir: Path, dataset, graph_iris: list[str]) -> list[Path]:
    import shutil

    import pyoxigraph as ox

    from crkg.pipeline.ontology import write_release

    dist_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    prefixes = {p: str(ns) for p, ns in PREFIXES.items()}

    everything = dist_dir / "crkg.nq"
    everything.write_bytes(ox.serialize(_sorted_quads(dataset), format=ox.RdfFormat.N_QUADS))
    written.append(everything)

    graphs_dir = dist_dir / "graphs"
    if graphs_dir.exists():
        shutil.rmtree(graphs_dir)  # a removed study must not leave a stale dump behind
    graphs_dir.mkdir()
    for iri in graph_iris:
        triples = [q.triple for q in _sorted_quads(dataset, iri)]
        stem = graph_file_stem(iri)
        for fmt, ext in ((ox.RdfFormat.TURTLE, "ttl"), (ox.RdfFormat.JSON_LD, "jsonld")):
            path = graphs_dir / f"{stem}.{ext}"
            kwargs = {"prefixes": prefixes} if fmt is ox.RdfFormat.TURTLE else {}
            path.write_bytes(ox.serialize(triples, format=fmt, **kwargs))
            written.append(path)

    written += [Path(p) for p in write_release(dist_dir)]
    shapes_dir = dist_dir / "shapes"
    shapes_dir.mkdir(exist_ok=True)
    for shape_file in sorted(SHAPES_DIR.glob("*.ttl")):
        target = shapes_dir / shape_file.name
        target.write_bytes(shape_file.read_bytes())
        written.append(target)

    sums = sorted(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(dist_dir).as_posix()}"
        for p in written
    )
    (dist_dir / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
    return written


def _load_store(store_dir: Path, dataset, graph_iris: list[str]) -> None:
    import pyoxigraph as ox

    from crkg.store.embedded import write_store

    items = []
    for iri in graph_iris:
        # The store keeps its own index order: sorting (needed for byte-stable dumps) is
        # skipped here, 4.6 s at 1e6 triples (bench/FINDINGS.md).
        triples = (q.triple for q in dataset.quads_for_graph_name(ox.NamedNode(iri)))
        items.append((iri, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), "application/n-triples"))
    write_store(store_dir, items)


# --------------------------------------------------------------------------- build


def build(
    *,
    data_dir: Path = DATA_DIR,
    store_dir: Path = DEFAULT_STORE_DIR,
    dist_dir: Path | None = DEFAULT_DIST_DIR,
    force: bool = False,
    reason: bool = True,
    progress: Progress = _stderr,
) -> BuildResult:
    """Run the whole build; see the module docstring. Raises NonConformant or CrkgError."""
    from crkg.pipeline.ontology import load_ontology
    from crkg.pipeline.studies import discover_studies, load_studies

    store_dir, data_dir = Path(store_dir), Path(data_dir)
    dist_dir = Path(dist_dir) if dist_dir is not None else None
    digest = sources_digest(data_dir)
    from crkg.search.index import index_path

    if not force and is_up_to_date(store_dir, data_dir, digest) and (
        dist_dir is None or (dist_dir / "SHA256SUMS").is_file()
    ) and index_path(store_dir).is_file():
        progress(f"store {store_dir} is up to date with its sources; nothing to do (--force rebuilds)")
        return BuildResult(store_dir, dist_dir, skipped=True)

    studies_dir, links_dir = resolve_data_dir(data_dir)
    folders = discover_studies(studies_dir)
    if not folders:
        raise CrkgError(f"{studies_dir}: no study folders found (see data/README.md)")

    steps = _Steps(9 if reason else 7, progress)
    ontology = steps.run("ontology", load_ontology)
    studies = steps.run(f"convert {len(folders)} stud{'y' if len(folders) == 1 else 'ies'}",
                        load_studies, folders)
    for study in studies:  # checks skipped and why (a withheld text ...): said, never silent
        for warning in study.warnings:
            progress(f"  {study.key}: warning: {warning}")
    keys = [s.key for s in studies]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise CrkgError(f"two study folders use the same key: {', '.join(duplicates)}")
    links = steps.run("linksets", _load_links, link_files(links_dir))
    rules = rules_digest()
    previous = read_manifest(store_dir) or {}
    already_valid = previous.get("validated", {}) if previous.get("rules_digest") == rules else {}
    validated = steps.run("SHACL validation", _validate_studies, studies, ontology, already_valid, progress)

    graphs = {str(ONTOLOGY_GRAPH): ontology}
    for study in sorted(studies, key=lambda s: s.key):
        graphs[str(study.graph_iri)] = study.graph
    graphs[str(LINKS_GRAPH)] = links

    if reason:
        from rdflib import Graph

        from crkg.pipeline.reason import check_consistency, materialise

        data = Graph()
        for study in studies:
            data += study.graph
        data += links
        steps.run("HermiT consistency", check_consistency, ontology + data)
        graphs[str(INFERRED_GRAPH)] = steps.run("OWL 2 RL inferences", materialise, ontology, data)

    dataset = _to_dataset(graphs)
    graph_iris = list(graphs)
    if dist_dir is not None:
        steps.run("write dist/", _write_dist, dist_dir, dataset, graph_iris)
    steps.run("load store", _load_store, store_dir, dataset, graph_iris)
    # /ontology serves these bytes (the same as dist/ontology/), also when no dist/ is written
    from crkg.pipeline.ontology import write_release

    write_release(store_release_dir(store_dir), ontology)
    # side artefact of the store: the full-text index, written beside it and renamed
    # into place right after it (crkg.search.index)
    from crkg.search.index import write_index

    steps.run("search index", write_index, index_path(store_dir), dataset)

    counts = {iri: len(g) for iri, g in graphs.items()}
    manifest_path(store_dir).write_text(
        json.dumps(
            {
                "version": __version__,
                "sources_digest": digest,
                "data_dir": str(data_dir.resolve()),
                "rules_digest": rules,
                "validated": validated,
                "dist_dir": str(dist_dir.resolve()) if dist_dir is not None else None,
                "graphs": counts,
            },
            indent=2, sort_keys=True,
        ) + "\n",
        encoding="utf-8",
    )
    total = sum(counts.values())
    progress(f"built {total} triples in {len(counts)} named graphs into {store_dir}")
    return BuildResult(store_dir, dist_dir, graphs=counts, timings=steps.timings)


def ensure_built(store_dir: Path = DEFAULT_STORE_DIR, progress: Progress = _stderr) -> bool:
    """Build the store from the repository's sources if it is missing or stale.

    Returns True when it built. ``crkg serve`` calls this before opening the store
    read-only, so a newcomer's first ``crkg serve`` works, and a served store never
    lags its sources.
    """
    store_dir = Path(store_dir)
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
    if is_up_to_date(store_dir, data_dir):
        return False
    progress(f"store {store_dir} is older than its sources in {data_dir}: rebuilding it first")
    dist = recorded.get("dist_dir")
    build(data_dir=data_dir, store_dir=store_dir, dist_dir=Path(dist) if dist else None,
          force=True, progress=progress)
    return True

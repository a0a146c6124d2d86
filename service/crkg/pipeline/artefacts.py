"""Side artefacts: what the build computes once and writes beside the store's data.

Issue 9 item 3 / issue 14 item 5: answers every page would otherwise compute per request
(VoID counts, per-study counts, the search index ``crkg.search.index``, the evidence
views' tables of each study's facts ``crkg.web.view_tables``) are
written by the build **inside the store generation** it is writing, in the folder
:data:`SIDE_DIR_NAME`, so they are swapped in with the store by the same ``rename``
(``crkg.store.embedded.NewGeneration``): a reader that resolves the store link once sees
data and artefacts of the same build. RocksDB ignores a sub-folder of its directory.

The build hands every produced graph to :class:`SideArtefacts` (``add_graph``) and calls
``write`` once, just before the swap: ``crkg.pipeline.build._write_side_artefacts`` is
the one place where producers of files are registered; the views' tables, which are
answers of queries, are asked of the new generation once it is loaded
(``crkg.pipeline.build._StoreLoad``). Readers: :func:`read_side_file`,
:func:`void_counts`, :func:`build_info`, and ``crkg.paths.store_release_dir`` for the
ontology release files (``Store.release_file``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from crkg.namespaces import CRKG, RDF
from crkg.paths import STORE_SIDE_DIR_NAME, store_side_dir

#: The folder, inside a store generation, that holds the side artefacts.
SIDE_DIR_NAME = STORE_SIDE_DIR_NAME
#: The ontology release files (the bytes of ``dist/ontology/``), which ``/ontology`` serves.
RELEASE_SUBDIR = "release"
#: Graph sizes, vocabularies used, example resources, per-study counts (VoID).
VOID_COUNTS_FILE = "void-counts.json"
#: How the store was built: options, whether HermiT ran (also in the build manifest).
BUILD_INFO_FILE = "build.json"

_RDF_TYPE = str(RDF.type)
_STUDY_CLASS = str(CRKG.Study)


def side_dir(store_path) -> Path:
    """The side folder of the generation *store_path* points to now (link resolved)."""
    return store_side_dir(store_path)


def read_side_file(store_path, name: str) -> dict | None:
    """One side artefact as JSON, or None (a store built before artefacts, or by hand)."""
    try:
        return json.loads((side_dir(store_path) / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def void_counts(store_path) -> dict | None:
    """``{"graphs": {iri: triples}, "predicates": [...], "classes": [...],
    "studies": [iri, ...], "per_study": {graph iri: {class iri: instances}}}``."""
    return read_side_file(store_path, VOID_COUNTS_FILE)


def build_info(store_path) -> dict | None:
    """``{"version", "options": {"reason"}, "hermit": {"ran", "why_not"}}``."""
    return read_side_file(store_path, BUILD_INFO_FILE)


class SideArtefacts:
    """Collects, graph by graph as the build streams them, what the artefacts need."""

    def __init__(self):
        self.graphs: dict[str, int] = {}
        self.predicates: set[str] = set()
        self.classes: set[str] = set()
        self.studies: set[str] = set()
        self.per_study: dict[str, dict[str, int]] = {}

    def add_graph(self, iri: str, triples, *, study: bool = False) -> dict:
        """*triples*: pyoxigraph triples of the graph *iri* (iterated once). Returns the
        graph's statistics (:meth:`add_stats` takes them back, e.g. from a cache)."""
        stats = graph_stats(triples)
        self.add_stats(iri, stats, study=study)
        return stats

    def add_stats(self, iri: str, stats: dict, *, study: bool = False) -> None:
        self.graphs[iri] = self.graphs.get(iri, 0) + stats["triples"]
        self.predicates.update(stats["predicates"])
        self.classes.update(stats["types"])
        self.studies.update(stats["studies"])
        if study:
            self.per_study[iri] = dict(sorted(stats["types"].items()))

    def write(self, folder: Path, build: dict) -> list[Path]:
        """Write every artefact into *folder* (the new generation's side folder)."""
        folder.mkdir(parents=True, exist_ok=True)
        void = {
            "graphs": dict(sorted(self.graphs.items())),
            "predicates": sorted(self.predicates),
            "classes": sorted(self.classes),
            "studies": sorted(self.studies),
            "per_study": dict(sorted(self.per_study.items())),
        }
        written = []
        for name, body in ((VOID_COUNTS_FILE, void), (BUILD_INFO_FILE, build)):
            path = folder / name
            path.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            written.append(path)
        return written


def graph_stats(triples) -> dict:
    """What the artefacts need from one graph: its size, predicates, instances per class
    (IRIs only) and the studies it types."""
    import pyoxigraph as ox

    n = 0
    predicates: set[str] = set()
    types: Counter = Counter()
    studies: set[str] = set()
    for t in triples:
        n += 1
        p = t.predicate.value
        predicates.add(p)
        if p == _RDF_TYPE and isinstance(t.object, ox.NamedNode):
            types[t.object.value] += 1
            if t.object.value == _STUDY_CLASS:
                studies.add(t.subject.value)
    return {"triples": n, "predicates": sorted(predicates), "types": dict(sorted(types.items())),
            "studies": sorted(studies)}

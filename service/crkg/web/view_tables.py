"""The evidence views' tables: the list of studies and each study's facts, made at build.

Issue 14 item 5: the aggregates the pages need answer in ≤ 50 ms at 1e6 triples. Asked live,
a study's facts (``crkg.web.study_data.compute_study_facts``: 12-16 SPARQL queries) took
0.7-1.4 s at 1e6 and the list of studies (``compute_studies``: counts over the whole
graph) 0.6 s, paid by every study page, matrix, download and ``/evidence`` answer, and a
comparison of every study 49 s (bench/FINDINGS.md, finding 21). So ``crkg build`` asks the
same queries of the new store generation before it is swapped in (``crkg.store.local``,
:func:`write_tables`) and writes their answers into the generation's side folder
(``crkg-side/views/``), where the pages read them (:func:`current_tables`):

* ``studies.json``: the studies with their counts (``StudySummary``) and, per study, the
  digest of what its facts were made from;
* ``<key>.json``: one study's facts, goals, cases' communities, framework, strategies and
  labels (``StudyFacts``), as JSON.

The tables are answers of the same code over the same graph, so a page is the same with
or without them; a store without tables (a remote back end, one loaded by hand) is asked
live. A rebuild copies the facts of a study whose inputs did not change (its graph, the
shared triples it reaches, the ontology, the linksets, the OWL 2 RL rules and this code:
the digest the build hands over); a study whose facts name another study's resources is
made again whenever any study changes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import OrderedDict
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from threading import Lock

from crkg.files import write_atomically
from crkg.namespaces import ID

#: The folder of the tables in a store generation's side folder.
TABLES_DIR = "views"
STUDIES_FILE = "studies.json"
#: Raised when the tables' shape or meaning changes (a table of another revision is not read).
REVISION = 1


# --------------------------------------------------------------------- to and from JSON


def facts_doc(facts) -> dict:
    """A ``StudyFacts`` as plain JSON (sets as sorted lists)."""
    return {
        "study": facts.study,
        "facts": [[f.intervention, f.passage, {d: sorted(vs) for d, vs in sorted(f.dims.items())}]
                  for f in facts.facts],
        "goals": {i: {k: sorted(vs) for k, vs in sorted(g.items())} for i, g in sorted(facts.goals.items())},
        "community_of": dict(sorted(facts.community_of.items())),
        "framework": {m: {k: sorted(vs) for k, vs in sorted(parts.items())}
                      for m, parts in sorted(facts.framework.items())},
        "strategies": facts.strategies,
        "labels": {iri: dict(sorted(by_lang.items())) for iri, by_lang in sorted(facts.labels.by_iri.items())},
    }


def facts_from_doc(doc: dict):
    """The ``StudyFacts`` of :func:`facts_doc` (a new object each time: pages change theirs)."""
    from collections import defaultdict

    from crkg.web.study_data import Fact, Labels, StudyFacts

    labels = Labels()
    for iri, by_lang in doc["labels"].items():
        labels.by_iri[iri] = dict(by_lang)
    goals: dict = defaultdict(lambda: defaultdict(set))
    for i, g in doc["goals"].items():
        for k, vs in g.items():
            goals[i][k] = set(vs)
    return StudyFacts(
        study=doc["study"],
        facts=[Fact(i, e, {d: frozenset(vs) for d, vs in dims.items()}) for i, e, dims in doc["facts"]],
        goals=goals,
        community_of=dict(doc["community_of"]),
        framework={m: {k: set(vs) for k, vs in parts.items()} for m, parts in doc["framework"].items()},
        strategies=[dict(s) for s in doc["strategies"]],
        labels=labels,
    )


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The code the tables are made by: a change to it makes every table again, and a table
    made by other code is not read (the pages ask live until the next build)."""
    from crkg.web import study_data

    # the queries and what is made of their answers; the tables' own shape is REVISION
    digest = hashlib.sha256(f"views revision {REVISION}\n".encode())
    digest.update(Path(study_data.__file__).read_bytes())
    return digest.hexdigest()


def _study_of(iri: str) -> str | None:
    """The study key an IRI ``id/<kind>/<study>/...`` is scoped to (``id/study/<key>`` too)."""
    if not iri.startswith(str(ID)):
        return None
    parts = iri[len(str(ID)):].split("/")
    if parts[0] == "study" and len(parts) == 2:
        return parts[1]
    return parts[1] if len(parts) >= 3 else None


def _reads_other_studies(doc: dict, key: str, keys: set[str]) -> bool:
    """Do the facts name a resource scoped to another study (a case or passage it cites)?"""
    iris = set(doc["labels"]) | set(doc["community_of"]) | set(doc["community_of"].values())
    for i, e, dims in doc["facts"]:
        iris |= {i, e} | {v for vs in dims.values() for v in vs}
    others = keys - {key}
    return any(_study_of(iri) in others for iri in iris if iri)


# --------------------------------------------------------------------------- the build


def write_tables(folder: Path, store, inputs: dict[str, str], previous: "Tables | None") -> dict:
    """Make the tables in ``folder/views/`` from *store* (the new generation, through the
    Store interface). *inputs*: study key -> digest of what its facts are made from (the
    build's); *previous*: the current store's tables (:func:`tables_at`: of this revision
    and code), whose unchanged studies are copied. Returns ``{"made": [keys], "kept": n}``."""
    from crkg.web.page_queries import using_store
    from crkg.web.study_data import compute_studies, compute_study_facts

    out = folder / TABLES_DIR
    out.mkdir(parents=True, exist_ok=True)
    code = code_digest()
    everything = hashlib.sha256("".join(f"{k}={d}\n" for k, d in sorted(inputs.items())).encode()).hexdigest()
    before = previous.index if previous is not None else {"facts": {}}
    made, kept, records = [], 0, {}
    with using_store(store):
        summaries = compute_studies()
        keys = {s.key for s in summaries}
        for summary in summaries:
            own = inputs.get(summary.key, "")
            old = before["facts"].get(summary.key)
            if old and own and old["inputs"] == (own if not old["reads_others"] else own + everything) \
                    and (previous.folder / f"{summary.key}.json").is_file():
                shutil.copyfile(previous.folder / f"{summary.key}.json", out / f"{summary.key}.json")
                records[summary.key] = old
                kept += 1
                continue
            doc = facts_doc(compute_study_facts(summary.iri))
            reads_others = _reads_other_studies(doc, summary.key, keys)
            _write_json(out / f"{summary.key}.json", doc)
            records[summary.key] = {"inputs": (own + everything) if reads_others else own,
                                    "reads_others": reads_others}
            made.append(summary.key)
    _write_json(out / STUDIES_FILE, {"revision": REVISION, "code": code,
                                     "studies": [asdict(s) for s in summaries], "facts": records})
    return {"made": made, "kept": kept}


def _write_json(path: Path, doc) -> None:
    write_atomically(path, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- the pages


class Tables:
    """The tables of one store generation (its files never change once swapped in)."""

    def __init__(self, folder: Path, index: dict):
        self.folder = folder
        self.index = index

    def studies(self) -> list:
        from crkg.web.study_data import StudySummary

        return [StudySummary(**s) for s in self.index["studies"]]

    def facts(self, key: str):
        """The ``StudyFacts`` of study *key*, or None when the table has none."""
        if key not in self.index.get("facts", {}):
            return None
        doc = _cached_doc(self.folder / f"{key}.json")
        return None if doc is None else facts_from_doc(doc)


#: Parsed tables kept in the web process, by file path (a generation's path is new each
#: build), the recently asked first, up to this many bytes of their files: a parsed table
#: takes ~3.5x its file in memory (a 1.6 MB table of a 47,000-triple study: 5.5 MiB), so
#: 32 MB of files stay within ~110 MiB whatever the number of studies. A table not kept
#: is read again (~26 ms for 1.6 MB).
CACHE_BYTES = 32 * 1024 * 1024
_DOCS: OrderedDict = OrderedDict()  # path -> (file size, parsed)
_LOCK = Lock()


def _cached_doc(path: Path):
    key = str(path)
    with _LOCK:
        if key in _DOCS:
            _DOCS.move_to_end(key)
            return _DOCS[key][1]
    try:
        size = path.stat().st_size
    except OSError:
        return None
    doc = _read_json(path)
    if doc is not None and size <= CACHE_BYTES:
        with _LOCK:
            _DOCS[key] = (size, doc)
            total = sum(n for n, _ in _DOCS.values())
            while total > CACHE_BYTES:
                _, (n, _old) = _DOCS.popitem(last=False)
                total -= n
    return doc


def tables_at(store_dir) -> Tables | None:
    """The tables of the generation the store at *store_dir* serves now, if it has them."""
    from crkg.paths import store_side_dir

    try:
        folder = store_side_dir(store_dir) / TABLES_DIR
    except OSError:
        return None
    index = _cached_doc(folder / STUDIES_FILE)
    if not index or index.get("revision") != REVISION or index.get("code") != code_digest():
        return None
    return Tables(folder, index)


def current_tables() -> Tables | None:
    """The tables of the store the pages ask (none for a remote back end)."""
    from crkg.web.page_queries import current_store

    path = getattr(current_store(), "path", None)
    return tables_at(path) if path else None

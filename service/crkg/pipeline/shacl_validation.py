"""Run the SHACL shapes (``shapes/crkg-shapes.ttl``) over instance data with pySHACL.

The shapes are the one source of the data rules (STYLE.md); this module only runs them
(the report they give is ``crkg.pipeline.shacl_report``'s).

How the data is validated, and why
----------------------------------
* The data graph is validated **together with the ontology**, as one read-only union
  (no copy is made). SHACL's definition of "SHACL instance" (``rdf:type/rdfs:subClassOf*``,
  SHACL §1.5) then makes ``sh:targetClass crkg:Actor`` reach every ``crkg:SocialWorker``,
  and makes ``sh:class crkg:DisasterPhase`` accept the codebook individual
  ``crkg:Response`` declared in the ontology.
* **No RDFS inference** (pySHACL ``inference="none"``). RDFS entailment would add
  ``rdf:type`` triples from ``rdfs:domain``/``rdfs:range``: every object of
  ``crkg:performedBy`` would become a ``crkg:Actor`` and the ``sh:class`` checks could
  never fail. It is also far too slow: on the first study (2,500 triples) with the
  ontology, pySHACL 0.40 with ``inference="rdfs"`` was stopped after 10 minutes.
* pySHACL's own ``ont_graph`` mixing ("inoculation") copies only classes, properties and
  ``owl:NamedIndividual``s (a codebook individual typed only as ``crkg:ResilienceGoal``
  would be lost), and on the same study it did not finish in 5 minutes. The read-only
  union keeps every triple and copies nothing; validating that study takes ~0.25 s of
  CPU in all (see ``tests/shapes/test_speed.py``).
* The parsed shapes are cached (keyed by file and modification time) so that validating
  one study does not re-read the shapes each time, and the shapes graph remembers its
  answers (:class:`_MemoGraph`); SPARQL constraint texts are parsed once
  (:class:`_ValidationView`). Together with the fix below, ~0.15 s of CPU for the first
  study instead of ~0.4 s with plain pySHACL calls.
* pySHACL evaluates every property shape once per focus node, and each evaluation looks
  its parameters up in a *list* of all SHACL constraint parameters (``x in list`` with
  rdflib's slow term equality): a third of the run time. :func:`_speed_up_pyshacl`
  replaces that list by one with a set-based ``in``; results are unchanged.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from pathlib import Path

import pyshacl
from rdflib import Dataset, Graph, Literal
from rdflib.graph import ReadOnlyGraphAggregate
from rdflib.plugins.sparql import prepareQuery

from crkg.errors import CrkgError
from crkg.namespaces import CRKG, CRKGSH, SH
from crkg.paths import ONTOLOGY_FILE, SHAPES_DIR
from crkg.pipeline.shacl_report import ValidationResult, violations_from_report

#: The shapes file the build and ``crkg validate`` use by default.
SHAPES_FILE = SHAPES_DIR / "crkg-shapes.ttl"


def validate(
    data: Graph,
    *,
    ontology: Graph | None = None,
    shapes: Graph | None = None,
) -> ValidationResult:
    """Validate *data* against *shapes* (default: ``shapes/crkg-shapes.ttl``).

    *ontology* (default: :func:`default_ontology`) is read together with the data so that
    subclass instances are targeted and codebook individuals have their types; it is not
    copied or modified, nor is *data*.
    """
    shapes_graph = shapes if shapes is not None else load_shapes()
    if ontology is None:
        ontology = default_ontology()
    parts = _graphs_of(data) + ([] if ontology is None else _graphs_of(ontology))
    data_graph = _ValidationView(parts)
    _speed_up_pyshacl()
    started = time.perf_counter()
    conforms, report, _text = pyshacl.validate(
        data_graph,
        shacl_graph=shapes_graph,
        inference="none",
        inplace=True,  # nothing is written: no inference, no rules (advanced=False)
        advanced=False,
        allow_warnings=True,  # warnings are reported but do not fail the build
    )
    seconds = time.perf_counter() - started
    violations = violations_from_report(report)
    if not conforms:
        violations = _relaxed_for_derived(violations, data_graph, shapes_graph)
        conforms = not any(v.severity == SH.Violation for v in violations)
    return ValidationResult(bool(conforms), violations, report, seconds)


def _relaxed_for_derived(violations, data: Graph, shapes: Graph) -> list:
    """Results of shapes marked ``crkgsh:relaxedForDerived true`` on a focus node that a
    derivation rule made (``crkg:derivedBy``), as warnings.

    An intervention derived by the co-coding rule from a QDA project's codings lacks what
    the scholar's mapping.csv does not yet give it (an actor, a mode, a phase ...): it is
    loaded and reported, not a build failure (issue 11). The shapes say which constraints
    these are; a hand-coded intervention must still meet them. (The raw report graph keeps
    pySHACL's severities.)
    """
    relaxed = set(shapes.subjects(CRKGSH.relaxedForDerived, Literal(True)))
    if not relaxed:
        return violations
    out = []
    for v in violations:
        if (v.severity == SH.Violation and v.shape in relaxed
                and next(data.objects(v.focus, CRKG.derivedBy), None) is not None):
            v = dataclasses.replace(v, severity=SH.Warning)
        out.append(v)
    return out


def _graphs_of(graph: Graph) -> list[Graph]:
    """The plain graphs to read: a Dataset contributes each of its non-empty graphs."""
    if isinstance(graph, Dataset):
        return [g for g in graph.graphs() if len(g)]
    return [graph]


class _ValidationView(ReadOnlyGraphAggregate):
    """The data and the ontology read as one graph, without copying either.

    Its ``query`` parses each distinct SPARQL text once per process: pySHACL hands the
    text of a SPARQL constraint to ``query`` on every run, and rdflib's parser costs
    ~20 ms per parse.
    """

    def query(self, query_object, *args, **kwargs):
        if isinstance(query_object, str):
            query_object = _prepared_query(query_object)
        return super().query(query_object, *args, **kwargs)


@functools.lru_cache(maxsize=64)
def _prepared_query(text: str):
    return prepareQuery(text)


class _MemoGraph(Graph):
    """A graph that remembers the answer to each triple pattern until it is changed.

    For the shapes graph: pySHACL reads every shape's parameters from it again for each
    focus node (tens of thousands of identical lookups per study); answering them from
    memory takes a third off a validation. Every change (add, addN, remove) forgets.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._memo: dict = {}

    def triples(self, triple):
        try:
            hit = self._memo.get(triple)
        except TypeError:  # an unhashable pattern (a property path object): do not memoise
            return super().triples(triple)
        if hit is None:
            hit = self._memo[triple] = list(super().triples(triple))
        return iter(hit)

    def add(self, triple):
        if self._memo and triple not in self:
            self._memo.clear()
        return super().add(triple)

    def addN(self, quads):  # noqa: N802 (rdflib's name)
        self._memo.clear()
        return super().addN(quads)

    def remove(self, triple):
        self._memo.clear()
        return super().remove(triple)


class _ParameterList(list):
    """A list whose ``in`` is a set lookup (see the module docstring)."""

    def __init__(self, items):
        super().__init__(items)
        self._members = frozenset(items)

    def __contains__(self, item):
        return item in self._members

    def copy(self):  # pySHACL copies and appends in advanced mode: give it a plain list
        return list(self)


def _speed_up_pyshacl() -> None:
    # pyshacl.shape caches (ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP) in the
    # module attribute CONSTRAINT_PARAMS on first use; we fill that cache ourselves.
    import pyshacl.shape
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP

    current = getattr(pyshacl.shape, "CONSTRAINT_PARAMS", None)
    if current is None or not isinstance(current[0], _ParameterList):
        pyshacl.shape.CONSTRAINT_PARAMS = (
            _ParameterList(ALL_CONSTRAINT_PARAMETERS),
            CONSTRAINT_PARAMETERS_MAP,
        )


def load_shapes(path: Path | str | None = None) -> Graph:
    """The shapes graph, parsed once per file version (path and modification time)."""
    path = Path(path) if path is not None else SHAPES_FILE
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise CrkgError(f"cannot read the shapes file {path}: {exc.strerror}") from exc
    return _parse_cached(str(path), mtime, memo=True)


def default_ontology() -> Graph | None:
    """The ontology the data is validated with: ``crkg.pipeline.ontology.load_ontology()``
    where that exists, else ``ontology/crkg.ttl`` parsed as is, else None."""
    try:
        from crkg.pipeline.ontology import load_ontology
    except ImportError:
        load_ontology = None
    if load_ontology is not None:
        try:
            mtime = ONTOLOGY_FILE.stat().st_mtime_ns
        except OSError:
            mtime = 0
        return _load_ontology_cached(mtime)
    if ONTOLOGY_FILE.exists():
        return _parse_cached(str(ONTOLOGY_FILE), ONTOLOGY_FILE.stat().st_mtime_ns)
    return None


@functools.lru_cache(maxsize=8)
def _parse_cached(path: str, mtime: int, memo: bool = False) -> Graph:
    # mtime is part of the key only: an edited file is parsed again.
    graph = _MemoGraph() if memo else Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises many types; all mean "cannot parse"
        raise CrkgError(f"cannot parse {path}: {exc}") from exc
    return graph


@functools.lru_cache(maxsize=2)
def _load_ontology_cached(mtime: int) -> Graph:
    from crkg.pipeline.ontology import load_ontology

    return load_ontology()

"""Validate instance data against the SHACL shapes (``shapes/crkg-shapes.ttl``).

The shapes are the one source of the data rules (STYLE.md); this module only runs them
and turns pySHACL's validation report (SHACL §3.6) into plain Python objects and a report
a coder can act on: which item, in which source file and line, broke which rule.

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

import functools
import json
import re
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyshacl
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.graph import ReadOnlyGraphAggregate
from rdflib.namespace import RDF, SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Node

from crkg.errors import CrkgError
from crkg.formats import DATASET_FORMATS, GRAPH_FORMATS
from crkg.namespaces import bind_prefixes
from crkg.paths import ONTOLOGY_FILE, SHAPES_DIR

#: The shapes file the build and ``crkg validate`` use by default.
SHAPES_FILE = SHAPES_DIR / "crkg-shapes.ttl"

#: A source location of an item: (file, item key, line). Line may be None.
SourceLocation = tuple[str, str, "int | None"]

_SEVERITY_ORDER = {SH.Violation: 0, SH.Warning: 1, SH.Info: 2}


@dataclass(frozen=True)
class Violation:
    """One result of a SHACL validation report (SHACL §3.6.2)."""

    focus: Node
    path: Node | None
    value: Node | None
    message: str
    severity: URIRef
    component: URIRef
    shape: Node
    #: every sh:resultMessage by language tag ("en", "zh")
    messages: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def severity_name(self) -> str:
        return _local_name(self.severity)

    @property
    def component_name(self) -> str:
        return _local_name(self.component)

    def message_in(self, lang: str = "en") -> str:
        """The message in *lang*, else the English one, else any."""
        return self.messages.get(lang) or self.message

    def as_dict(self) -> dict:
        return {
            "focus": _term_str(self.focus),
            "path": _term_str(self.path),
            "value": _term_str(self.value),
            "message": self.message,
            "messages": dict(self.messages),
            "severity": str(self.severity),
            "component": str(self.component),
            "shape": _term_str(self.shape),
        }


@dataclass
class ValidationResult:
    """The outcome of :func:`validate`: conforms, the violations, the raw report graph."""

    conforms: bool
    violations: list[Violation]
    report_graph: Graph
    #: wall-clock seconds pySHACL took (shapes already loaded)
    seconds: float = 0.0

    def format(
        self,
        source_map: Mapping[Node | str, SourceLocation] | None = None,
        *,
        lang: str = "en",
        graph: Graph | None = None,
    ) -> str:
        """A readable report, one block per focus node, sorted so that diffs stay stable.

        *source_map* maps a focus node (IRI or its string) to ``(file, item key, line)``;
        items found in it are headed ``file:line: item 'key' (curie)`` so the coder can go
        straight to the YAML item; a value found in it (e.g. the duplicated reference slot)
        is located the same way. *lang* picks the message language (``en``, ``zh``).
        *graph* (optional) supplies prefixes to shorten IRIs to CURIEs.
        """
        nm = (graph if graph is not None else bind_prefixes(Graph())).namespace_manager
        if self.conforms and not self.violations:
            return "Conforms: the data satisfies every shape.\n"
        source_map = source_map or {}
        lines: list[str] = []
        n_viol = sum(1 for v in self.violations if v.severity == SH.Violation)
        head = "Does not conform" if not self.conforms else "Conforms (with warnings)"
        lines.append(f"{head}: {n_viol} violation(s), {len(self.violations)} result(s) in all.")
        by_focus: dict[Node, list[Violation]] = {}
        for v in self.violations:
            by_focus.setdefault(v.focus, []).append(v)
        for focus in sorted(by_focus, key=lambda n: (_where(n, source_map), str(n))):
            lines.append("")
            loc = _lookup(focus, source_map)
            if loc is not None:
                file, key, line = loc
                where = f"{_display_path(file)}:{line}" if line else _display_path(file)
                lines.append(f"{where}: item '{key}' ({_short(focus, nm)})")
            else:
                lines.append(f"{_short(focus, nm)}")
            for v in sorted(by_focus[focus], key=_sort_key):
                what = _short(v.path, nm) if v.path is not None else "(the item as a whole)"
                lines.append(f"  {v.severity_name}: {what} [{v.component_name.removesuffix('ConstraintComponent')}]")
                lines.append(f"    {v.message_in(lang)}")
                if v.value is not None and v.value != v.focus:
                    value_loc = _lookup(v.value, source_map) if isinstance(v.value, URIRef) else None
                    at = ""
                    if value_loc is not None:
                        vfile, vkey, vline = value_loc
                        vfile = _display_path(vfile)
                        at = f" (item '{vkey}' at {vfile}:{vline})" if vline else f" (item '{vkey}' in {vfile})"
                    lines.append(f"    value: {_show_value(v.value, nm)}{at}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        return json.dumps(
            {
                "conforms": self.conforms,
                "violations": [v.as_dict() for v in sorted(self.violations, key=_sort_key)],
            },
            ensure_ascii=False,
            indent=2,
        )


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
    violations = _violations(report)
    return ValidationResult(bool(conforms), violations, report, seconds)


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


# --------------------------------------------------------------------------- loading

#: File extension -> rdflib parser name (``crkg validate`` reads RDF only), from the one
#: format registry ``crkg.formats``.
RDF_FILE_FORMATS = {f".{ext}": f.rdflib for f in GRAPH_FORMATS for ext in f.extensions}
_QUAD_FORMATS = {f.rdflib for f in DATASET_FORMATS}


def load_rdf_files(paths) -> tuple[Graph, dict[Node, SourceLocation]]:
    """Parse RDF files (format from the extension) into one graph: the union of their triples
    (a quad file contributes the triples of all its graphs).

    Returns the union and a source map: each subject -> (file, its IRI's last segment,
    None). Raises :class:`CrkgError` for a missing or unreadable file, an unknown
    extension, or a syntax error; the message names the file and, where the parser
    knows it, the line (``file:line: message``).
    """
    union = bind_prefixes(Graph())
    source_map: dict[Node, SourceLocation] = {}
    for path in map(Path, paths):
        graph = parse_rdf_file(path)
        for prefix, ns in graph.namespaces():
            union.bind(prefix, ns, override=False)
        for triple in graph:
            union.add(triple)
        for subject in set(graph.subjects()):
            if isinstance(subject, URIRef) and subject not in source_map:
                source_map[subject] = (str(path), _key_of(subject), None)
    return union, source_map


def parse_rdf_file(path: Path) -> Graph:
    """One RDF file as a graph (for N-Quads/TriG: the union of its graphs)."""
    fmt = RDF_FILE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = " ".join(sorted(RDF_FILE_FORMATS))
        hint = " (a study folder is validated by `crkg build`)" if path.suffix.lower() in (".yaml", ".yml") else ""
        raise CrkgError(f"{path}: not an RDF file I can read{hint}; known extensions: {known}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CrkgError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    target = Dataset() if fmt in _QUAD_FORMATS else Graph()
    try:
        with warnings.catch_warnings():
            # rdflib's own TriG, N-Quads and JSON-LD parsers call rdflib APIs it has
            # deprecated (ConjunctiveGraph, Dataset.default_context): not about the input
            warnings.simplefilter("ignore", DeprecationWarning)
            target.parse(data=data, format=fmt, publicID=path.resolve().as_uri())
    except Exception as exc:  # every rdflib parser has its own exception types
        line = _error_line(exc, data, fmt)
        where = f"{path}:{line}" if line else str(path)
        at = f" (line {line})" if line else ""
        detail = " ".join(str(exc).split())
        raise CrkgError(f"{where}: cannot parse as {fmt}{at}: {detail}") from exc
    if isinstance(target, Dataset):
        graph = Graph()
        for prefix, ns in target.namespaces():
            graph.bind(prefix, ns, override=False)
        for s, p, o, _g in target.quads((None, None, None, None)):
            graph.add((s, p, o))
        return graph
    return target


def _error_line(exc: Exception, data: bytes, fmt: str) -> int | None:
    """The 1-based line of a parse error, from whatever the parser tells."""
    lines = getattr(exc, "lines", None)  # notation3.BadSyntax: 0-based line index
    if isinstance(lines, int):
        return lines + 1
    lineno = getattr(exc, "lineno", None)  # json.JSONDecodeError and friends
    if isinstance(lineno, int):
        return lineno
    get_line = getattr(exc, "getLineNumber", None)  # xml.sax.SAXParseException
    if callable(get_line):
        return get_line()
    if fmt in ("nt", "nquads"):
        return _first_bad_line(data, fmt)
    match = re.search(r"\bline (\d+)", str(exc))
    return int(match.group(1)) if match else None


def _first_bad_line(data: bytes, fmt: str) -> int | None:
    # rdflib's N-Triples/N-Quads errors quote the line but not its number; the formats
    # are line-based, so the first line that does not parse alone is the culprit.
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        probe = Dataset() if fmt == "nquads" else Graph()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                probe.parse(data=line + "\n", format=fmt)
        except Exception:
            return number
    return None


def _key_of(iri: URIRef) -> str:
    return str(iri).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]



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


# --------------------------------------------------------------------------- report


def _violations(report: Graph) -> list[Violation]:
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        messages: dict[str, str] = {}
        for m in sorted(report.objects(result, SH.resultMessage)):
            lang = m.language if isinstance(m, Literal) and m.language else _guess_lang(str(m))
            messages.setdefault(lang, str(m))
        message = messages.get("en") or messages.get("") or next(iter(messages.values()), "")
        path = report.value(result, SH.resultPath)
        if isinstance(path, BNode):  # a complex path (SHACL §2.3.1), as SPARQL path text
            path = Literal(_path_text(report, path))
        out.append(
            Violation(
                focus=report.value(result, SH.focusNode),
                path=path,
                value=report.value(result, SH.value),
                message=message,
                severity=report.value(result, SH.resultSeverity) or SH.Violation,
                component=report.value(result, SH.sourceConstraintComponent),
                shape=report.value(result, SH.sourceShape),
                messages=messages,
            )
        )
    out.sort(key=_sort_key)
    return out


def _guess_lang(text: str) -> str:
    # pySHACL drops the language tag of a SPARQL constraint's message when it fills in
    # {?var}; our messages are English or Chinese, so Han characters tell them apart.
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


def _path_text(g: Graph, node: Node) -> str:
    """A SHACL property path in SPARQL property-path syntax, IRIs written ``<...>``."""
    if isinstance(node, URIRef):
        return f"<{node}>"
    if (node, RDF.first, None) in g:  # a sequence path
        return "/".join(_path_text(g, item) for item in Collection(g, node))
    for predicate, template in _PATH_FORMS.items():
        inner = g.value(node, predicate)
        if inner is None:
            continue
        if predicate == SH.alternativePath:
            return "(" + "|".join(_path_text(g, item) for item in Collection(g, inner)) + ")"
        return template.format(_path_text(g, inner))
    return str(node)


_PATH_FORMS = {
    SH.alternativePath: None,
    SH.inversePath: "^{}",
    SH.zeroOrMorePath: "({})*",
    SH.oneOrMorePath: "({})+",
    SH.zeroOrOnePath: "({})?",
}


def _sort_key(v: Violation):
    return (
        str(v.focus),
        _SEVERITY_ORDER.get(v.severity, 9),
        str(v.path or ""),
        str(v.component),
        str(v.value or ""),
        str(v.shape),
    )


def _local_name(iri: Node | None) -> str:
    s = str(iri or "")
    return s.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _term_str(node: Node | None) -> str | None:
    if node is None:
        return None
    return str(node) if not isinstance(node, Literal) else node.n3()


def _short(node: Node | None, nm) -> str:
    if node is None:
        return ""
    if isinstance(node, URIRef):
        try:
            return nm.normalizeUri(node)
        except Exception:  # rdflib cannot shorten some IRIs; show them whole
            return f"<{node}>"
    if isinstance(node, Literal) and "<" in node:  # a complex path: shorten its IRIs
        return re.sub(r"<([^>]*)>", lambda m: _short(URIRef(m.group(1)), nm), str(node))
    return str(node)


def _show_value(node: Node, nm) -> str:
    if isinstance(node, Literal):
        return node.n3(nm)
    return _short(node, nm)


def _display_path(file) -> str:
    """A source file as the user knows it: relative to the working directory if inside it."""
    path = Path(file)
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            pass
    return str(file)


def _lookup(focus: Node, source_map: Mapping) -> SourceLocation | None:
    loc = source_map.get(focus)
    if loc is None:
        loc = source_map.get(str(focus))
    return loc


def _where(focus: Node, source_map: Mapping) -> tuple:
    loc = _lookup(focus, source_map)
    if loc is None:
        return ("~",)  # unmapped nodes last
    file, key, line = loc
    return (str(file), line or 0, str(key))

"""Reading RDF files for ``crkg validate``: format from the extension, errors with lines.

Every rdflib parser reports errors its own way; :func:`parse_rdf_file` turns them into
one :class:`~crkg.errors.CrkgError` naming ``file:line`` where it can be known.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from rdflib import Dataset, Graph, URIRef
from rdflib.term import Node

from crkg.errors import CrkgError
from crkg.formats import DATASET_FORMATS, GRAPH_FORMATS
from crkg.namespaces import bind_prefixes
from crkg.pipeline.shacl_report import SourceLocation

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

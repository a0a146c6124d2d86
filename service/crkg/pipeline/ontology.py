"""The ontology: load it (version stamped), write its release files, check term use.

``ontology/crkg.ttl`` is the one file humans edit (OBO ODK's "edit file"). It carries no
version: the version lives only in ``pyproject.toml`` (STYLE.md, "one source of truth"),
and :func:`load_ontology` stamps ``owl:versionIRI`` ``https://w3id.org/crkg/ontology/{version}``
and ``owl:versionInfo`` (VOCABULARY.md, "Namespaces") onto the parsed graph.

The release (:func:`write_release`) is ``dist/ontology/crkg.ttl`` (Turtle),
``dist/ontology/crkg.owl`` (RDF/XML, what OWL tools read most widely) and
``dist/ontology/catalog-v001.xml`` (Protégé's XML catalog, so the release opens offline).
The same sources give the same bytes: blank nodes (the ontology's unions, lists,
``owl:AllDifferent`` and ``owl:AllDisjointClasses`` axioms) get content-derived labels
and triples are written in sorted order.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph

from crkg.errors import CrkgError
from crkg.namespaces import CRKG, ONTOLOGY_IRI, OWL, RDF, bind_prefixes
from crkg.paths import ONTOLOGY_FILE, RELEASE_CATALOG, RELEASE_DIR_NAME, RELEASE_RDFXML, RELEASE_TURTLE
from crkg.version import __version__

#: File names of the release, inside ``dist/ontology/`` (stated in ``crkg.paths``).
TURTLE_NAME = RELEASE_TURTLE
RDFXML_NAME = RELEASE_RDFXML
CATALOG_NAME = RELEASE_CATALOG


def version_iri(version: str = __version__) -> URIRef:
    """``https://w3id.org/crkg/ontology/{version}`` (VOCABULARY.md)."""
    return URIRef(f"{ONTOLOGY_IRI}/{version}")


def load_ontology(path: Path | str = ONTOLOGY_FILE, version: str = __version__) -> Graph:
    """Parse the ontology, stamp its version from ``pyproject.toml``, bind the prefixes.

    Raises :class:`CrkgError` naming the file (and rdflib's message, which carries the
    line) when the file is missing or is not valid Turtle.
    """
    path = Path(path)
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except FileNotFoundError as exc:
        raise CrkgError(f"{path}: ontology file not found") from exc
    except Exception as exc:  # rdflib raises several unrelated types for bad syntax
        raise CrkgError(f"{path}: cannot parse the ontology: {exc}") from exc
    ontology = URIRef(ONTOLOGY_IRI)
    if (ontology, RDF.type, OWL.Ontology) not in graph:
        raise CrkgError(f"{path}: no owl:Ontology header <{ONTOLOGY_IRI}>")
    stale = list(graph.objects(ontology, OWL.versionIRI)) + list(graph.objects(ontology, OWL.versionInfo))
    if stale:
        raise CrkgError(
            f"{path}: the source must not carry owl:versionIRI or owl:versionInfo "
            "(they are stamped from pyproject.toml at build)"
        )
    graph.add((ontology, OWL.versionIRI, version_iri(version)))
    graph.add((ontology, OWL.versionInfo, Literal(version)))
    return bind_prefixes(graph)


# --------------------------------------------------------------------------- release


def canonical_graph(graph: Graph) -> Graph:
    """A copy of *graph* whose blank nodes have content-derived (stable) labels and
    whose triples were inserted in sorted order, with the project's prefixes bound.

    Blank nodes must stay blank (OWL 2's RDF mapping requires anonymous class
    expressions and lists to be blank nodes), so they are relabelled, not skolemised.
    """
    out = bind_prefixes(Graph())
    for triple in sorted(to_canonical_graph(graph), key=_triple_key):
        out.add(triple)
    return out


def _triple_key(triple) -> tuple:
    return tuple((type(term).__name__, term.n3()) for term in triple)


def serialize_turtle(graph: Graph) -> bytes:
    """Turtle, sorted (rdflib's Turtle serializer sorts subjects and predicates)."""
    return canonical_graph(graph).serialize(format="turtle", encoding="utf-8")


def serialize_rdfxml(graph: Graph) -> bytes:
    """RDF/XML in the flat, striped form (one ``rdf:Description`` per subject, blank
    nodes as ``rdf:nodeID``, lists as explicit ``rdf:first``/``rdf:rest``), subjects and
    statements in sorted order.

    Written here rather than by rdflib because rdflib's RDF/XML serializers emit
    subjects in an order that changes from run to run (and "pretty-xml" warns on OWL
    lists); the OWL API (Protégé) and owlready2 read this form.
    """
    canonical = canonical_graph(graph)
    prefixes: dict[str, str] = {}
    for prefix, namespace in canonical.namespaces():
        prefixes.setdefault(str(namespace), prefix)

    def qname(predicate: URIRef) -> tuple[str, str]:
        iri = str(predicate)
        for namespace, prefix in sorted(prefixes.items(), key=lambda item: -len(item[0])):
            local = iri[len(namespace):]
            if prefix and iri.startswith(namespace) and _NCNAME.fullmatch(local):
                return prefix, local
        raise CrkgError(f"cannot write {iri} as an RDF/XML property: bind a prefix for its namespace")

    body: list[str] = []
    used: set[str] = {"rdf"}
    # Named subjects first (what a reader looks for), then the anonymous axioms and lists.
    subjects = sorted(set(canonical.subjects()), key=lambda term: (isinstance(term, BNode), str(term)))
    for subject in subjects:
        if isinstance(subject, BNode):
            body.append(f"  <rdf:Description rdf:nodeID={quoteattr(_node_id(subject))}>")
        else:
            body.append(f"  <rdf:Description rdf:about={quoteattr(str(subject))}>")
        for predicate, obj in sorted(canonical.predicate_objects(subject), key=_pair_key):
            prefix, local = qname(predicate)
            used.add(prefix)
            tag = f"{prefix}:{local}"
            if isinstance(obj, BNode):
                body.append(f"    <{tag} rdf:nodeID={quoteattr(_node_id(obj))}/>")
            elif isinstance(obj, URIRef):
                body.append(f"    <{tag} rdf:resource={quoteattr(str(obj))}/>")
            else:
                attrs = ""
                if obj.language:
                    attrs = f" xml:lang={quoteattr(obj.language)}"
                elif obj.datatype is not None:
                    attrs = f" rdf:datatype={quoteattr(str(obj.datatype))}"
                body.append(f"    <{tag}{attrs}>{escape(str(obj))}</{tag}>")
        body.append("  </rdf:Description>")
    declarations = [
        f"    xmlns:{prefix}={quoteattr(namespace)}"
        for namespace, prefix in sorted(prefixes.items(), key=lambda item: item[1])
        if prefix in used
    ]
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<rdf:RDF", *declarations]
    lines[-1] += ">"
    lines += body
    lines.append("</rdf:RDF>")
    return ("\n".join(lines) + "\n").encode("utf-8")


_NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


def _node_id(node: BNode) -> str:
    # Canonical labels are hex digests; an XML NCName must not start with a digit.
    return f"b{node}"


def _pair_key(pair) -> tuple:
    return tuple((type(term).__name__, term.n3()) for term in pair)


def catalog_xml(version: str = __version__, file_name: str = TURTLE_NAME) -> bytes:
    """Protégé's ``catalog-v001.xml`` mapping the ontology IRI and its version IRI to
    *file_name* beside it. crkg has no owl:imports, so this only makes Protégé resolve
    the ontology's own IRIs to the local file instead of the network."""
    rows = [
        ("crkg ontology", ONTOLOGY_IRI),
        (f"crkg ontology {version}", str(version_iri(version))),
    ]
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        '<catalog prefer="public" xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">',
    ]
    lines += [
        f"    <uri id={quoteattr(ident)} name={quoteattr(name)} uri={quoteattr(file_name)}/>"
        for ident, name in rows
    ]
    lines.append("</catalog>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_release(dist_dir: Path | str, ontology: Graph | None = None) -> list[Path]:
    """Write ``{dist_dir}/ontology/crkg.ttl``, ``crkg.owl`` and ``catalog-v001.xml``.

    *ontology* defaults to :func:`load_ontology`. Returns the written paths. The bytes
    depend only on the ontology source and the version.
    """
    graph = load_ontology() if ontology is None else ontology
    out_dir = Path(dist_dir) / RELEASE_DIR_NAME
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        TURTLE_NAME: serialize_turtle(graph),
        RDFXML_NAME: serialize_rdfxml(graph),
        CATALOG_NAME: catalog_xml(_stamped_version(graph)),
    }
    written = []
    for name, data in files.items():
        target = out_dir / name
        target.write_bytes(data)
        written.append(target)
    return written


def _stamped_version(graph: Graph) -> str:
    info = graph.value(URIRef(ONTOLOGY_IRI), OWL.versionInfo)
    return str(info) if info is not None else __version__


# --------------------------------------------------------------------------- term checks


def declared_terms(ontology: Graph) -> set[URIRef]:
    """IRIs the ontology declares: subjects of ``rdf:type`` owl:Class, a property type
    or owl:NamedIndividual, and typed individuals (codebook concepts, the scheme)."""
    return {subject for subject in ontology.subjects(RDF.type) if isinstance(subject, URIRef)}


def crkg_terms(graph: Graph) -> set[URIRef]:
    """Every IRI in the crkg namespace that *graph* mentions, in any position."""
    prefix = str(CRKG)
    return {
        term
        for triple in graph
        for term in triple
        if isinstance(term, URIRef) and str(term).startswith(prefix) and str(term) != prefix
    }


def undeclared_crkg_terms(graph: Graph, ontology: Graph | None = None) -> set[URIRef]:
    """The ``crkg:`` IRIs that *graph* (shapes, a query's parsed algebra turned graph,
    data) uses but *ontology* (default: :func:`load_ontology`) does not declare.

    Brick's rule: an IRI in the project's namespace that is used but not declared is a
    typo or a missing term. An empty set means every crkg term used is declared.
    """
    if ontology is None:
        ontology = load_ontology()
    return crkg_terms(graph) - declared_terms(ontology)


def undeclared_crkg_terms_in_text(text: str, ontology: Graph | None = None) -> set[URIRef]:
    """Like :func:`undeclared_crkg_terms` for SPARQL or other text: finds ``crkg:Name``
    prefixed names and full ``<https://w3id.org/crkg/ontology#Name>`` IRIs."""
    if ontology is None:
        ontology = load_ontology()
    local = r"([A-Za-z_][A-Za-z0-9_\-]*)"
    names = set(re.findall(r"(?<![\w:/#])crkg:" + local, text))
    names |= set(re.findall(re.escape("<" + str(CRKG)) + local + ">", text))
    return {CRKG[name] for name in names} - declared_terms(ontology)


__all__ = [
    "canonical_graph",
    "catalog_xml",
    "crkg_terms",
    "declared_terms",
    "load_ontology",
    "serialize_rdfxml",
    "serialize_turtle",
    "undeclared_crkg_terms",
    "undeclared_crkg_terms_in_text",
    "version_iri",
    "write_release",
]

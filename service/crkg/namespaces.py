"""Every namespace the project uses, and the prefix bindings, in one place.

VOCABULARY.md is the contract for the crkg namespaces; the external ones are the
vocabularies the ontology aligns to. Modules import namespaces from here and never
spell an IRI base themselves.
"""

from __future__ import annotations

from rdflib import Graph, Namespace
# The W3C vocabularies, as rdflib defines them; other modules import them from here.
from rdflib.namespace import DCAT, DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, VOID, XSD

__all__ = [
    "DCAT", "DCTERMS", "OWL", "PROV", "RDF", "RDFS", "SH", "SKOS", "VOID", "XSD",
    "CRKG", "CRKGSH", "ID", "GRAPH", "ONTOLOGY_IRI", "BASE_IRI",
    "ORG", "GEO", "FABIO", "CITO", "VANN", "SD", "FOAF", "SCHEMA", "BIBO", "PRISM", "WD", "WDT", "OA",
    "FORMATS", "CRKG_DATASET", "VOID_DOCUMENT", "ONTOLOGY_GRAPH", "LINKS_GRAPH", "INFERRED_GRAPH", "study_graph",
    "PREFIXES", "PREFIX_IRIS", "bind_prefixes", "sparql_prologue",
]

CRKG = Namespace("https://w3id.org/crkg/ontology#")
CRKGSH = Namespace("https://w3id.org/crkg/shapes#")
ID = Namespace("https://w3id.org/crkg/id/")
GRAPH = Namespace("https://w3id.org/crkg/graph/")

ONTOLOGY_IRI = "https://w3id.org/crkg/ontology"
BASE_IRI = "https://w3id.org/crkg/"

ORG = Namespace("http://www.w3.org/ns/org#")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")
FABIO = Namespace("http://purl.org/spar/fabio/")
CITO = Namespace("http://purl.org/spar/cito/")
VANN = Namespace("http://purl.org/vocab/vann/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
SCHEMA = Namespace("https://schema.org/")
BIBO = Namespace("http://purl.org/ontology/bibo/")
PRISM = Namespace("http://prismstandard.org/namespaces/basic/2.0/")
#: W3C Web Annotation (VOCABULARY.md, "Additions"): passages' sources and selectors
OA = Namespace("http://www.w3.org/ns/oa#")
WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
#: W3C format IRIs (https://www.w3.org/ns/formats/), for sd:resultFormat and void:feature.
FORMATS = Namespace("http://www.w3.org/ns/formats/")

#: The dataset the VoID description at /.well-known/void describes; the linksets name it
#: as their void:subjectsTarget (VoID Note §7.2).
CRKG_DATASET = ID["dataset/crkg"]
#: The VoID document's own IRI.
VOID_DOCUMENT = BASE_IRI + ".well-known/void"

#: Named graphs (VOCABULARY.md, "Namespaces").
ONTOLOGY_GRAPH = GRAPH["ontology"]
LINKS_GRAPH = GRAPH["links"]
INFERRED_GRAPH = GRAPH["inferred"]


def study_graph(study_key: str):
    """The named graph of one study: ``graph/study/{key}``."""
    return GRAPH[f"study/{study_key}"]


PREFIXES: dict[str, Namespace] = {
    "crkg": CRKG,
    "crkgsh": CRKGSH,
    "rdf": Namespace(str(RDF)),
    "rdfs": Namespace(str(RDFS)),
    "owl": Namespace(str(OWL)),
    "xsd": Namespace(str(XSD)),
    "skos": Namespace(str(SKOS)),
    "dcterms": Namespace(str(DCTERMS)),
    "prov": Namespace(str(PROV)),
    "sh": Namespace(str(SH)),
    "org": ORG,
    "geo": GEO,
    "fabio": FABIO,
    "cito": CITO,
    "prism": PRISM,
    "vann": VANN,
    "void": Namespace(str(VOID)),
    "dcat": Namespace(str(DCAT)),
    "sd": SD,
    "foaf": FOAF,
    "wd": WD,
    "wdt": WDT,
}

#: The same bindings as plain strings (pyoxigraph's ``serialize(prefixes=...)``).
PREFIX_IRIS: dict[str, str] = {prefix: str(ns) for prefix, ns in PREFIXES.items()}


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes on *graph* (replacing rdflib's defaults) and return it."""
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True, replace=True)
    return graph


def sparql_prologue() -> str:
    """``PREFIX`` lines for every project prefix, for queries written in Python."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())

"""``write_release``: Turtle, RDF/XML and the catalog, byte-stable across runs, the same
graph in both syntaxes; ``undeclared_crkg_terms`` finds typos."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import xml.dom.minidom

from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF

from crkg.pipeline.ontology import (
    load_ontology,
    undeclared_crkg_terms,
    undeclared_crkg_terms_in_text,
    version_iri,
    write_release,
)
from crkg.namespaces import CRKG
from crkg.paths import ONTOLOGY_DIR
from crkg.version import __version__

_DIGESTS = """
import hashlib, sys
from crkg.pipeline.ontology import write_release
for path in write_release(sys.argv[1]):
    print(path.name, hashlib.sha256(path.read_bytes()).hexdigest())
"""


def test_release_files_and_content(tmp_path):
    written = write_release(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "ontology/catalog-v001.xml",
        "ontology/crkg.owl",
        "ontology/crkg.ttl",
    ]
    source = load_ontology()
    turtle = Graph().parse(tmp_path / "ontology" / "crkg.ttl", format="turtle")
    rdfxml = Graph().parse(tmp_path / "ontology" / "crkg.owl", format="xml")
    assert isomorphic(turtle, source)
    assert isomorphic(rdfxml, source)
    assert (URIRef("https://w3id.org/crkg/ontology"), OWL.versionIRI, version_iri()) in rdfxml
    assert (URIRef("https://w3id.org/crkg/ontology"), OWL.versionInfo, Literal(__version__)) in turtle


def test_release_bytes_do_not_depend_on_the_process(tmp_path):
    """Two processes with different hash seeds write identical bytes (blank nodes get
    content-derived labels; subjects and statements are sorted)."""
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        target = tmp_path / seed
        result = subprocess.run(
            [sys.executable, "-c", _DIGESTS, str(target)], env=env, capture_output=True, text=True, check=True
        )
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count("\n") == 3


def test_release_is_stable_within_a_process(tmp_path):
    first = [hashlib.sha256(p.read_bytes()).digest() for p in write_release(tmp_path / "a")]
    second = [hashlib.sha256(p.read_bytes()).digest() for p in write_release(tmp_path / "b")]
    assert first == second


def test_catalogs_map_the_ontology_iri_to_a_local_file(tmp_path):
    write_release(tmp_path)
    for path, expected in (
        (tmp_path / "ontology" / "catalog-v001.xml", {"https://w3id.org/crkg/ontology", str(version_iri())}),
        (ONTOLOGY_DIR / "catalog-v001.xml", {"https://w3id.org/crkg/ontology"}),
    ):
        doc = xml.dom.minidom.parse(str(path))
        rows = {(e.getAttribute("name"), e.getAttribute("uri")) for e in doc.getElementsByTagName("uri")}
        assert {name for name, _ in rows} == expected
        for _, uri in rows:
            assert (path.parent / uri).name == "crkg.ttl"
        assert (ONTOLOGY_DIR / "crkg.ttl").is_file()


def test_rdfxml_release_loads_in_owlready2(tmp_path):
    """What Protégé-like OWL tools read: owlready2 parses the RDF/XML and finds the terms."""
    import owlready2

    write_release(tmp_path)
    world = owlready2.World()
    try:
        world.get_ontology((tmp_path / "ontology" / "crkg.owl").as_uri()).load()
        assert world[str(CRKG.Intervention)] is not None
        assert world[str(CRKG.inCommunity)] is not None
        assert world[str(CRKG.TrustScopeExpansion)] is not None
    finally:
        world.close()


def test_undeclared_crkg_terms_finds_typos_in_any_position():
    onto = load_ontology()
    data = Graph()
    ex = URIRef("https://w3id.org/crkg/id/intervention/s/x")
    data.add((ex, RDF.type, CRKG.Intervention))
    data.add((ex, CRKG.usesMode, CRKG.TrustScopeExpansion))
    assert undeclared_crkg_terms(data, onto) == set()
    data.add((ex, RDF.type, CRKG.Intervension))
    data.add((ex, CRKG.performedby, ex))
    data.add((ex, CRKG.usesMode, CRKG.TrustScopeExpanse))
    assert undeclared_crkg_terms(data, onto) == {CRKG.Intervension, CRKG.performedby, CRKG.TrustScopeExpanse}


def test_undeclared_crkg_terms_in_sparql_text():
    onto = load_ontology()
    query = """PREFIX crkg: <https://w3id.org/crkg/ontology#>
    SELECT * WHERE { ?i a crkg:Intervention ; crkg:usesMode ?m ; crkg:inComunity ?c ;
                     <https://w3id.org/crkg/ontology#perfomedBy> ?a . }"""
    assert undeclared_crkg_terms_in_text(query, onto) == {CRKG.inComunity, CRKG.perfomedBy}

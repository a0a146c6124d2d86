"""Prototype: the build's OWL 2 RL step as a few SPARQL rules run by Oxigraph.

Why: ``crkg.pipeline.reason.materialise`` runs owlrl's full OWL 2 RL closure in pure
Python over ontology + all data. The benchmark measured it as the step that keeps the
build from scaling (tens of seconds at 1e4 triples, growing faster than linearly). The
ontology is fixed and small; what the data needs from it is a handful of OWL 2 RL rules
(W3C OWL 2 Profiles, section 4.3, tables 4-9) whose schema side is known up front:

* cax-sco (subclasses), prp-dom / prp-rng (domains, ranges), prp-spo1 (sub-properties),
  prp-inv1/2 (inverses), prp-spo2 (property chains of length 2), prp-trp (transitive);
* cls-uni is only needed to type instances with anonymous union classes, which the
  build drops as noise anyway.

The schema closure (subClassOf*, subPropertyOf*) is done by SPARQL property paths; the
data rules are ``INSERT ... WHERE`` updates repeated until nothing is added (chains can
feed sub-properties, which feed domains ...). The result is then filtered exactly as
``materialise`` filters owlrl's (minus asserted, minus ``_is_noise``) and compared with it:

    python -m bench.prototypes.rules_reason bench/out/data-1e4

prints both times and the set difference. This is a measurement aid for FINDINGS.md,
not part of the build.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pyoxigraph as ox

RULES = [
    # scm-sco, scm-spo: the schema's own closure (owlrl reports it too)
    """INSERT { ?c rdfs:subClassOf ?e } WHERE { ?c rdfs:subClassOf ?d . ?d rdfs:subClassOf ?e . FILTER(isIRI(?c) && isIRI(?e)) }""",
    """INSERT { ?p rdfs:subPropertyOf ?r } WHERE { ?p rdfs:subPropertyOf ?q . ?q rdfs:subPropertyOf ?r . }""",
    # prp-spo1 with the closure of subPropertyOf
    """INSERT { ?x ?q ?y } WHERE { ?p rdfs:subPropertyOf+ ?q . FILTER(isIRI(?q)) ?x ?p ?y . }""",
    # prp-inv1 / prp-inv2
    """INSERT { ?y ?q ?x } WHERE { ?p owl:inverseOf ?q . ?x ?p ?y . FILTER(!isLiteral(?y)) }""",
    """INSERT { ?y ?p ?x } WHERE { ?p owl:inverseOf ?q . ?x ?q ?y . FILTER(!isLiteral(?y)) }""",
    # prp-spo2 for chains of two properties
    """INSERT { ?x ?p ?z } WHERE {
         ?p owl:propertyChainAxiom ?l . ?l rdf:first ?p1 ; rdf:rest ?r . ?r rdf:first ?p2 ; rdf:rest rdf:nil .
         ?x ?p1 ?y . ?y ?p2 ?z . }""",
    # prp-trp
    """INSERT { ?x ?p ?z } WHERE { ?p a owl:TransitiveProperty . ?x ?p ?y . ?y ?p ?z . }""",
    # prp-dom, prp-rng
    """INSERT { ?x a ?c } WHERE { ?p rdfs:domain ?c . FILTER(isIRI(?c)) ?x ?p ?y . }""",
    """INSERT { ?y a ?c } WHERE { ?p rdfs:range ?c . FILTER(isIRI(?c)) ?x ?p ?y . FILTER(!isLiteral(?y)) }""",
    # cax-sco with the closure of subClassOf
    """INSERT { ?x a ?d } WHERE { ?c rdfs:subClassOf+ ?d . FILTER(isIRI(?d)) ?x a ?c . }""",
]
PROLOGUE = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""


def closure(ontology_nt: bytes, data_nt: bytes) -> tuple[ox.Store, int]:
    store = ox.Store()  # in memory
    store.bulk_load(ontology_nt, format=ox.RdfFormat.N_TRIPLES)
    store.bulk_load(data_nt, format=ox.RdfFormat.N_TRIPLES)
    rounds = 0
    size = len(store)
    while True:
        rounds += 1
        for rule in RULES:
            store.update(PROLOGUE + rule)
        new = len(store)
        if new == size:
            return store, rounds
        size = new


def materialise_rules(ontology, data):
    """Same contract as crkg.pipeline.reason.materialise (without its error checks)."""
    from rdflib import Graph, Literal, URIRef, BNode

    from crkg.pipeline.reason import _is_noise

    asserted = Graph()
    asserted += ontology
    asserted += data
    onto_nt = ontology.serialize(format="nt", encoding="utf-8")
    data_nt = data.serialize(format="nt", encoding="utf-8")
    t0 = time.perf_counter()
    store, rounds = closure(onto_nt, data_nt)
    print(f"  closure by SPARQL rules in Oxigraph: {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    asserted_nt = {str(t) for t in ox.parse(onto_nt, format=ox.RdfFormat.N_TRIPLES)}
    asserted_nt |= {str(t) for t in ox.parse(data_nt, format=ox.RdfFormat.N_TRIPLES)}
    inferred = Graph()
    for q in store:
        t = q.triple
        nt = str(t)
        if nt in asserted_nt:
            continue
        # the store keeps "n"^^xsd:positiveInteger as xsd:integer (FINDINGS.md, finding 6):
        # that is the asserted triple, not an inference
        if nt.endswith("XMLSchema#integer>") and nt[:-len("integer>")] + "positiveInteger>" in asserted_nt:
            continue
        triple = (_to_rdflib(t.subject), _to_rdflib(t.predicate), _to_rdflib(t.object))
        if _is_noise(triple):
            continue
        inferred.add(triple)
    return inferred, rounds


def _to_rdflib(term):
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
        return Literal(term.value)  # rdflib keeps simple literals untyped
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def main(argv=None) -> int:
    from rdflib import Graph

    from crkg.pipeline.ontology import load_ontology
    from crkg.pipeline.reason import materialise
    from crkg.pipeline.studies import discover_studies, load_study

    argv = sys.argv[1:] if argv is None else argv
    data_dir = Path(argv[0])
    skip_owlrl = "--no-owlrl" in argv
    ontology = load_ontology()
    data = Graph()
    for f in discover_studies(data_dir / "studies"):
        data += load_study(f).graph
    t0 = time.perf_counter()
    fast, rounds = materialise_rules(ontology, data)
    t_rules = time.perf_counter() - t0
    print(f"data {len(data)} triples; rules: {len(fast)} inferred in {t_rules:.2f} s ({rounds} rounds)")
    if skip_owlrl:
        return 0
    t0 = time.perf_counter()
    slow = materialise(ontology, data)
    t_owlrl = time.perf_counter() - t0
    print(f"owlrl: {len(slow)} inferred in {t_owlrl:.2f} s")
    only_owlrl = set(slow) - set(fast)
    only_rules = set(fast) - set(slow)
    print(f"only owlrl: {len(only_owlrl)}; only rules: {len(only_rules)}")
    for t in sorted(only_owlrl)[:15]:
        print("  owlrl only:", t)
    for t in sorted(only_rules)[:15]:
        print("  rules only:", t)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Prototype: the project's SHACL shapes run set-at-a-time as SPARQL in Oxigraph.

Why (FINDINGS.md, finding 10): pyshacl validates node by node in Python; one ordinary study
(~2,500 triples) takes 0.3–0.7 s against a target of < 100 ms. Every constraint component
``shapes/crkg-shapes.ttl`` uses is a set operation SPARQL does in one query over all focus
nodes at once: minCount/maxCount (GROUP BY), class (NOT EXISTS ?v a/rdfs:subClassOf*),
datatype, pattern, uniqueLang, nodeKind, min/maxInclusive, disjoint, qualified language
counts, ``sh:or`` of minCounts, ``sh:not`` of a class, and the one ``sh:sparql``
constraint. This compiles each (node shape, property shape, component) into one SELECT
of violating (focus, value) pairs, loads ontology + study into an in-memory
``pyoxigraph.Store``, runs them, and compares the violations with pyshacl's report.

    python -m bench.prototypes.shacl_sparql [STUDY_FOLDER ...]

(default: the shipped study, and a broken copy of it with injected errors) prints the
time of both validators and whether they found the same (focus, path, component) triples.
A measurement aid, not a validator: unsupported constructs are counted and reported.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH

PRE = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX crkg: <https://w3id.org/crkg/ontology#>
"""


def _t(node) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        return node.n3()
    raise ValueError(node)


def _path(shapes: Graph, path) -> str:
    if isinstance(path, URIRef):
        return f"<{path}>"
    alt = shapes.value(path, SH.alternativePath)
    if alt is not None:
        return "(" + "|".join(_path(shapes, p) for p in Collection(shapes, alt)) + ")"
    inv = shapes.value(path, SH.inversePath)
    if inv is not None:
        return "^" + _path(shapes, inv)
    raise ValueError(f"unsupported path {path}")


def _targets(shapes: Graph, node) -> str | None:
    parts = []
    for c in shapes.objects(node, SH.targetClass):
        parts.append(f"{{ ?this rdf:type/rdfs:subClassOf* <{c}> }}")
    for p in shapes.objects(node, SH.targetSubjectsOf):
        parts.append(f"{{ ?this <{p}> [] }}")
    if (node, RDF.type, RDFS.Class) in shapes:
        parts.append(f"{{ ?this rdf:type/rdfs:subClassOf* <{node}> }}")
    if not parts:
        return None
    return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(parts) + " } }"


def compile_shapes(shapes: Graph) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """[(shape id, path text, component, SELECT ?this ?value)], [unsupported]."""
    queries, unsupported = [], []
    for node in set(shapes.subjects(RDF.type, SH.NodeShape)):
        target = _targets(shapes, node)
        if target is None:
            continue
        for prop in shapes.objects(node, SH.property):
            p = _path(shapes, shapes.value(prop, SH.path))
            pname = str(shapes.value(prop, SH.path)) if isinstance(shapes.value(prop, SH.path), URIRef) else p
            sid = str(prop)

            def add(component, where):
                queries.append((sid, pname, component, f"SELECT ?this ?value WHERE {{ {target} {where} }}"))

            for pred, obj in shapes.predicate_objects(prop):
                if pred == SH.minCount:
                    add("MinCount", f"FILTER NOT EXISTS {{ SELECT ?this WHERE {{ ?this {p} ?v }} GROUP BY ?this HAVING (COUNT(DISTINCT ?v) >= {int(obj)}) }}" if int(obj) > 1
                        else f"FILTER NOT EXISTS {{ ?this {p} ?v }}")
                elif pred == SH.maxCount:
                    add("MaxCount", f"{{ SELECT ?this WHERE {{ ?this {p} ?v }} GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {int(obj)}) }}")
                elif pred == SH["class"]:
                    add("Class", f"?this {p} ?value . FILTER NOT EXISTS {{ ?value rdf:type/rdfs:subClassOf* <{obj}> }}")
                elif pred == SH.datatype:
                    if str(obj).endswith("#positiveInteger"):
                        # the Oxigraph store keeps "n"^^xsd:positiveInteger as xsd:integer (finding 6)
                        add("Datatype", f"?this {p} ?value . FILTER (!isLiteral(?value) || datatype(?value) NOT IN (xsd:integer, xsd:positiveInteger) || ?value < 1)")
                    elif obj == RDF.langString:
                        add("Datatype", f"?this {p} ?value . FILTER (!isLiteral(?value) || lang(?value) = '')")
                    else:
                        add("Datatype", f"?this {p} ?value . FILTER (!isLiteral(?value) || datatype(?value) != <{obj}> || lang(?value) != '')")
                elif pred == SH.pattern:
                    add("Pattern", f"?this {p} ?value . FILTER (isBlank(?value) || !REGEX(STR(?value), {_t(obj)}))")
                elif pred == SH.uniqueLang and obj.toPython():
                    add("UniqueLang", f"?this {p} ?a , ?b . FILTER (?a != ?b && lang(?a) != '' && lang(?a) = lang(?b)) BIND (?a AS ?value)")
                elif pred == SH.nodeKind:
                    test = {"IRI": "!isIRI(?value)", "BlankNode": "!isBlank(?value)", "Literal": "!isLiteral(?value)",
                            "BlankNodeOrIRI": "isLiteral(?value)"}.get(str(obj).rsplit("#", 1)[-1])
                    if test is None:
                        unsupported.append(f"{sid} nodeKind {obj}")
                    else:
                        add("NodeKind", f"?this {p} ?value . FILTER ({test})")
                elif pred in (SH.minInclusive, SH.maxInclusive):
                    op = "<" if pred == SH.minInclusive else ">"
                    add(str(pred).rsplit("#")[-1][0].upper() + str(pred).rsplit("#")[-1][1:],
                        f"?this {p} ?value . FILTER (!(?value {'>=' if op == '<' else '<='} {_t(obj)}))")
                elif pred == SH.disjoint:
                    add("Disjoint", f"?this {p} ?value . ?this <{obj}> ?value .")
                elif pred == SH.qualifiedValueShape:
                    langs = shapes.value(obj, SH.languageIn)
                    n = shapes.value(prop, SH.qualifiedMinCount)
                    if langs is None or n is None:
                        unsupported.append(f"{sid} qualifiedValueShape")
                        continue
                    tags = ", ".join(f'"{x}"' for x in Collection(shapes, langs))
                    add("QualifiedMinCount",
                        f"FILTER NOT EXISTS {{ ?this {p} ?v . FILTER (lang(?v) IN ({tags})) }}" if int(n) == 1
                        else f"FILTER NOT EXISTS {{ SELECT ?this WHERE {{ ?this {p} ?v FILTER (lang(?v) IN ({tags})) }} GROUP BY ?this HAVING (COUNT(?v) >= {int(n)}) }}")
                elif pred in (SH.path, SH.message, RDF.type, SH.name, SH.description, SH.severity,
                              SH.qualifiedMinCount, RDFS.comment, SH.order, SH.group):
                    continue
                else:
                    unsupported.append(f"{sid} {pred}")
        for lst in shapes.objects(node, SH["or"]):
            alts = []
            for member in Collection(shapes, lst):
                mp = shapes.value(member, SH.path)
                if mp is None or shapes.value(member, SH.minCount) is None:
                    unsupported.append(f"{node} sh:or member")
                    break
                alts.append(f"{{ ?this {_path(shapes, mp)} ?v }}")
            else:
                queries.append((str(node), "", "Or", f"SELECT ?this ?value WHERE {{ {target} FILTER NOT EXISTS {{ {' UNION '.join(alts)} }} }}"))
        for neg in shapes.objects(node, SH["not"]):
            c = shapes.value(neg, SH["class"])
            if c is None:
                unsupported.append(f"{node} sh:not")
                continue
            queries.append((str(node), "", "Not", f"SELECT ?this ?value WHERE {{ {target} ?this rdf:type/rdfs:subClassOf* <{c}> }}"))
        for sparql in shapes.objects(node, SH.sparql):
            select = str(shapes.value(sparql, SH.select)).replace("$this", "?this")
            queries.append((str(node), "", "SPARQL", f"SELECT ?this ?value WHERE {{ {target} {{ {select} }} }}"))
    return queries, unsupported


def run_sparql(store_nt: bytes, queries) -> set[tuple[str, str, str]]:
    store = ox.Store()
    store.bulk_load(store_nt, format=ox.RdfFormat.N_TRIPLES)
    found = set()
    for sid, pname, component, q in queries:
        for row in store.query(PRE + q):
            found.add((row["this"].value, pname, component))
    return found


def pyshacl_set(report_graph) -> set[tuple[str, str, str]]:
    out = set()
    for r in report_graph.subjects(RDF.type, SH.ValidationResult):
        focus = str(report_graph.value(r, SH.focusNode))
        path = report_graph.value(r, SH.resultPath)
        comp = str(report_graph.value(r, SH.sourceConstraintComponent)).rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
        pname = str(path) if isinstance(path, URIRef) else ""
        if isinstance(path, BNode):
            pname = "(alt)"
        out.add((focus, pname, comp))
    return out


def main(argv=None) -> int:
    import pyshacl

    from crkg.pipeline.ontology import load_ontology
    from crkg.pipeline.studies import load_study
    from crkg.pipeline.validate import load_shapes, validate
    from crkg.paths import STUDIES_DIR

    argv = sys.argv[1:] if argv is None else argv
    folders = [Path(a) for a in argv] or sorted(p for p in STUDIES_DIR.iterdir() if (p / "study.yaml").is_file())
    ontology = load_ontology()
    shapes = load_shapes()
    t0 = time.perf_counter()
    queries, unsupported = compile_shapes(shapes)
    print(f"{len(queries)} SPARQL checks compiled in {(time.perf_counter() - t0) * 1000:.0f} ms; "
          f"unsupported: {unsupported or 'none'}")
    onto_nt = ontology.serialize(format="nt", encoding="utf-8")
    for folder in folders:
        study = load_study(folder)
        variants = [("as coded", study.graph)]
        broken = Graph()
        broken += study.graph
        # inject: drop every English label of interventions, give a quote a second speaker,
        # and a locator that breaks the pattern
        crkg = "https://w3id.org/crkg/ontology#"
        ivs = list(broken.subjects(RDF.type, URIRef(crkg + "Intervention")))[:5]
        for iv in ivs:
            for lab in list(broken.objects(iv, RDFS.label)):
                if lab.language == "en":
                    broken.remove((iv, RDFS.label, lab))
            broken.set((iv, URIRef(crkg + "locator"), Literal("第三节")))
        q = next(broken.subjects(RDF.type, URIRef(crkg + "Quote")))
        broken.add((q, URIRef(crkg + "saidBy"), URIRef("https://w3id.org/crkg/id/actor/x/nobody")))
        variants.append(("with injected errors", broken))
        for name, g in variants:
            times = []
            for _ in range(3):
                t = time.perf_counter()
                result = validate(g, ontology=ontology)
                times.append(time.perf_counter() - t)
            ref = pyshacl.validate(g, shacl_graph=shapes, ont_graph=None, inference="none",
                                   data_graph_format=None)  # the report graph for comparison
            # crkg's validate() uses the ontology as part of the data; do the same here
            union = Graph()
            union += g
            union += ontology
            ref = pyshacl.validate(union, shacl_graph=shapes, inference="none")[1]
            expected = {v for v in pyshacl_set(ref) if not v[0].startswith("https://w3id.org/crkg/ontology")}
            data_nt = g.serialize(format="nt", encoding="utf-8")
            stimes = []
            for _ in range(5):
                t = time.perf_counter()
                found = run_sparql(onto_nt + data_nt, queries)
                stimes.append(time.perf_counter() - t)
            found = {v for v in found if not v[0].startswith("https://w3id.org/crkg/ontology")}
            # pyshacl reports alternative paths as blank nodes; compare those by component only
            exp = {(f, p if p != "(alt)" else "", c) for f, p, c in expected}
            fnd = {(f, p if not p.startswith("(") else "", c) for f, p, c in found}
            print(f"{folder.name} {name}: {len(g)} triples; crkg validate (pyshacl) "
                  f"{statistics.median(times) * 1000:.0f} ms, conforms={result.conforms}; "
                  f"SPARQL {statistics.median(stimes) * 1000:.0f} ms (load + {len(queries)} queries); "
                  f"violations pyshacl {len(exp)}, SPARQL {len(fnd)}, same: {exp == fnd}")
            for v in sorted(exp - fnd)[:8]:
                print("   only pyshacl:", v)
            for v in sorted(fnd - exp)[:8]:
                print("   only SPARQL:", v)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The SHACL shapes run as SPARQL (``crkg.pipeline.shacl_sparql``) next to pySHACL.

Once the prototype of FINDINGS.md finding 10, now the build's first validation pass
(finding 17); this script keeps the measurement: for each study folder (default: the
shipped study), as coded and with injected errors (English labels dropped, a locator that
breaks the pattern, a second speaker), the time of both validators and whether they find
the same results as (focus, source shape, component).

    python -m bench.prototypes.shacl_sparql [STUDY_FOLDER ...]

The equality on every example pair is a test (``tests/shapes/test_shacl_sparql.py``).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

CRKG = "https://w3id.org/crkg/ontology#"


def _broken(graph: Graph) -> Graph:
    broken = Graph()
    broken += graph
    for iv in list(broken.subjects(RDF.type, URIRef(CRKG + "Intervention")))[:5]:
        for label in list(broken.objects(iv, RDFS.label)):
            if label.language == "en":
                broken.remove((iv, RDFS.label, label))
        broken.set((iv, URIRef(CRKG + "locator"), Literal("第三节")))
    quote = next(broken.subjects(RDF.type, URIRef(CRKG + "Quote")), None)
    if quote is not None:
        broken.add((quote, URIRef(CRKG + "saidBy"), URIRef("https://w3id.org/crkg/id/actor/x/nobody")))
    return broken


def main(argv=None) -> int:
    from crkg.paths import STUDIES_DIR
    from crkg.pipeline.ontology import load_ontology
    from crkg.pipeline.shacl_sparql import compile_shapes, quick_results
    from crkg.pipeline.studies import discover_studies, load_study
    from crkg.pipeline.validate import load_shapes, validate

    argv = sys.argv[1:] if argv is None else argv
    folders = [Path(a) for a in argv] or discover_studies(STUDIES_DIR)
    ontology, shapes = load_ontology(), load_shapes()
    compiled = compile_shapes(shapes)
    print(f"{len(compiled.checks)} SPARQL checks, {len(compiled.line_checks)} line checks; "
          f"unsupported: {compiled.unsupported or 'none'}")
    onto_nt = ontology.serialize(format="nt", encoding="utf-8")
    for folder in folders:
        study = load_study(folder)
        for name, graph in (("as coded", study.graph), ("with injected errors", _broken(study.graph))):
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                result = validate(graph, ontology=ontology)
                times.append(time.perf_counter() - t0)
            expected = {(str(v.focus), str(v.shape), str(v.component).rsplit("#", 1)[-1]) for v in result.violations}
            data_nt = graph.serialize(format="nt", encoding="utf-8")
            quick = []
            for _ in range(5):
                t0 = time.perf_counter()
                found = quick_results(data_nt, onto_nt, shapes)
                quick.append(time.perf_counter() - t0)
            print(f"{folder.name} {name}: {len(graph)} triples; pySHACL {statistics.median(times) * 1000:.0f} ms, "
                  f"SPARQL {statistics.median(quick) * 1000:.0f} ms; results {len(expected)} / "
                  f"{len(found or ())}, same: {found == expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

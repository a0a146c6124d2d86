"""The Linked Data page query, branch by branch, and the FILTER-IN rewrite (finding 1).

    python -m bench.prototypes.page_query STORE IRI [IRI ...]

Times ``crkg.web.resource_pages.describe_query(iri)`` on the store as it is and rewritten
(``VALUES`` of predicates → ``FILTER (?p IN (...))``), checks both give the same triples,
and times each UNION branch of the original on its own.
"""

from __future__ import annotations

import re
import sys
import time


def rewrite(q: str) -> str:
    q2 = q.replace("VALUES ?ep { rdf:type crkg:text crkg:locator crkg:saidBy }\n", "")
    q2 = q2.replace("GRAPH ?eg { ?e ?ep ?ev } FILTER (?eg != ",
                    "GRAPH ?eg { ?e ?ep ?ev } FILTER (?ep IN (rdf:type, crkg:text, crkg:locator, crkg:saidBy) && ?eg != ")
    return re.sub(r"OPTIONAL \{ VALUES \?(\w+) \{ ([^}]*) \} (\?\w+) \?\1 (\?\w+) \}",
                  lambda m: "OPTIONAL { %s ?%s %s FILTER (?%s IN (%s)) }" % (
                      m.group(3), m.group(1), m.group(4), m.group(1), ", ".join(m.group(2).split())), q2)


def main(argv=None) -> int:
    import pyoxigraph as ox

    from crkg.web.resource_pages import describe_query

    argv = sys.argv[1:] if argv is None else argv
    store = ox.Store.read_only(argv[0])
    for iri in argv[1:]:
        q = describe_query(iri)
        results = {}
        for name, qq in (("as is", q), ("FILTER IN", rewrite(q))):
            t = time.perf_counter()
            results[name] = sorted(str(x) for x in store.query(qq, use_default_graph_as_union=True))
            print(f"{iri}: {name}: {len(results[name])} triples in {(time.perf_counter() - t) * 1000:.1f} ms")
        print(f"  same triples: {results['as is'] == results['FILTER IN']}")
        where = q[q.index("WHERE {") + 7: q.rindex("}")]
        prologue = q[:q.index("CONSTRUCT")]
        for k, part in enumerate(re.split(r"\n  UNION\n", where.strip())):
            sub = prologue + "SELECT (COUNT(*) AS ?n) WHERE {\n" + part + "\n}"
            t = time.perf_counter()
            n = list(store.query(sub, use_default_graph_as_union=True))[0]["n"].value
            print(f"  branch {k}: {n} rows in {(time.perf_counter() - t) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

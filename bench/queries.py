"""The queries and requests of the benchmark: the competency questions, the aggregation,
small lookups and Linked Data pages."""

from __future__ import annotations

from pathlib import Path

from bench.measure import JSON, TURTLE, Request

PREFIXES = """\
PREFIX crkg: <https://w3id.org/crkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""

#: Issue 6 (b): intervention → goal counts, with evidence counts.
AGGREGATION = PREFIXES + """\
SELECT ?goal (COUNT(DISTINCT ?intervention) AS ?interventions) (COUNT(DISTINCT ?evidence) AS ?evidence)
WHERE {
  ?intervention a crkg:Intervention ;
                crkg:contributesTo ?goal .
  OPTIONAL { ?intervention crkg:hasEvidence ?evidence }
}
GROUP BY ?goal
ORDER BY DESC(?interventions) ?goal
"""

#: A second aggregation over the whole graph: interventions per mode and phase.
MODE_PHASE = PREFIXES + """\
SELECT ?mode ?phase (COUNT(?intervention) AS ?n)
WHERE {
  ?intervention crkg:usesMode ?mode ;
                crkg:inPhase ?phase .
}
GROUP BY ?mode ?phase
ORDER BY ?mode ?phase
"""

ID_BASE = "https://w3id.org/crkg/id/"


def competency_queries(queries_dir: Path) -> list[Request]:
    """Every ``queries/cq/*.rq`` (whatever exists when the benchmark runs)."""
    cq = sorted(Path(queries_dir).glob("cq/*.rq"))
    return [Request(f"cq/{p.stem}", query=p.read_text(encoding="utf-8"), accept=JSON) for p in cq]


def latency_queries(queries_dir: Path, samples: dict) -> list[Request]:
    out = competency_queries(queries_dir)
    out.append(Request("aggregation: goal counts with evidence", query=AGGREGATION))
    out.append(Request("aggregation: mode x phase", query=MODE_PHASE))
    if samples.get("interventions"):
        out.append(Request("lookup: one intervention", query=lookup(samples["interventions"][0])))
        out.append(Request("page: one intervention", path="/id/" + samples["interventions"][0],
                           accept=TURTLE))
    return out


def lookup(path: str) -> str:
    return f"SELECT ?p ?o WHERE {{ <{ID_BASE}{path}> ?p ?o }}"


def lookup_requests(samples: dict, n: int = 200) -> list[Request]:
    """Small lookups: every property of one resource, and one resource's labels."""
    paths = _mix(samples, n)
    out = []
    for i, p in enumerate(paths):
        if i % 2:
            q = PREFIXES + f"SELECT ?label WHERE {{ <{ID_BASE}{p}> rdfs:label ?label }}"
        else:
            q = lookup(p)
        out.append(Request("lookup", query=q))
    return out


def page_requests(samples: dict, n: int = 200) -> list[Request]:
    """Linked Data pages of resources, as an RDF client asks for them (Turtle)."""
    return [Request("page", path="/id/" + p, accept=TURTLE) for p in _mix(samples, n)]


def _mix(samples: dict, n: int) -> list[str]:
    kinds = [k for k in ("interventions", "quotes", "communities", "actors") if samples.get(k)]
    out, i = [], 0
    while len(out) < n and kinds:
        k = kinds[i % len(kinds)]
        lst = samples[k]
        out.append(lst[(i // len(kinds)) % len(lst)])
        i += 1
    return out

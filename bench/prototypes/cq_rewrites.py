"""Two competency questions that Oxigraph 0.5 runs slowly at 1e6, and rewrites with the
same answers (FINDINGS.md, finding 13).

    python -m bench.prototypes.cq_rewrites STORE

STORE: a store with the shipped study among 1e6 generated triples
(``python -m bench --stages build --sizes 1e6 --no-reason --with-shipped``).
"""
import sys
import time

import pyoxigraph as ox

s = ox.Store.read_only(sys.argv[1])
P = "PREFIX crkg: <https://w3id.org/crkg/ontology#>\n"
X = "<https://w3id.org/crkg/id/study/xu-chen-shanghai>"
orig = open("queries/cq/ambiguous-pseudonyms.rq").read()
v1 = P + f"""SELECT DISTINCT ?pseudonym ?place ?kind WHERE {{
  ?case crkg:inStudy {X} ; crkg:aboutCommunity|crkg:aboutArea ?place .
  ?place crkg:pseudonym ?pseudonym ; a ?kind .
  FILTER (?kind IN (crkg:Community, crkg:Subdistrict))
  FILTER EXISTS {{
    ?other crkg:pseudonym ?pseudonym .
    FILTER (?other != ?place)
    ?other a ?otherKind . FILTER (?otherKind IN (crkg:Community, crkg:Subdistrict))
    {{ ?otherCase crkg:aboutCommunity ?other }} UNION {{ ?otherCase crkg:aboutArea ?other }}
    ?otherCase crkg:inStudy {X} .
  }}
}} ORDER BY ?pseudonym ?place"""
v2 = P + f"""SELECT DISTINCT ?pseudonym ?place ?kind WHERE {{
  {{ SELECT DISTINCT ?place WHERE {{ ?case crkg:inStudy {X} ; crkg:aboutCommunity|crkg:aboutArea ?place . }} }}
  ?place crkg:pseudonym ?pseudonym ; a ?kind .
  FILTER (?kind IN (crkg:Community, crkg:Subdistrict))
  {{ SELECT DISTINCT ?other WHERE {{ ?otherCase crkg:inStudy {X} ; crkg:aboutCommunity|crkg:aboutArea ?other . }} }}
  ?other crkg:pseudonym ?pseudonym ; a ?otherKind .
  FILTER (?other != ?place && ?otherKind IN (crkg:Community, crkg:Subdistrict))
}} ORDER BY ?pseudonym ?place"""
for name, q in (("original", orig), ("EXISTS reordered", v1), ("two subqueries", v2)):
    t = time.perf_counter(); r = [tuple(str(x) for x in row) for row in s.query(q, use_default_graph_as_union=True)]; dt = time.perf_counter() - t
    print(f"{name}: {len(r)} rows {dt*1000:.1f} ms"); 
    if name == "original": base = r
    else: print("   same:", r == base)
orig2 = open("queries/cq/communities-named-only.rq").read()
w1 = P + f"""SELECT ?community WHERE {{
  ?listed crkg:inStudy {X} ; crkg:aboutCommunity ?community .
  FILTER NOT EXISTS {{ ?case crkg:aboutCommunity ?community . ?intervention crkg:inCase ?case . }}
}} ORDER BY ?community"""
w2 = P + f"""SELECT ?community WHERE {{
  ?listed crkg:inStudy {X} ; crkg:aboutCommunity ?community .
  MINUS {{ ?case crkg:aboutCommunity ?community . ?intervention crkg:inCase ?case . }}
}} ORDER BY ?community"""
for name, q in (("original", orig2), ("MINUS", w2)):
    t = time.perf_counter(); r = [tuple(str(x) for x in row) for row in s.query(q, use_default_graph_as_union=True)]; dt = time.perf_counter() - t
    print(f"named-only {name}: {len(r)} rows {dt*1000:.1f} ms")
    if name == "original": base = r
    else: print("   same:", r == base)
w3 = P + f"""SELECT ?community WHERE {{
  ?listed crkg:inStudy {X} ; crkg:aboutCommunity ?community .
  OPTIONAL {{ ?case crkg:aboutCommunity ?community . ?intervention crkg:inCase ?case . }}
  FILTER (!BOUND(?intervention))
}} ORDER BY ?community"""
t = time.perf_counter(); r = [tuple(str(x) for x in row) for row in s.query(w3, use_default_graph_as_union=True)]; dt = time.perf_counter() - t
print(f"named-only OPTIONAL/!BOUND: {len(r)} rows {dt*1000:.1f} ms same: {r == base}")

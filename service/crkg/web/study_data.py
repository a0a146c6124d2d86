"""What the evidence views know about a study, read from the graph with SPARQL.

One study (``crkg:Study``, ``id/study/{key}``) is turned into *facts*: one per
(intervention, passage) pair, each with the values it has on every matrix dimension
(:data:`DIMENSIONS`). A matrix cell counts the distinct interventions and the distinct
passages of the facts that have both its row value and its column value, so every number
on a page, in a download and behind ``/evidence`` comes from the same facts.

Where the dimension values come from (VOCABULARY.md, and its "Additions"):

* hand-coded studies: ``crkg:Intervention crkg:inCase ?case``, ``crkg:usesMode`` (the
  top modes only: a sub-mechanism rolls up through ``skos:broader``, which the ontology's
  property chain already adds to ``graph/inferred``), ``crkg:contributesTo`` (the coded
  goals: for the first study inferred from ``contributesToAsStated`` /
  ``contributesToPerFramework``, data/README.md), ``crkg:inPhase``, ``crkg:performedBy``
  actors' most specific ``crkg:Actor`` subclasses, and ``crkg:hasEvidence`` passages;
* imported studies (REFI-QDA): ``crkg:Evidence crkg:codedAs ?code`` (dimension *code*),
  the code's ``skos:exactMatch`` / ``closeMatch`` / ``broadMatch`` to crkg concepts
  (modes, goals, phases: a code matched to a sub-mechanism counts for its mode), and the
  case through ``oa:hasSource`` / ``crkg:hasSource``. ``narrowMatch`` (the code is broader
  than the concept) does not make a passage evidence of the concept, so it is not counted.

A passage of an intervention has the intervention's values and its own. Every query
names the study, so nothing here reads more than one study's part of the graph.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from crkg.namespaces import CRKG, ID, ONTOLOGY_GRAPH, PREFIX_IRIS
from crkg.namespaces import OA as OA_NS
from crkg.web.languages import LANGUAGES
from crkg.web.page_queries import iri_ref as _iri_ref
from crkg.web.page_queries import select as _select

RDF, RDFS, SKOS, DCTERMS = (PREFIX_IRIS[p] for p in ("rdf", "rdfs", "skos", "dcterms"))

OA = str(OA_NS)
STUDY_BASE = str(ID) + "study/"

#: The matrix dimensions, in the order the pages offer them (URL names).
DIMENSIONS = ("mode", "goal", "phase", "actor-type", "case", "code")

#: How concepts of the crkg codebook are ordered on the pages: as the first study and the
#: ontology present them (Table 1: micro → macro, before → after). Anything else follows,
#: by label.
CONCEPT_ORDER = tuple(
    str(CRKG) + name
    for name in (
        "TrustScopeExpansion", "ResourceNetworkIntegration", "SocialRelationReconstruction",
        "PsychologicalResilience", "OrganizationalResilience", "CulturalResilience",
        "Mitigation", "Preparedness", "Response", "Recovery",
        "Micro", "Meso", "Macro",
        "TrustScope", "ResourceNetwork", "SocialRelations",
    )
)
_ORDER = {iri: n for n, iri in enumerate(CONCEPT_ORDER)}

#: The skos mapping relations through which a code counts for a crkg concept (see above).
COUNTING_MATCHES = (SKOS + "exactMatch", SKOS + "closeMatch", SKOS + "broadMatch")
ALL_MATCHES = COUNTING_MATCHES + (SKOS + "narrowMatch",)

PREFIXES = f"""PREFIX rdf: <{RDF}>
PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
PREFIX dcterms: <{DCTERMS}>
PREFIX crkg: <{CRKG}>
PREFIX oa: <{OA}>
"""


class UnknownStudy(LookupError):
    """No ``crkg:Study`` with this key; ``valid`` lists the keys there are."""

    def __init__(self, key: str, valid: list[str]):
        super().__init__(key)
        self.key = key
        self.valid = valid


def study_iri(key: str) -> str:
    return STUDY_BASE + key


def study_key(iri: str) -> str:
    return iri[len(STUDY_BASE):] if iri.startswith(STUDY_BASE) else iri


def _v(row: dict, name: str) -> str | None:
    cell = row.get(name)
    return cell["value"] if cell else None


# ------------------------------------------------------------------------------ labels


@dataclass
class Labels:
    """``rdfs:label`` / ``skos:prefLabel`` / ``dcterms:title`` per IRI and language."""

    by_iri: dict = field(default_factory=lambda: defaultdict(dict))

    def add(self, iri: str, text: str, lang: str | None):
        self.by_iri[iri].setdefault(lang or "", text)

    def get(self, iri: str, lang: str) -> str:
        """The label in *lang*, else in the other page language, else untagged, else any,
        else the IRI's last part (never empty)."""
        found = self.by_iri.get(iri) or {}
        for tag in [lang] + [x for x in LANGUAGES if x != lang] + [""]:
            if tag in found:
                return found[tag]
        if found:
            return found[sorted(found)[0]]
        if iri.startswith(str(CRKG)):
            return iri[len(str(CRKG)):]
        if iri.startswith(str(ID)):
            return iri[len(str(ID)):]
        return iri

    def get_lang(self, iri: str, lang: str) -> str | None:
        """The language tag of what :meth:`get` returns (for ``lang=`` attributes)."""
        found = self.by_iri.get(iri) or {}
        for tag in [lang] + [x for x in LANGUAGES if x != lang] + [""]:
            if tag in found:
                return tag or None
        return (sorted(found)[0] or None) if found else None


def fetch_labels(iris, labels: Labels | None = None) -> Labels:
    """Labels of *iris* (asked in chunks, one pattern per subject)."""
    labels = labels or Labels()
    todo = sorted({i for i in iris if i and i not in labels.by_iri})
    for start in range(0, len(todo), 200):
        chunk = " ".join(_iri_ref(i) for i in todo[start:start + 200])
        rows = _select(
            PREFIXES
            + f"""SELECT ?x ?l WHERE {{ VALUES ?x {{ {chunk} }}
  ?x ?p ?l FILTER (?p IN (rdfs:label, skos:prefLabel, dcterms:title) && isLiteral(?l)) }}"""
        )
        for r in rows:
            labels.add(r["x"]["value"], r["l"]["value"], r["l"].get("xml:lang"))
    return labels


def order_key(labels: Labels, lang: str):
    def key(iri: str):
        return (_ORDER.get(iri, len(_ORDER)), labels.get(iri, lang).lower(), iri)

    return key


# ----------------------------------------------------------------------------- studies


@dataclass
class StudySummary:
    key: str
    iri: str
    language: str | None
    imported_from: str | None
    cases: int
    interventions: int
    passages: int


def list_studies() -> list[StudySummary]:
    """Every study in the graph with its counts: from the build's table
    (``crkg.web.view_tables``) where the store has one, else asked live."""
    from crkg.web.view_tables import current_tables

    tables = current_tables()
    return tables.studies() if tables is not None else compute_studies()


def compute_studies() -> list[StudySummary]:
    """Every study in the graph with its counts (one query per count kind)."""
    rows = _select(
        PREFIXES
        + """SELECT ?s (SAMPLE(?language) AS ?lang) (SAMPLE(?from) AS ?imported) WHERE {
  ?s a crkg:Study .
  OPTIONAL { ?s dcterms:language ?language }
  OPTIONAL { ?s crkg:importedFrom ?from }
} GROUP BY ?s ORDER BY ?s"""
    )
    counts = defaultdict(dict)
    for kind, pattern in (
        ("cases", "?x a crkg:Case ; crkg:inStudy ?s ."),
        ("interventions", "?x crkg:inCase ?c . ?c crkg:inStudy ?s ."),
        ("passages", "?x a crkg:Evidence ; crkg:inStudy ?s ."),
    ):
        for r in _select(PREFIXES + f"SELECT ?s (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {pattern} }} GROUP BY ?s"):
            counts[r["s"]["value"]][kind] = int(r["n"]["value"])
    result = []
    for r in rows:
        iri = r["s"]["value"]
        if not iri.startswith(STUDY_BASE):
            continue
        c = counts.get(iri, {})
        result.append(
            StudySummary(
                key=study_key(iri), iri=iri, language=_v(r, "lang"), imported_from=_v(r, "imported"),
                cases=c.get("cases", 0), interventions=c.get("interventions", 0), passages=c.get("passages", 0),
            )
        )
    return result


def require_study(key: str) -> StudySummary:
    studies = list_studies()
    for s in studies:
        if s.key == key:
            return s
    raise UnknownStudy(key, [s.key for s in studies])


def study_record(iri: str) -> dict[str, list[dict]]:
    """The study's own statements (predicate -> values), from its named graph."""
    i = _iri_ref(iri)
    rows = _select(PREFIXES + f"SELECT ?p ?o WHERE {{ {i} ?p ?o }}")
    record = defaultdict(list)
    for r in rows:
        o = r["o"]
        record[r["p"]["value"]].append({"value": o["value"], "lang": o.get("xml:lang"), "type": o["type"]})
    return record


# ------------------------------------------------------------------------------- facts


@dataclass
class Fact:
    intervention: str | None
    passage: str | None
    dims: dict  # dimension name -> frozenset of IRIs


@dataclass
class StudyFacts:
    study: str
    facts: list[Fact]
    #: intervention -> {"stated": set, "per_framework": set, "coded": set, "theory": set}
    goals: dict
    #: case -> community
    community_of: dict
    #: top mode -> {"dimensions": set, "goals": set}
    framework: dict
    strategies: list[dict]
    labels: Labels

    def values(self, dim: str) -> set[str]:
        return {v for f in self.facts for v in f.dims.get(dim, ())}

    def restricted(self, dim: str, value: str) -> "StudyFacts":
        """The facts with *value* on *dim* (a case's or community's own matrix)."""
        if dim == "community":
            cases = {c for c, m in self.community_of.items() if m == value}
            keep = [f for f in self.facts if f.dims.get("case", frozenset()) & cases]
        else:
            keep = [f for f in self.facts if value in f.dims.get(dim, ())]
        return StudyFacts(self.study, keep, self.goals, self.community_of, self.framework,
                          self.strategies, self.labels)

    def interventions(self) -> set[str]:
        return {f.intervention for f in self.facts if f.intervention}

    def passages(self) -> set[str]:
        return {f.passage for f in self.facts if f.passage}


def _top_modes() -> dict[str, set[str]]:
    """mode or sub-mechanism -> its top modes (ResilienceModes under no other one)."""
    rows = _select(
        PREFIXES
        + """SELECT ?m ?top WHERE {
  ?m a crkg:ResilienceMode ; skos:broader* ?top .
  ?top a crkg:ResilienceMode .
  FILTER NOT EXISTS { ?top skos:broader ?up . ?up a crkg:ResilienceMode }
}"""
    )
    tops = defaultdict(set)
    for r in rows:
        tops[r["m"]["value"]].add(r["top"]["value"])
    return tops


def _concept_kinds() -> dict[str, str]:
    """crkg concept -> the dimension it is a value of (goal, phase)."""
    rows = _select(
        PREFIXES
        + """SELECT ?x ?k WHERE {
  { ?x a crkg:ResilienceGoal BIND("goal" AS ?k) } UNION { ?x a crkg:DisasterPhase BIND("phase" AS ?k) }
}"""
    )
    return {r["x"]["value"]: r["k"]["value"] for r in rows}


def _actor_types(study: str) -> dict[str, set[str]]:
    """actor (performer of an intervention of the study) -> its most specific Actor classes."""
    s = _iri_ref(study)
    rows = _select(
        PREFIXES
        + f"""SELECT DISTINCT ?a ?t WHERE {{
  ?c crkg:inStudy {s} . ?i crkg:inCase ?c ; crkg:performedBy ?a . ?a a ?t .
  GRAPH <{ONTOLOGY_GRAPH}> {{ ?t rdfs:subClassOf* crkg:Actor }}
}}"""
    )
    sub = _select(
        PREFIXES
        + f"""SELECT DISTINCT ?sub ?sup WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{
  ?sub rdfs:subClassOf+ ?sup . ?sup rdfs:subClassOf* crkg:Actor }} FILTER (?sub != ?sup) }}"""
    )
    supers = defaultdict(set)
    for r in sub:
        supers[r["sub"]["value"]].add(r["sup"]["value"])
    types = defaultdict(set)
    for r in rows:
        types[r["a"]["value"]].add(r["t"]["value"])
    result = {}
    for actor, ts in types.items():
        covered = set().union(*(supers.get(t, set()) for t in ts)) if ts else set()
        result[actor] = {t for t in ts if t not in covered}
    return result


def study_facts(study: str) -> StudyFacts:
    """Every fact of *study* (an IRI), with the labels the pages need: from the build's
    table (``crkg.web.view_tables``) where the store has one, else asked live."""
    from crkg.web.view_tables import current_tables

    tables = current_tables()
    found = tables.facts(study_key(study)) if tables is not None else None
    return found if found is not None else compute_study_facts(study)


def compute_study_facts(study: str) -> StudyFacts:
    """Every fact of *study* (an IRI), with the labels the pages need, asked of the store."""
    s = _iri_ref(study)
    tops = _top_modes()
    kinds = _concept_kinds()

    # interventions and their values
    per_int: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    goals: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    evidence_of: dict[str, set] = defaultdict(set)
    performers: dict[str, set] = defaultdict(set)
    rows = _select(
        PREFIXES
        + f"""SELECT ?i ?c ?p ?v WHERE {{
  ?c crkg:inStudy {s} . ?i a crkg:Intervention ; crkg:inCase ?c .
  OPTIONAL {{ ?i ?p ?v FILTER (?p IN (crkg:usesMode, crkg:contributesTo, crkg:contributesToAsStated,
      crkg:contributesToPerFramework, crkg:theoreticallyContributesTo, crkg:inPhase,
      crkg:hasEvidence, crkg:performedBy)) }}
}}"""
    )
    C = str(CRKG)
    for r in rows:
        i, p, v = r["i"]["value"], _v(r, "p"), _v(r, "v")
        per_int[i]["case"].add(r["c"]["value"])
        if p is None:
            continue
        if p == C + "usesMode":
            per_int[i]["mode"].update(tops.get(v, set()))
        elif p == C + "contributesTo":
            per_int[i]["goal"].add(v)
            goals[i]["coded"].add(v)
        elif p == C + "contributesToAsStated":
            goals[i]["stated"].add(v)
        elif p == C + "contributesToPerFramework":
            goals[i]["per_framework"].add(v)
        elif p == C + "theoreticallyContributesTo":
            goals[i]["theory"].add(v)
        elif p == C + "inPhase":
            per_int[i]["phase"].add(v)
        elif p == C + "hasEvidence":
            evidence_of[i].add(v)
        elif p == C + "performedBy":
            performers[i].add(v)
    for i, g in goals.items():
        # a study that codes only stated / per-framework goals has contributesTo from the
        # reasoner; one loaded without inferences still shows its coded goals
        coded = g["stated"] | g["per_framework"]
        if coded - g["coded"]:
            g["coded"] |= coded
            per_int[i]["goal"] |= coded
    actor_types = _actor_types(study)
    for i, actors in performers.items():
        for a in actors:
            per_int[i]["actor-type"].update(actor_types.get(a, set()))

    # passages of the study and their own values (codes, matched concepts, case)
    own: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    passages = set()
    for r in _select(PREFIXES + f"SELECT DISTINCT ?e WHERE {{ ?e a crkg:Evidence ; crkg:inStudy {s} }}"):
        passages.add(r["e"]["value"])
    matches: dict[str, set] = defaultdict(set)
    for r in _select(
        PREFIXES
        + f"""SELECT DISTINCT ?e ?code ?rel ?concept WHERE {{
  ?e crkg:inStudy {s} ; crkg:codedAs ?code .
  OPTIONAL {{ ?code ?rel ?concept FILTER (?rel IN ({", ".join(f"<{m}>" for m in COUNTING_MATCHES)})) }}
}}"""
    ):
        e, code, concept = r["e"]["value"], r["code"]["value"], _v(r, "concept")
        own[e]["code"].add(code)
        if concept:
            matches[code].add(concept)
    for e, values in own.items():
        for code in list(values["code"]):
            for concept in matches.get(code, ()):
                if concept in tops:
                    values["mode"].update(tops[concept])
                elif concept in kinds:
                    values[kinds[concept]].add(concept)
    for r in _select(
        PREFIXES
        + f"""SELECT DISTINCT ?e ?c WHERE {{
  ?e crkg:inStudy {s} ; oa:hasSource ?src . ?c crkg:hasSource ?src ; crkg:inStudy {s} }}"""
    ):
        own[r["e"]["value"]]["case"].add(r["c"]["value"])

    facts: list[Fact] = []
    cited = set()
    for i, dims in per_int.items():
        evs = sorted(evidence_of.get(i, ()))
        for e in evs or [None]:
            merged = {d: set(vs) for d, vs in dims.items()}
            if e is not None:
                cited.add(e)
                for d, vs in own.get(e, {}).items():
                    merged.setdefault(d, set()).update(vs)
            facts.append(Fact(i, e, {d: frozenset(vs) for d, vs in merged.items()}))
    for e in sorted(passages - cited):
        facts.append(Fact(None, e, {d: frozenset(vs) for d, vs in own.get(e, {}).items()}))

    community_of = {
        r["c"]["value"]: r["m"]["value"]
        for r in _select(PREFIXES + f"SELECT ?c ?m WHERE {{ ?c crkg:inStudy {s} ; crkg:aboutCommunity ?m }}")
    }

    used_modes = {m for f in facts for m in f.dims.get("mode", ())}
    framework = {m: {"dimensions": set(), "goals": set(), "locators": set()} for m in used_modes}
    if used_modes:
        values = " ".join(_iri_ref(m) for m in sorted(used_modes))
        for r in _select(
            PREFIXES
            + f"""SELECT ?m ?p ?o WHERE {{ VALUES ?m {{ {values} }}
  ?m ?p ?o FILTER (?p IN (crkg:activates, crkg:fosters, crkg:locator)) }}"""
        ):
            key = {"activates": "dimensions", "fosters": "goals", "locator": "locators"}[r["p"]["value"][len(C):]]
            framework[r["m"]["value"]][key].add(r["o"]["value"])

    # the goals the study's theory ties to each fact: its modes' crkg:fosters (for an
    # intervention the same as the reasoner's theoreticallyContributesTo, which is kept too)
    for f in facts:
        theory = set(goals.get(f.intervention, {}).get("theory", ())) if f.intervention else set()
        for m in f.dims.get("mode", ()):
            theory |= framework.get(m, {}).get("goals", set())
        if theory:
            f.dims["theory-goal"] = frozenset(theory)

    strategies = [
        {"iri": r["x"]["value"], "goal": r["g"]["value"], "phase": r["ph"]["value"], "locator": _v(r, "loc")}
        for r in _select(
            PREFIXES
            + f"""SELECT ?x ?g ?ph (SAMPLE(?l) AS ?loc) WHERE {{
  ?x a crkg:Strategy ; crkg:inStudy {s} ; crkg:forGoal ?g ; crkg:inPhase ?ph .
  OPTIONAL {{ ?x crkg:locator ?l }} }} GROUP BY ?x ?g ?ph"""
        )
    ]

    wanted = {study} | set(per_int) | passages | set(community_of) | set(community_of.values())
    for f in facts:
        for vs in f.dims.values():
            wanted |= vs
    for m, parts in framework.items():
        wanted |= parts["dimensions"] | parts["goals"]
    for g in goals.values():
        for vs in g.values():
            wanted |= vs
    for st in strategies:
        wanted |= {st["iri"], st["goal"], st["phase"]}
    # levels of the goals (the framework's micro/meso/macro)
    labels = fetch_labels(wanted)
    return StudyFacts(study, facts, goals, community_of, framework, strategies, labels)


# ------------------------------------------------------------------- the shared frame


#: The dimensions whose values the comparison of studies carries over to crkg's concepts.
SHARED_DIMENSIONS = ("mode", "goal", "phase")


def on_shared_frame(facts: StudyFacts) -> tuple[StudyFacts, list[str]]:
    """*facts* with every mode, goal and phase that is the study's own concept (a study
    under its own theory) replaced by the crkg concepts it ``skos:exactMatch`` /
    ``closeMatch`` / ``broadMatch`` es (modes rolled up to crkg's top modes), so that two
    studies meet on the same axes; returns the facts and the own concepts with no match
    (left out of the comparison, and listed on the page)."""
    own = sorted({v for d in SHARED_DIMENSIONS for v in facts.values(d) if not v.startswith(str(CRKG))})
    mapped: dict[str, set] = defaultdict(set)
    if own:
        tops = _top_modes()
        values = " ".join(_iri_ref(v) for v in own)
        for r in _select(
            PREFIXES
            + f"""SELECT ?v ?c WHERE {{ VALUES ?v {{ {values} }}
  ?v ?rel ?c FILTER (?rel IN ({", ".join(f"<{m}>" for m in COUNTING_MATCHES)}) && STRSTARTS(STR(?c), "{CRKG}")) }}"""
        ):
            c = r["c"]["value"]
            mapped[r["v"]["value"]] |= tops.get(c, {c})
    facts_out = []
    for f in facts.facts:
        dims = dict(f.dims)
        for d in SHARED_DIMENSIONS:
            if d in dims:
                dims[d] = frozenset(c for v in dims[d] for c in ({v} if v.startswith(str(CRKG)) else mapped.get(v, ())))
        facts_out.append(Fact(f.intervention, f.passage, dims))
    labels = fetch_labels({c for cs in mapped.values() for c in cs}, facts.labels)
    shared = StudyFacts(facts.study, facts_out, facts.goals, facts.community_of, facts.framework,
                        facts.strategies, labels)
    return shared, [v for v in own if not mapped.get(v)]


# ------------------------------------------------------------------------------ matrix


@dataclass
class Matrix:
    rows_dim: str
    cols_dim: str
    rows: list[str]
    cols: list[str]
    #: (row, col) -> (interventions, passages)
    cells: dict
    row_totals: dict
    col_totals: dict
    total: tuple

    def count(self, r: str, c: str) -> tuple[int, int]:
        i, e = self.cells.get((r, c), (set(), set()))
        return len(i), len(e)


def build_matrix(facts: StudyFacts, rows_dim: str, cols_dim: str, lang: str,
                 rows: list[str] | None = None, cols: list[str] | None = None) -> Matrix:
    """Count distinct interventions and passages per (row value, column value).

    *rows* / *cols* fix the axes (the comparison of studies shares them); by default they
    are the values some fact has, in :data:`CONCEPT_ORDER`, then by label.
    """
    key = order_key(facts.labels, lang)
    rows = rows if rows is not None else sorted(facts.values(rows_dim), key=key)
    cols = cols if cols is not None else sorted(facts.values(cols_dim), key=key)
    cells: dict = defaultdict(lambda: (set(), set()))
    row_totals: dict = defaultdict(lambda: (set(), set()))
    col_totals: dict = defaultdict(lambda: (set(), set()))
    all_i, all_e = set(), set()
    row_set, col_set = set(rows), set(cols)
    for f in facts.facts:
        rs = f.dims.get(rows_dim, frozenset()) & row_set
        cs = f.dims.get(cols_dim, frozenset()) & col_set
        if not rs or not cs:
            continue
        for target in [cells[(r, c)] for r in rs for c in cs] + [row_totals[r] for r in rs] \
                + [col_totals[c] for c in cs] + [(all_i, all_e)]:
            if f.intervention:
                target[0].add(f.intervention)
            if f.passage:
                target[1].add(f.passage)
    return Matrix(rows_dim, cols_dim, rows, cols, dict(cells), dict(row_totals), dict(col_totals),
                  (len(all_i), len(all_e)))


def select_facts(facts: StudyFacts, filters: dict[str, str]) -> list[Fact]:
    """The facts having every (dimension, value) of *filters* (the ``/evidence`` list)."""
    out = []
    for f in facts.facts:
        ok = True
        for dim, value in filters.items():
            if dim == "intervention":
                ok = f.intervention == value
            elif dim == "community":
                ok = any(facts.community_of.get(c) == value for c in f.dims.get("case", ()))
            else:
                ok = value in f.dims.get(dim, ())
            if not ok:
                break
        if ok:
            out.append(f)
    return out


# ----------------------------------------------------------------------------- passages


def passage_details(iris) -> dict[str, dict]:
    """Text (every language), locator, speaker, source and types of passages."""
    details: dict[str, dict] = {}
    todo = sorted(set(iris))
    for start in range(0, len(todo), 200):
        chunk = " ".join(_iri_ref(i) for i in todo[start:start + 200])
        for r in _select(
            PREFIXES
            + f"""SELECT ?e ?p ?v WHERE {{ VALUES ?e {{ {chunk} }}
  ?e ?p ?v FILTER (?p IN (crkg:text, oa:exact, crkg:locator, crkg:saidBy, oa:hasSource, rdf:type, rdfs:label)) }}"""
        ):
            e = r["e"]["value"]
            d = details.setdefault(e, {"texts": {}, "locators": set(), "speakers": set(), "sources": set(),
                                       "types": set(), "labels": {}})
            p, v = r["p"]["value"], r["v"]
            if p in (str(CRKG.text), OA + "exact"):
                d["texts"].setdefault(v.get("xml:lang") or "", v["value"])
            elif p == str(CRKG.locator):
                d["locators"].add(v["value"])
            elif p == str(CRKG.saidBy):
                d["speakers"].add(v["value"])
            elif p == OA + "hasSource":
                d["sources"].add(v["value"])
            elif p == RDF + "type":
                d["types"].add(v["value"])
            elif p == RDFS + "label":
                d["labels"].setdefault(v.get("xml:lang") or "", v["value"])
    return details

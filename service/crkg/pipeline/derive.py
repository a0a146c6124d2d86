"""From a study's codings to interventions: the co-coding rule (issue 11, point 4).

A scholar who codes in a QDA tool marks *passages*; crkg's questions are about
*interventions*, their modes, goals, phases, actors and target groups. Once ``mapping.csv``
aligns the study's codes to the crkg codebook, this module derives the interventions:

1. **Interventions.** A code mapped ``type,Intervention`` becomes, in each case where it is
   applied, one ``crkg:Intervention`` with the passages so coded as its evidence
   (``crkg:hasEvidence``) and ``crkg:inCase`` that case. A passage is in a case when the
   case lists it (``hasEvidence``, the QDA case's SelectionRefs) or lists its source
   (``hasSource``). Where a passage is in no case, its source document takes the case's
   place (the intervention then has no ``inCase`` and is reported incomplete).
2. **Co-coding.** A passage coded with a mapped code *overlaps* an intervention's passage
   when both are in the same source and their ranges ``[start, end)`` share at least one
   character. Every mapped code on an overlapping passage gives the intervention a fact:
   ``exactMatch``/``closeMatch``/``broadMatch`` to a mode → ``crkg:usesMode``, to a goal →
   ``crkg:contributesToAsStated`` (the coder coded the passage with the outcome: the
   passage states it), to a phase → ``crkg:inPhase``, to a mechanism →
   ``crkg:usesMechanism``, to a participation mode → ``crkg:hasParticipationMode``;
   ``type,<actor class>`` → ``crkg:performedBy`` an actor of that class named by the code,
   ``type,TargetGroup`` → ``crkg:targets``, ``type,Mechanism`` → ``crkg:usesMechanism``
   a mechanism named by the code. ``narrowMatch`` (the crkg concept is narrower than the
   code) gives no fact: the code does not say which narrower concept applies.
3. **Provenance.** Each derived intervention is ``crkg:derivedBy crkg:CoCodingRule`` and
   ``crkg:derivedFrom`` its code; each fact also gets a ``crkg:DerivedFact`` naming the
   property, the value, the rule and the overlapping passages that carry it.
4. **Coverage.** Interventions without an actor, mode, goal, phase or case are still
   derived; :attr:`Derivation.warnings` lists what each lacks and
   :attr:`Derivation.coverage` sums it up. Nothing is invented: a fact no passage carries is
   absent (unknown stays unknown).

:func:`derive` is pure: (study, mapping rows, vocabulary) → a :class:`Derivation` holding
rdflib triples; :func:`derive_folder` reads a study folder and its ``mapping.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from crkg.importers.vocabulary import FACT_PROPERTY, Vocabulary, load_vocabulary
from crkg.importers.writer import read_sections
from crkg.namespaces import CRKG, ID

from crkg.pipeline.mapping import MappingRow, count_unmapped, read_mapping

MATCHES = {"exactMatch", "closeMatch", "broadMatch"}


@dataclass
class Passage:
    key: str
    source: str | None
    start: int | None
    end: int | None
    codes: list[str]
    locator: str | None = None


@dataclass
class Study:
    """What derivation needs of a study folder (FORMAT.md sections)."""

    key: str
    language: str
    code_labels: dict[str, str] = field(default_factory=dict)      # code key -> label
    code_names: dict[str, str] = field(default_factory=dict)       # "A > B", key, identifier -> key
    passages: dict[str, Passage] = field(default_factory=dict)
    cases: dict[str, tuple[str, list[str], list[str]]] = field(default_factory=dict)  # key -> label, sources, evidence


@dataclass
class Derivation:
    graph: Graph
    interventions: list[URIRef] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    coverage: list[str] = field(default_factory=list)


def _ref(v) -> str:
    return str(v).partition(":")[2] if ":" in str(v) else str(v)


def _list(v):
    return [] if v is None else v if isinstance(v, list) else [v]


def read_study(folder: Path) -> Study:
    """What derivation needs of a study folder, read from its YAML files."""
    folder = Path(folder)
    study, sec = read_sections(folder)
    return study_from_sections(study, sec, folder.name)


def study_from_sections(study: dict, sec: dict[str, list], folder_name: str) -> Study:
    """What derivation needs, from the ``study:`` mapping and the other sections' items as
    YAML gives them (``read_sections``, or the build's converter, which has them parsed)."""
    lang = study.get("language") or "en"
    s = Study(key=study.get("key") or folder_name, language=lang)
    codes = {c["key"]: c for c in sec.get("codes", [])}
    for k, c in codes.items():
        lab = c.get("label") or {}
        s.code_labels[k] = str(lab.get(lang) or next(iter(lab.values()), k))
    for k, c in codes.items():
        names, cur, seen = [], c, set()
        while cur is not None and cur["key"] not in seen:
            seen.add(cur["key"])
            names.append(s.code_labels[cur["key"]])
            cur = codes.get(_ref(cur.get("broader"))) if cur.get("broader") else None
        s.code_names[" > ".join(reversed(names))] = k
        s.code_names[k] = k
        for ident in _list(c.get("identifier")):
            s.code_names[str(ident)] = k
    for p in sec.get("passages", []):
        s.passages[p["key"]] = Passage(p["key"], _ref(p["source"]) if p.get("source") else None,
                                       p.get("start"), p.get("end"), [_ref(c) for c in _list(p.get("codedAs"))],
                                       p.get("locator"))
    for c in sec.get("cases", []):
        lab = c.get("label") or {}
        s.cases[c["key"]] = (str(lab.get(lang) or next(iter(lab.values()), c["key"])),
                             [_ref(x) for x in _list(c.get("hasSource"))],
                             [_ref(x) for x in _list(c.get("hasEvidence"))])
    return s


def derive(study: Study, rows: list[MappingRow], vocab: Vocabulary, unmapped: int | None = None) -> Derivation:
    """The interventions and facts the co-coding rule gives (see the module docstring);
    *unmapped*, the count of mapping.csv rows without a relation, goes into the summary."""
    g = Graph()
    d = Derivation(graph=g)
    sk = study.key
    lang = study.language
    iri = lambda kind, key: URIRef(ID[f"{kind}/{sk}/{key}"])  # noqa: E731
    intervention_codes, facts, typed = [], {}, {}
    for row in rows:
        if not row.relation:
            continue
        code = study.code_names.get(row.code)
        if code is None:
            d.warnings.append(f"mapping.csv:{row.line}: code {row.code!r} is not in the study's codebook")
            continue
        concept = vocab.resolve(row.concept)
        if concept is None:
            d.warnings.append(f"mapping.csv:{row.line}: {row.concept!r} is not a crkg concept or class")
            continue
        if row.relation == "type":
            if concept == CRKG.Intervention:
                intervention_codes.append(code)
            elif concept in vocab.type_classes:
                typed.setdefault(code, set()).add(concept)
            else:
                d.warnings.append(f"mapping.csv:{row.line}: 'type' needs a class (Intervention, an actor "
                                  f"class, TargetGroup, Mechanism), not {row.concept!r}")
        elif row.relation in MATCHES:
            prop = FACT_PROPERTY.get(vocab.concepts.get(concept))
            if prop is not None:
                facts.setdefault(code, set()).add((prop, concept))
        elif row.relation == "narrowMatch":
            d.warnings.append(f"mapping.csv:{row.line}: {row.code!r} narrowMatch {row.concept}: gives "
                              "interventions no fact (the code is broader than the concept)")
    by_code: dict[str, list[Passage]] = {}
    for p in study.passages.values():
        for c in p.codes:
            by_code.setdefault(c, []).append(p)
    cases_of: dict[str, list[str]] = {}
    for ckey, (_lab, sources, evidence) in sorted(study.cases.items()):
        for p in study.passages.values():
            if p.key in evidence or (p.source and p.source in sources):
                cases_of.setdefault(p.key, []).append(ckey)
    fact_codes = sorted(set(facts) | set(typed))
    stats = {"interventions": 0, "actor": 0, "mode": 0, "goal": 0, "phase": 0, "case": 0}
    study_iri = URIRef(ID[f"study/{sk}"])
    for code in sorted(set(intervention_codes)):
        groups: dict[tuple[str, str], list[Passage]] = {}
        for p in by_code.get(code, []):
            for ckey in cases_of.get(p.key) or []:
                groups.setdefault(("case", ckey), []).append(p)
            if not cases_of.get(p.key):
                groups.setdefault(("source", p.source or "none"), []).append(p)
        if not groups:
            d.warnings.append(f"code {study.code_labels.get(code, code)!r} is mapped type,Intervention but "
                              "codes no passage: no intervention")
            continue
        for (kind, gkey), evidence in sorted(groups.items()):
            ikey = f"{code}--{gkey}"
            it = iri("intervention", ikey)
            d.interventions.append(it)
            label = study.code_labels.get(code, code)
            if len(groups) > 1:
                where = study.cases[gkey][0] if kind == "case" else gkey
                label = f"{label} ({where})"
            g.add((it, RDF.type, CRKG.Intervention))
            g.add((it, RDFS.label, Literal(label, lang=lang)))
            g.add((it, CRKG.derivedBy, CRKG.CoCodingRule))
            g.add((it, CRKG.derivedFrom, iri("code", code)))
            for loc in sorted({p.locator for p in evidence if p.locator}):   # where its passages are
                g.add((it, CRKG.locator, Literal(loc)))
            g.add((it, CRKG.codingNote, Literal(
                f"Derived by the co-coding rule from the code {study.code_labels.get(code, code)!r}"
                + (f" in the case {study.cases[gkey][0]!r}." if kind == "case" else f" in the source {gkey}."),
                lang="en")))
            if kind == "case":
                g.add((it, CRKG.inCase, iri("case", gkey)))
            for p in evidence:
                g.add((it, CRKG.hasEvidence, iri("evidence", p.key)))
            got: dict[tuple, list[str]] = {}
            for fcode in fact_codes:
                for q in by_code.get(fcode, []):
                    if any(_overlap(p, q) for p in evidence):
                        for prop, concept in sorted(facts.get(fcode, ())):
                            got.setdefault((prop, concept), []).append(q.key)
                        for cls in sorted(typed.get(fcode, ())):
                            first = min(by_code[fcode], key=lambda x: (x.source or "", x.start or 0, x.key))
                            got.setdefault(_typed_fact(g, study, fcode, cls, first.locator, study_iri, lang),
                                           []).append(q.key)
            for (prop, value), carriers in sorted(got.items()):
                g.add((it, prop, value))
                fact = URIRef(ID[f"derived-fact/{sk}/{ikey}--{_local(prop)}--{_local(value)}"])
                g.add((fact, RDF.type, CRKG.DerivedFact))
                g.add((it, CRKG.hasDerivedFact, fact))
                g.add((fact, CRKG.factProperty, prop))
                g.add((fact, CRKG.factValue, value))
                g.add((fact, CRKG.derivedBy, CRKG.CoCodingRule))
                for k in sorted(set(carriers)):
                    g.add((fact, CRKG.hasEvidence, iri("evidence", k)))
            props = {p for p, _ in got}
            lacks = [name for name, ok in (("an actor (performedBy)", CRKG.performedBy in props),
                                           ("a mode (usesMode)", CRKG.usesMode in props),
                                           ("a goal (contributesToAsStated)", CRKG.contributesToAsStated in props),
                                           ("a phase (inPhase)", CRKG.inPhase in props),
                                           ("a case (inCase)", kind == "case")) if not ok]
            stats["interventions"] += 1
            for k, prop in (("actor", CRKG.performedBy), ("mode", CRKG.usesMode),
                            ("goal", CRKG.contributesToAsStated), ("phase", CRKG.inPhase)):
                stats[k] += prop in props
            stats["case"] += kind == "case"
            if lacks:
                d.warnings.append(f"intervention {ikey}: incomplete, no passage overlapping its evidence gives "
                                  + ", ".join(lacks))
    n = stats["interventions"]
    d.coverage.append(f"{n} intervention(s) derived from {len(set(intervention_codes))} code(s) mapped "
                      f"type,Intervention: {stats['actor']} with an actor, {stats['mode']} with a mode, "
                      f"{stats['goal']} with a goal, {stats['phase']} with a phase, {stats['case']} in a case")
    if unmapped:
        d.coverage.append(f"{unmapped} code(s) of mapping.csv not yet mapped (ignored)")
    return d


def _overlap(p: Passage, q: Passage) -> bool:
    return (p.source is not None and p.source == q.source and None not in (p.start, p.end, q.start, q.end)
            and q.start < p.end and p.start < q.end)


def _local(term) -> str:
    s = str(term)
    return s.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _typed_fact(g: Graph, study: Study, code: str, cls: URIRef, locator: str | None, study_iri, lang):
    """(property, node) for a code typed ``type,<class>``: an actor, target group or mechanism
    of the study named by the code (one node per code, shared by the interventions)."""
    label = Literal(study.code_labels.get(code, code), lang=lang)
    if cls == CRKG.TargetGroup:
        node = URIRef(ID[f"target-group/{study.key}/{code}"])
        g.add((node, RDF.type, CRKG.TargetGroup))
        g.add((node, CRKG.inStudy, study_iri))
        prop = CRKG.targets
    elif cls == CRKG.Mechanism:
        node = URIRef(ID[f"mechanism/{study.key}/{code}"])
        g.add((node, RDF.type, CRKG.Mechanism))
        prop = CRKG.usesMechanism
    else:
        node = URIRef(ID[f"actor/{study.key}/{code}"])
        g.add((node, RDF.type, cls))
        prop = CRKG.performedBy
    g.add((node, RDFS.label, label))
    g.add((node, CRKG.derivedFrom, URIRef(ID[f"code/{study.key}/{code}"])))
    if locator:   # where the code is first applied
        g.add((node, CRKG.locator, Literal(locator)))
    return (prop, node)


def derive_folder(folder: Path, mapping_file: Path | None = None, vocab: Vocabulary | None = None) -> Derivation:
    """:func:`derive` for a study folder and its ``mapping.csv`` (no mapping: nothing derived)."""
    folder = Path(folder)
    mapping_file = Path(mapping_file) if mapping_file else folder / "mapping.csv"
    if not mapping_file.is_file():
        return derive(read_study(folder), [], vocab or load_vocabulary())
    return derive(read_study(folder), read_mapping(mapping_file), vocab or load_vocabulary(),
                  unmapped=count_unmapped(mapping_file))

"""Reasoning: HermiT checks the ontology; the OWL 2 RL closure is materialised.

ARCHITECTURE.md, "Data flow": "HermiT (owlready2) checks the ontology is consistent and
every class satisfiable; OWL 2 RL closure materialised into graph/inferred, so
queries can use asserted or inferred facts."

* :func:`check_consistency` runs owlready2's bundled HermiT once (one JVM start) on a
  graph; the build gives it the ontology (TBox and codebook) only (issue 14: HermiT is
  the ontology's check, not a reasoner over all instance data). An inconsistent graph or
  a class equivalent to ``owl:Nothing`` raises :class:`~crkg.errors.NonConformant`.
  :func:`hermit_unavailable` says why it cannot run (no Java), so the build can go on
  without it (issue 15: serving needs no Java).
* :func:`materialise` computes the OWL 2 RL closure (W3C OWL 2 Profiles, section 4.3)
  of ontology + data with the rules compiled from the ontology (``crkg.pipeline.rules``;
  owlrl when the terminology uses a construct those rules lack, and
  :func:`materialise_owlrl` always) and returns only what it adds that is worth storing: property
  chain results (``crkg:inCommunity``, ``crkg:theoreticallyContributesTo``), the
  transitive ``crkg:withinArea``, types from subclasses, domains and ranges,
  super-properties and inverses. Sources never contain inferred triples (STYLE.md);
  this graph goes to ``graph/inferred``. :func:`closure_lines` is the same on N-Triples
  lines, the build's path (no rdflib graph on the way).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from crkg.errors import CrkgError, NonConformant
from crkg.namespaces import ID, OWL, RDF, RDFS, XSD, bind_prefixes

#: Namespaces of the RDF, RDFS, OWL and XSD built-in vocabularies.
_BUILTIN_PREFIXES = (
    str(RDF),
    str(RDFS),
    str(OWL),
    str(XSD),
)

#: Types every resource has under RDFS/OWL semantics: true, but no information.
_TRIVIAL_TYPES = frozenset({OWL.Thing, RDFS.Resource})

#: Predicates that relate a term to itself under OWL semantics (x p x is noise).
_REFLEXIVE_NOISE = frozenset(
    {OWL.sameAs, RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty}
)


# --------------------------------------------------------------------------- HermiT


@dataclass
class HermitReport:
    """What HermiT found: consistent, no unsatisfiable class (else an exception)."""

    triples: int
    seconds: float
    unsatisfiable: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.unsatisfiable


#: How to get the HermiT check when it was skipped (printed by the build).
HERMIT_HOW_TO = (
    "install a Java runtime (e.g. `apt-get install default-jre-headless`, or Temurin on "
    "Windows and macOS) and run `crkg build --force --strict`"
)


def hermit_unavailable() -> str | None:
    """Why HermiT cannot run here (no Java runtime found), or None when it can."""
    import owlready2

    if shutil.which(owlready2.JAVA_EXE) is None:
        return f"no Java runtime: {owlready2.JAVA_EXE!r} is not on PATH"
    return None


def java_executable() -> str:
    """The Java runtime owlready2 will start, or :class:`CrkgError` if there is none."""
    import owlready2

    reason = hermit_unavailable()
    if reason is not None:
        raise CrkgError(f"HermiT needs a Java runtime, and there is {reason}: {HERMIT_HOW_TO}")
    return shutil.which(owlready2.JAVA_EXE)


def check_consistency(
    graph: Graph, *, ignore_unsupported_datatypes: bool = True, workdir: Path | None = None
) -> HermitReport:
    """Run HermiT (owlready2's bundled copy; one JVM run) on *graph*.

    Raises :class:`NonConformant` when the graph is inconsistent or a named class is
    unsatisfiable (equivalent to ``owl:Nothing``), naming what is wrong; raises
    :class:`CrkgError` when Java is missing or HermiT fails for another reason.

    *ignore_unsupported_datatypes*: RDF data may carry datatypes outside the OWL 2
    datatype map (``xsd:date``, ``xsd:gYear``); HermiT refuses those unless told to
    ignore them. The ontology alone is checked with ``False`` (its tests), so the
    ontology itself never relies on a datatype OWL 2 DL lacks.

    *workdir*: where HermiT's input file is written (the build gives its own staging
    folder, which the next build removes should this process be killed).
    """
    import owlready2

    java_executable()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crkg-hermit-", dir=workdir) as tmp:
        source = Path(tmp).resolve() / "input.nt"  # as a file: URI, which must be absolute
        source.write_bytes(graph.serialize(format="nt", encoding="utf-8"))
        world = owlready2.World()
        try:
            try:
                world.get_ontology(source.as_uri()).load(format="ntriples")
            except Exception as exc:  # owlready2's parser raises assorted types
                raise CrkgError(f"owlready2 could not read the graph for HermiT: {exc}") from exc
            # owlready2 writes its own copy for the JVM with tempfile and deletes it only
            # when HermiT succeeds: pointed into our folder, it goes with the folder.
            saved_tempdir, tempfile.tempdir = tempfile.tempdir, tmp
            try:
                owlready2.sync_reasoner_hermit(
                    world,
                    infer_property_values=False,
                    debug=0,
                    ignore_unsupported_datatypes=ignore_unsupported_datatypes,
                )
            except owlready2.OwlReadyInconsistentOntologyError:
                raise NonConformant(_inconsistency_message(graph)) from None
            except owlready2.OwlReadyJavaError as exc:
                raise CrkgError(f"HermiT failed: {exc}") from None
            finally:
                tempfile.tempdir = saved_tempdir
            unsatisfiable = sorted(
                cls.iri for cls in world.inconsistent_classes() if cls is not owlready2.Nothing
            )
        finally:
            world.close()
    if unsatisfiable:
        raise NonConformant(
            "HermiT: these classes are unsatisfiable (equivalent to owl:Nothing; no "
            "individual can belong to them), look at their subclass and disjointness "
            "axioms:\n" + "\n".join(f"  <{iri}>" for iri in unsatisfiable)
        )
    return HermitReport(triples=len(graph), seconds=time.perf_counter() - started)


def _inconsistency_message(graph: Graph) -> str:
    """HermiT only says "inconsistent"; the OWL 2 RL rules often say why (a resource in
    two disjoint classes, two distinct codebook individuals made the same)."""
    closed = _closure(_without_inert(graph))
    reasons = _owlrl_errors(closed) + _union_violations(closed)
    text = "HermiT: the ontology and data are inconsistent (no model satisfies them)."
    if reasons:
        text += " The OWL 2 RL rules point at:\n" + "\n".join(f"  - {r}" for r in reasons)
    else:
        text += (
            " Look for resources typed with disjoint classes, values outside a property's"
            " range, or functional properties with two values."
        )
    return text


# --------------------------------------------------------------------------- owlrl


def _semantics():
    """owlrl's OWL 2 RL rules without rule eq-ref (``x owl:sameAs x`` for every term).

    eq-ref's triples are noise that :func:`materialise` drops anyway, yet owlrl stores
    them for every subject, predicate and object and then runs the eq-rep-* rules on
    each: about half of the closure's time. Every other equality rule (eq-sym,
    eq-trans, eq-rep-*, eq-diff*) still runs.
    """
    import owlrl

    class WithoutReflexiveSameAs(owlrl.OWLRL_Semantics):
        def _equality(self, triple, cycle_num):
            s, p, o = triple
            if p == OWL.sameAs and s != o or p == RDF.type and o == OWL.AllDifferent:
                super()._equality(triple, cycle_num)

    return WithoutReflexiveSameAs


def _closure(graph: Graph) -> Graph:
    import owlrl

    closed = Graph()
    closed += graph
    # improved_datatypes=False: owlrl's "improved" datatype handling patches rdflib's
    # literal conversion for the whole process, which other modules would then see.
    owlrl.DeductiveClosure(
        _semantics(),
        improved_datatypes=False,
        axiomatic_triples=False,
        datatype_axioms=False,
    ).expand(closed)
    return closed


#: Property axioms (and characteristics) that make OWL 2 RL rules fire on a property's use.
_PROPERTY_AXIOMS = frozenset(
    {
        RDFS.domain,
        RDFS.range,
        RDFS.subPropertyOf,
        OWL.equivalentProperty,
        OWL.inverseOf,
        OWL.propertyChainAxiom,
        OWL.propertyDisjointWith,
    }
)
_CHARACTERISTICS = frozenset(
    {
        OWL.FunctionalProperty,
        OWL.InverseFunctionalProperty,
        OWL.TransitiveProperty,
        OWL.SymmetricProperty,
        OWL.AsymmetricProperty,
        OWL.IrreflexiveProperty,
    }
)
#: Built-in annotation properties; the rest of the RDF/RDFS/OWL vocabulary drives rules.
_BUILTIN_ANNOTATIONS = frozenset({RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.versionInfo})


def _without_inert(graph: Graph) -> Graph:
    """*graph* without the triples no OWL 2 RL rule can use: those whose predicate has no
    domain, range, super- or sub-property, inverse, chain, characteristic or
    restriction (labels, definitions, notes, texts ...). Left in, owlrl would visit each of
    them in every cycle for nothing. (Only eq-rep-* could copy them, across an
    owl:sameAs, and materialise refuses sameAs between crkg resources.)"""
    chained = {p for lst in graph.objects(None, OWL.propertyChainAxiom) for p in graph.items(lst)}
    referenced = chained | set(graph.objects(None, OWL.onProperty))
    for axiom in (RDFS.subPropertyOf, OWL.equivalentProperty, OWL.inverseOf, OWL.propertyDisjointWith):
        referenced |= set(graph.objects(None, axiom))

    def inert(p) -> bool:
        if str(p).startswith(_BUILTIN_PREFIXES):
            return p in _BUILTIN_ANNOTATIONS
        if p in referenced:
            return False
        if any(a in _PROPERTY_AXIOMS for a in graph.predicates(p, None)):
            return False
        return not any(t in _CHARACTERISTICS for t in graph.objects(p, RDF.type))

    inert_predicates = {p for p in set(graph.predicates()) if inert(p)}
    out = Graph()
    for triple in graph:
        if triple[1] not in inert_predicates:
            out.add(triple)
    return out


def _owlrl_errors(closed: Graph) -> list[str]:
    from owlrl.Namespaces import ERRNS

    return sorted(str(m) for node in closed.subjects(RDF.type, ERRNS.ErrorMessage) for m in closed.objects(node, ERRNS.error))


def _union_violations(closed: Graph, limit: int = 20) -> list[str]:
    """Uses of a property whose domain or range is a union of classes (which OWL 2 RL
    cannot reason with) on a resource of none of those classes. With the ontology's
    disjoint top-level classes such a use is usually what makes HermiT fail."""
    found: list[str] = []
    for axiom, position in ((RDFS.domain, 0), (RDFS.range, 2)):
        for prop, expression in closed.subject_objects(axiom):
            members = closed.value(expression, OWL.unionOf) if isinstance(expression, BNode) else None
            if members is None:
                continue
            classes = set(closed.items(members))
            for triple in closed.triples((None, prop, None)):
                node = triple[position]
                if isinstance(node, Literal) or any((node, RDF.type, c) in closed for c in classes):
                    continue
                names = ", ".join(sorted(_short(c) for c in classes))
                side = "subject" if position == 0 else "object"
                found.append(f"{_short(prop)} has {side} <{node}>, which is none of {names}")
    found = sorted(set(found))
    return found[:limit] + ([f"... and {len(found) - limit} more"] if len(found) > limit else [])


def _short(term) -> str:
    from crkg.namespaces import CRKG

    return f"crkg:{term[len(str(CRKG)):]}" if str(term).startswith(str(CRKG)) else f"<{term}>"


def materialise(ontology: Graph, data: Graph) -> Graph:
    """The OWL 2 RL inferences from *ontology* + *data* that neither asserts.

    The rules compiled from the terminology (:mod:`crkg.pipeline.rules`) compute them;
    when the terminology (the ontology's or a study's own) uses a construct those rules
    do not cover, owlrl's generic closure (:func:`materialise_owlrl`) does. What is kept,
    and what is refused, is the same either way:

    Left out as noise: anything about a blank node (anonymous class expressions,
    lists; their labels would also differ between runs), triples about the RDF/RDFS/OWL
    vocabularies themselves, ``x rdf:type owl:Thing``/``rdfs:Resource``, reflexive
    ``owl:sameAs``/``rdfs:subClassOf``/``rdfs:subPropertyOf``/equivalences, and
    literal subjects. Raises :class:`NonConformant` when the rules find a
    contradiction (e.g. a resource in two disjoint classes) or make two distinct
    crkg resources the same individual (a functional property given two values).
    """
    from crkg.pipeline.rules import as_nt, nt_terms, read_schema

    asserted = Graph()
    asserted += ontology
    asserted += data
    schema = read_schema(asserted)
    if schema.unsupported:
        return materialise_owlrl(ontology, data)
    triples = [nt_terms(line) for line in asserted.serialize(format="nt", encoding="utf-8").splitlines() if line]
    lines = closure_lines(as_nt(schema), triples)
    inferred = bind_prefixes(Graph())
    if lines:
        inferred.parse(data=b"".join(lines).decode("utf-8"), format="nt")
    return inferred


def closure_lines(schema, triples) -> list[bytes]:
    """The OWL 2 RL inferences from N-Triples *triples* (``(s, p, o)`` strings) under
    *schema* (``crkg.pipeline.rules.as_nt``), as sorted N-Triples lines: minus what is
    asserted, minus noise (:func:`materialise` says which). Raises :class:`NonConformant`
    for the contradictions the rules find. The build's path: no rdflib on the way."""
    from crkg.pipeline.rules import infer

    asserted = set(triples)
    facts, problems = infer(schema, asserted)
    if problems:
        raise NonConformant("OWL 2 RL reasoning found contradictions:\n" + "\n".join(f"  - {e}" for e in problems))
    return sorted(f"{s} {p} {o} .\n".encode() for s, p, o in facts | schema.schema_triples
                  if (s, p, o) not in asserted and not _is_noise_nt(s, p, o))


def materialise_owlrl(ontology: Graph, data: Graph) -> Graph:
    """:func:`materialise` by owlrl's full OWL 2 RL closure (the reference; slow)."""
    asserted = Graph()
    asserted += ontology
    asserted += data
    closed = _closure(_without_inert(asserted))
    errors = _owlrl_errors(closed)
    if errors:
        raise NonConformant("OWL 2 RL reasoning found contradictions:\n" + "\n".join(f"  - {e}" for e in errors))

    inferred = bind_prefixes(Graph())
    merged: list[str] = []
    for triple in closed:
        if triple in asserted or _is_noise(triple):
            continue
        s, p, o = triple
        if p == OWL.sameAs and str(s).startswith(str(ID)) and str(o).startswith(str(ID)):
            merged.append(f"<{s}> owl:sameAs <{o}>")
        inferred.add(triple)
    if merged:
        raise NonConformant(
            "OWL 2 RL reasoning made distinct crkg resources the same individual (a "
            "functional property such as crkg:inCase, crkg:inStudy, crkg:aboutCommunity or "
            "crkg:saidBy has two values):\n" + "\n".join(f"  - {m}" for m in sorted(set(merged)))
        )
    return inferred


def _nt_set(terms) -> frozenset:
    return frozenset(f"<{t}>" for t in terms)


_BUILTIN_NT = tuple(f"<{p}" for p in _BUILTIN_PREFIXES)
_TYPE_NT = f"<{RDF.type}>"
_TRIVIAL_TYPES_NT = _nt_set(_TRIVIAL_TYPES)
_REFLEXIVE_NOISE_NT = _nt_set(_REFLEXIVE_NOISE)
_SUB_NT = _nt_set((RDFS.subClassOf, RDFS.subPropertyOf))
_TOP_NT = _nt_set(_TRIVIAL_TYPES | {OWL.topObjectProperty, OWL.topDataProperty})
_NOTHING_SUB_NT = _nt_set((RDFS.subClassOf, OWL.equivalentClass))
_NOTHING_NT = f"<{OWL.Nothing}>"
_DOMAIN_RANGE_NT = _nt_set((RDFS.domain, RDFS.range))


def _is_noise_nt(s: str, p: str, o: str) -> bool:
    """:func:`_is_noise` for terms in N-Triples form (the two must agree: tested)."""
    if s[0] in '_"' or o[0] == "_":
        return True
    if s.startswith(_BUILTIN_NT):
        return True
    if p == _TYPE_NT and (o in _TRIVIAL_TYPES_NT or (o.startswith(_BUILTIN_NT) and o in _META_TYPES_NT)):
        return True
    if s == o and p in _REFLEXIVE_NOISE_NT:
        return True
    if p in _SUB_NT and o in _TOP_NT:
        return True
    if p in _NOTHING_SUB_NT and s == _NOTHING_NT:
        return True
    return p in _DOMAIN_RANGE_NT


def _is_noise(triple) -> bool:
    s, p, o = triple
    if isinstance(s, (BNode, Literal)) or isinstance(o, BNode):
        return True
    if str(s).startswith(_BUILTIN_PREFIXES):
        return True
    if p == RDF.type and (o in _TRIVIAL_TYPES or (isinstance(o, URIRef) and str(o).startswith(_BUILTIN_PREFIXES) and _is_meta_type(o))):
        return True
    if s == o and p in _REFLEXIVE_NOISE:
        return True
    if p in (RDFS.subClassOf, RDFS.subPropertyOf) and o in _TRIVIAL_TYPES | {OWL.topObjectProperty, OWL.topDataProperty}:
        return True
    if p in (RDFS.subClassOf, OWL.equivalentClass) and s == OWL.Nothing:
        return True
    # Generalised domains and ranges (crkg:saidBy rdfs:domain crkg:Evidence, from Quote ⊑
    # Evidence) are valid entailments about the schema, not facts about the data.
    if p in (RDFS.domain, RDFS.range):
        return True
    return False


#: Built-in types that only say what kind of term an IRI is (rdfs:Class, rdf:Property ...);
#: the ontology's own declarations already say it in OWL terms.
_META_TYPES = frozenset(
    {
        RDFS.Class,
        RDFS.Datatype,
        RDF.Property,
        RDF.List,
        OWL.Class,
        OWL.ObjectProperty,
        OWL.DatatypeProperty,
        OWL.AnnotationProperty,
        OWL.NamedIndividual,
        OWL.Thing,
    }
)


def _is_meta_type(o: URIRef) -> bool:
    return o in _META_TYPES


_META_TYPES_NT = _nt_set(_META_TYPES)

"""OWL 2 RL materialisation compiled from the ontology: the rules the build needs, fast.

W3C OWL 2 Profiles, section 4.3 (tables 4-9), states OWL 2 RL as rules over triples.
owlrl applies all of them generically to every triple in every cycle (~1,500 µs per
triple measured, bench/FINDINGS.md); ``reasonable`` 0.4 is fast but leaves out property
chains (prp-spo2), which give ``crkg:inCommunity`` and ``crkg:theoreticallyContributesTo``.
Here the terminology (TBox) is read once into tables (:class:`Schema`, :func:`read_schema`;
:func:`as_nt` puts them in N-Triples form) and the instance rules run as a work list
(:func:`infer`) over one study's triples as N-Triples strings (which hash and compare far
faster than rdflib terms), each new triple looked up only against the tables it can meet:

* cax-sco, cax-eqc1/2 (types from sub- and equivalent classes), prp-dom, prp-rng,
  prp-spo1, prp-eqp1/2, prp-inv1/2, prp-symp, prp-trp, prp-spo2 (chains of any length);
* the contradictions OWL 2 RL finds (table 4-9 rules whose head is ``false``): cax-dw,
  cax-adc (disjoint classes), cls-nothing2, prp-pdw, prp-irp, prp-asyp, and prp-fp /
  prp-ifp giving two distinct values (``owl:sameAs`` of two different resources, which
  the build refuses: eq-diff for the codebook, and a data error for anything else);
* the schema's own closure (scm-sco, scm-spo, scm-eqc/eqp) as triples, as owlrl reports it.

A TBox using a construct outside these tables (class restrictions, intersections,
``owl:oneOf``, ``owl:hasKey``, asserted ``owl:sameAs`` ...) is reported by
:attr:`Schema.unsupported`; :func:`crkg.pipeline.reason.materialise` then falls back to
owlrl for that graph, so the result is never silently incomplete; so does the build for a
study that carries terminology of its own (:func:`has_own_schema`).

Known difference from owlrl (the closure is otherwise the same: ``tests/unit/test_reason.py``
compares them on the shipped study): two distinct values of a functional property are a
contradiction here even when they are literals or resources outside crkg, where owlrl
would make them ``owl:sameAs`` (or, for literals, say nothing).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

#: Schema predicates: they describe terms and are read into :class:`Schema`, not reasoned
#: over as instance data.
SCHEMA_PREDICATES = frozenset(
    {
        RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range,
        OWL.equivalentClass, OWL.equivalentProperty, OWL.inverseOf,
        OWL.propertyChainAxiom, OWL.disjointWith, OWL.propertyDisjointWith,
        OWL.unionOf, OWL.members, OWL.distinctMembers, RDF.first, RDF.rest,
    }
)
_CHARACTERISTICS = {
    OWL.TransitiveProperty: "transitive",
    OWL.SymmetricProperty: "symmetric",
    OWL.FunctionalProperty: "functional",
    OWL.InverseFunctionalProperty: "inverse_functional",
    OWL.IrreflexiveProperty: "irreflexive",
    OWL.AsymmetricProperty: "asymmetric",
}
#: Predicates whose presence needs rules this module does not have (owlrl does).
_UNSUPPORTED_PREDICATES = frozenset(
    {
        OWL.onProperty, OWL.intersectionOf, OWL.complementOf, OWL.oneOf, OWL.hasKey,
        OWL.sameAs, OWL.differentFrom, OWL.sourceIndividual, OWL.hasSelf,
        OWL.assertionProperty,
    }
)
_UNSUPPORTED_TYPES = frozenset({OWL.AllDisjointProperties, OWL.NegativePropertyAssertion, OWL.Restriction})


def _closure(edges: dict) -> dict:
    """Reflexive-free transitive closure of a relation given as node -> set of nodes."""
    out: dict = {}
    for start in list(edges):
        seen: set = set()
        stack = list(edges.get(start, ()))
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(edges.get(node, ()))
        seen.discard(start)
        out[start] = frozenset(seen)
    return out


@dataclass
class Schema:
    """The TBox as lookup tables (IRIs only; blank-node class expressions are noise)."""

    superclasses: dict = field(default_factory=dict)
    superproperties: dict = field(default_factory=dict)
    domains: dict = field(default_factory=lambda: defaultdict(set))
    ranges: dict = field(default_factory=lambda: defaultdict(set))
    inverses: dict = field(default_factory=lambda: defaultdict(set))
    transitive: set = field(default_factory=set)
    symmetric: set = field(default_factory=set)
    functional: set = field(default_factory=set)
    inverse_functional: set = field(default_factory=set)
    irreflexive: set = field(default_factory=set)
    asymmetric: set = field(default_factory=set)
    #: chain result property -> list of chains (tuples of properties)
    chains: list = field(default_factory=list)
    #: property -> [(chain index, position)]
    chain_uses: dict = field(default_factory=lambda: defaultdict(list))
    disjoint_classes: dict = field(default_factory=lambda: defaultdict(set))
    disjoint_properties: dict = field(default_factory=lambda: defaultdict(set))
    #: what owlrl's scm-* rules add about named terms
    schema_triples: set = field(default_factory=set)
    unsupported: list = field(default_factory=list)

    @property
    def triggers(self) -> frozenset:
        """Predicates an instance rule can use (the others are inert, e.g. labels)."""
        props = set(self.superproperties) | set(self.domains) | set(self.ranges) | set(self.inverses)
        props |= self.transitive | self.symmetric | self.functional | self.inverse_functional
        props |= self.irreflexive | self.asymmetric | set(self.chain_uses) | set(self.disjoint_properties)
        return frozenset(props | {RDF.type})


def read_schema(graph: Graph) -> Schema:
    """The OWL 2 RL tables of the terminology in *graph* (ontology, plus any study's own)."""
    schema = Schema()
    sub_class: dict = defaultdict(set)
    sub_prop: dict = defaultdict(set)
    for s, o in graph.subject_objects(RDFS.subClassOf):
        if isinstance(s, URIRef) and isinstance(o, URIRef):
            sub_class[s].add(o)
        elif isinstance(s, BNode):
            schema.unsupported.append(f"a class expression as a subclass: {s} rdfs:subClassOf {o}")
    for s, o in graph.subject_objects(OWL.equivalentClass):
        if isinstance(s, URIRef) and isinstance(o, URIRef):
            sub_class[s].add(o)
            sub_class[o].add(s)
        else:
            schema.unsupported.append(f"an equivalence with a class expression: {s} owl:equivalentClass {o}")
    for s, o in graph.subject_objects(RDFS.subPropertyOf):
        if isinstance(s, URIRef) and isinstance(o, URIRef):
            sub_prop[s].add(o)
    for s, o in graph.subject_objects(OWL.equivalentProperty):
        sub_prop[s].add(o)
        sub_prop[o].add(s)
    schema.superclasses = _closure(sub_class)
    schema.superproperties = _closure(sub_prop)
    for c, supers in schema.superclasses.items():
        schema.schema_triples |= {(c, RDFS.subClassOf, d) for d in supers}
        schema.schema_triples |= {(c, OWL.equivalentClass, d) for d in supers if c in schema.superclasses.get(d, ())}
    for p, supers in schema.superproperties.items():
        schema.schema_triples |= {(p, RDFS.subPropertyOf, q) for q in supers}
        schema.schema_triples |= {
            (p, OWL.equivalentProperty, q) for q in supers if p in schema.superproperties.get(q, ())
        }

    for p, c in graph.subject_objects(RDFS.domain):
        if isinstance(c, URIRef):
            schema.domains[p].add(c)
        else:
            _check_union(graph, c, schema)
    for p, c in graph.subject_objects(RDFS.range):
        if isinstance(c, URIRef):
            schema.ranges[p].add(c)
        else:
            _check_union(graph, c, schema)
    for p, q in graph.subject_objects(OWL.inverseOf):
        schema.inverses[p].add(q)
        schema.inverses[q].add(p)
    for kind, name in _CHARACTERISTICS.items():
        getattr(schema, name).update(p for p in graph.subjects(RDF.type, kind) if isinstance(p, URIRef))
    for p, lst in graph.subject_objects(OWL.propertyChainAxiom):
        chain = tuple(Collection(graph, lst))
        if not all(isinstance(x, URIRef) for x in chain) or len(chain) < 2:
            schema.unsupported.append(f"a property chain with an inverse or a single step: {p}")
            continue
        index = len(schema.chains)
        schema.chains.append((p, chain))
        for position, step in enumerate(chain):
            schema.chain_uses[step].append((index, position))
    for a, b in graph.subject_objects(OWL.disjointWith):
        schema.disjoint_classes[a].add(b)
        schema.disjoint_classes[b].add(a)
    for node in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members = list(Collection(graph, graph.value(node, OWL.members)))
        for a in members:
            schema.disjoint_classes[a].update(m for m in members if m != a)
    for a, b in graph.subject_objects(OWL.propertyDisjointWith):
        schema.disjoint_properties[a].add(b)
        schema.disjoint_properties[b].add(a)
    for s, p, o in graph:
        if p in _UNSUPPORTED_PREDICATES:
            schema.unsupported.append(f"{p.n3()} (used by {s.n3() if not isinstance(s, BNode) else 'a blank node'})")
        elif p == RDF.type and o in _UNSUPPORTED_TYPES:
            schema.unsupported.append(f"{o.n3()}")
    schema.unsupported = sorted(set(schema.unsupported))
    return schema


def _check_union(graph: Graph, node, schema: Schema) -> None:
    # A union as a domain or range only types resources with the anonymous union class,
    # which the build drops as noise: nothing to compile. Anything else is unknown here.
    if graph.value(node, OWL.unionOf) is None:
        schema.unsupported.append(f"a class expression as a domain or range: {node}")


_RDF_TYPE = f"<{RDF.type}>"
_OWL_NOTHING = f"<{OWL.Nothing}>"
_SCHEMA_PREDICATES_NT = frozenset(f"<{p}>" for p in SCHEMA_PREDICATES)
#: What makes a graph carry terminology of its own (a study's own framework): then the
#: schema must be read from it too (rdf:first/rest alone are just lists).
_OWN_SCHEMA_PREDICATES_NT = frozenset(
    f"<{p}>" for p in (SCHEMA_PREDICATES - {RDF.first, RDF.rest}) | _UNSUPPORTED_PREDICATES
)
_OWN_SCHEMA_TYPES_NT = frozenset(
    f"<{t}>" for t in set(_CHARACTERISTICS) | _UNSUPPORTED_TYPES | {OWL.AllDisjointClasses, OWL.Class, RDFS.Class}
)


def has_own_schema(triples) -> bool:
    """Whether N-Triples *triples* carry terminology (then read the schema from them too)."""
    return any(p in _OWN_SCHEMA_PREDICATES_NT or (p == _RDF_TYPE and o in _OWN_SCHEMA_TYPES_NT)
               for _s, p, o in triples)


def nt_terms(line) -> tuple[str, str, str]:
    """``(s, p, o)`` of one N-Triples line, each term in its N-Triples form."""
    if isinstance(line, bytes):
        line = line.decode("utf-8")
    s, p, o = line.rstrip("\n").removesuffix(" .").split(" ", 2)
    return s, p, o


def _nt(term) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    return term.n3()


def as_nt(schema: Schema) -> Schema:
    """*schema* with every term in N-Triples form, as :func:`infer` reads triples."""
    def terms(values):
        return {_nt(v) for v in values}

    out = Schema(unsupported=list(schema.unsupported))
    out.superclasses = {_nt(k): frozenset(terms(v)) for k, v in schema.superclasses.items()}
    out.superproperties = {_nt(k): frozenset(terms(v)) for k, v in schema.superproperties.items()}
    for name in ("domains", "ranges", "inverses", "disjoint_classes", "disjoint_properties"):
        target = getattr(out, name)
        for k, v in getattr(schema, name).items():
            target[_nt(k)] = terms(v)
    for name in ("transitive", "symmetric", "functional", "inverse_functional", "irreflexive", "asymmetric"):
        setattr(out, name, terms(getattr(schema, name)))
    out.chains = [(_nt(p), tuple(_nt(x) for x in chain)) for p, chain in schema.chains]
    for k, v in schema.chain_uses.items():
        out.chain_uses[_nt(k)] = list(v)
    out.schema_triples = {tuple(_nt(x) for x in t) for t in schema.schema_triples}
    return out


def infer(schema: Schema, triples) -> tuple[set, list[str]]:
    """(every triple the instance rules derive from *triples*, contradictions found).

    *schema* is in N-Triples form (:func:`as_nt`) and so are the ``(s, p, o)`` *triples*:
    plain strings hash and compare far faster than rdflib terms. The result includes the
    input triples; the caller subtracts and filters.
    """
    facts: set = set()
    out_index: dict = defaultdict(lambda: defaultdict(set))  # p -> s -> {o}
    in_index: dict = defaultdict(lambda: defaultdict(set))  # p -> o -> {s}
    types: dict = defaultdict(set)  # s -> {class}
    agenda: list = []
    triggers = (set(schema.triggers) - {RDF.type} | {_RDF_TYPE}) - _SCHEMA_PREDICATES_NT
    problems: set = set()
    same: set = set()
    rdf_type = _RDF_TYPE

    def add(s, p, o) -> None:
        t = (s, p, o)
        if t not in facts:
            facts.add(t)
            agenda.append(t)

    for t in triples:
        if t[1] in triggers:
            add(*t)

    sup_c, sup_p = schema.superclasses, schema.superproperties
    domains, ranges, inverses = schema.domains, schema.ranges, schema.inverses
    while agenda:
        s, p, o = agenda.pop()
        if p == rdf_type:
            types[s].add(o)
            for d in sup_c.get(o, ()):
                add(s, rdf_type, d)
            if o == _OWL_NOTHING:
                problems.add(f"{s} is typed owl:Nothing (cls-nothing2)")
            for other in schema.disjoint_classes.get(o, ()):
                if other in types[s]:
                    a, b = sorted((_n(o), _n(other)))
                    problems.add(f"{s} is an instance of the disjoint classes {a} and {b} (cax-dw)")
            continue
        literal = o[0] == '"'
        out_index[p][s].add(o)
        if not literal:
            in_index[p][o].add(s)
        for q in sup_p.get(p, ()):
            add(s, q, o)
        for c in domains.get(p, ()):
            add(s, rdf_type, c)
        if not literal:
            for c in ranges.get(p, ()):
                add(o, rdf_type, c)
            for q in inverses.get(p, ()):
                add(o, q, s)
            if p in schema.symmetric:
                add(o, p, s)
        if p in schema.transitive and not literal:
            for z in list(out_index[p].get(o, ())):
                add(s, p, z)
            for w in list(in_index[p].get(s, ())):
                add(w, p, o)
        for index, position in schema.chain_uses.get(p, ()):
            result, chain = schema.chains[index]
            for start in _walk_back(in_index, chain, position, s):
                for end in _walk_forward(out_index, chain, position, o):
                    add(start, result, end)
        if p in schema.functional:
            for other in out_index[p][s]:
                if other != o and not _same_value(other, o):
                    same.add((p, s, frozenset((o, other))))
        if p in schema.inverse_functional and not literal:
            for other in in_index[p][o]:
                if other != s:
                    same.add((p, o, frozenset((s, other))))
        if p in schema.irreflexive and s == o:
            problems.add(f"{s} {_n(p)} itself, which is irreflexive (prp-irp)")
        if p in schema.asymmetric and not literal and s in out_index[p].get(o, ()):
            problems.add(f"{s} and {o} are {_n(p)} of each other, which is asymmetric (prp-asyp)")
        for q in schema.disjoint_properties.get(p, ()):
            if o in out_index[q].get(s, ()):
                a, b = sorted((_n(p), _n(q)))
                problems.add(f"{s} has {o} by both {a} and {b}, which are disjoint (prp-pdw)")
    for p, node, values in same:
        shown = " and ".join(sorted(values))
        problems.add(
            f"{_n(p)} is functional (one value each), yet {node} has {shown}: OWL 2 RL "
            "would make them the same individual (prp-fp/prp-ifp)"
        )
    return facts, sorted(problems)


def _same_value(a: str, b: str) -> bool:
    # "1"^^xsd:integer and "01"^^xsd:integer are one value, not a contradiction
    if a[0] != '"' or b[0] != '"':
        return False
    from rdflib.util import from_n3

    try:
        return from_n3(a).eq(from_n3(b))
    except Exception:  # noqa: BLE001 - a literal rdflib cannot read: compare the terms
        return False


def _walk_back(in_index, chain, position, node):
    """Resources x with x chain[0] ... chain[position-1] node."""
    frontier = {node}
    for step in reversed(chain[:position]):
        frontier = {x for n in frontier for x in in_index[step].get(n, ())}
        if not frontier:
            break
    return frontier


def _walk_forward(out_index, chain, position, node):
    """Resources z with node chain[position+1] ... chain[-1] z."""
    frontier = {node}
    for step in chain[position + 1:]:
        frontier = {z for n in frontier if n[0] != '"' for z in out_index[step].get(n, ())}
        if not frontier:
            break
    return frontier


def _n(term) -> str:
    """A term for a message: ``crkg:Local`` for crkg's terms, else ``<iri>``."""
    from crkg.namespaces import CRKG

    text = str(term).removeprefix("<").removesuffix(">")
    return f"crkg:{text[len(str(CRKG)):]}" if text.startswith(str(CRKG)) else f"<{text}>"

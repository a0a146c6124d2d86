"""The SHACL shapes compiled to SPARQL and run set-at-a-time by Oxigraph: the fast first pass.

Issue 14 item 3: one ordinary study validated in < 100 ms. pySHACL checks node by node in
Python (0.15-0.7 s for ~2,500 triples, bench/FINDINGS.md finding 10). Every constraint
component ``shapes/crkg-shapes.ttl`` uses is a set operation SPARQL does for all focus
nodes at once (SHACL §4: minCount/maxCount, class, datatype, pattern, uniqueLang, nodeKind,
min/maxInclusive, disjoint, qualified language counts; §2.3 ``sh:or`` of minCounts,
``sh:not`` of a class; §5 SPARQL-based constraints), so :func:`compile_shapes` turns each
(shape, constraint) into a SPARQL group pattern of violating ``?this``/``?value`` pairs,
and :func:`find_results` runs them over ontology + study in an in-memory store: the focus
nodes of each node shape are computed once (one ``INSERT``), then one query per node shape
asks all its checks (a ``UNION``).

How the build uses it (``crkg.pipeline.build``): a study this pass finds nothing in
conforms, exactly as pySHACL would say; if it finds anything, pySHACL runs and its report
(messages, locations) is the one shown. Shapes using a construct not compiled here are
listed in :attr:`CompiledShapes.unsupported`, and then pySHACL does every study. That the
pass finds what pySHACL finds is tested on every example pair of ``tests/shapes/examples``
and on the shipped study (``tests/shapes/test_shacl_sparql.py``).

Semantics kept from ``crkg.pipeline.shacl_validation``: the data is read with the ontology
(SHACL instances through ``rdf:type/rdfs:subClassOf*``), without RDFS inference.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from crkg.namespaces import CRKGSH

_FOCUS_GRAPH = "urn:crkg:shacl:focus"
_FOCUS_OF = "urn:crkg:shacl:focusOf"
_PROLOGUE = f"""PREFIX rdf: <{RDF}>
PREFIX rdfs: <{RDFS}>
PREFIX xsd: <{XSD}>
"""
#: Property shape predicates that carry no constraint. ``crkgsh:relaxedForDerived`` only
#: turns results into warnings after the full pySHACL run (crkg.pipeline.shacl_validation);
#: this pass still finds them, so the study goes to that run.
_INERT = frozenset({SH.path, SH.message, RDF.type, SH.name, SH.description, SH.severity,
                    SH.qualifiedMinCount, RDFS.comment, SH.order, SH.group, RDFS.label,
                    CRKGSH.relaxedForDerived})
#: Node shape predicates handled (targets, property shapes, or/not/sparql) or inert.
_NODE_KNOWN = frozenset({RDF.type, SH.targetClass, SH.targetSubjectsOf, SH.property, SH["or"], SH["class"],
                         SH["not"], SH.sparql, SH.message, SH.severity, RDFS.comment, RDFS.label,
                         SH.name, SH.description})


@dataclass(frozen=True)
class Check:
    """One constraint as a SPARQL group pattern binding the violating ``?this`` (and ``?value``)."""

    node_shape: str
    source_shape: str
    component: str  # e.g. "MinCountConstraintComponent"
    where: str


@dataclass(frozen=True)
class LineCheck:
    """``sh:datatype`` of an integer subtype on a simple path, checked on the N-Triples
    lines themselves (the store would fold the datatype into xsd:integer)."""

    node_shape: str
    source_shape: str
    predicate: str
    datatype: str
    component: str = "DatatypeConstraintComponent"

    def violators(self, data_nt: bytes) -> set[str]:
        """Subjects with a value of the predicate that is not a well-formed literal of the datatype."""
        import re

        in_range = _INTEGER_SUBTYPES[URIRef(self.datatype)]
        line_re = re.compile(rb"^<([^>]*)> <" + re.escape(self.predicate.encode()) + rb"> (.*) \.$", re.M)
        literal_re = re.compile(rb'^"([+-]?[0-9]+)"\^\^<' + re.escape(self.datatype.encode()) + rb">$")
        bad = set()
        for match in line_re.finditer(data_nt):
            value = literal_re.match(match.group(2).strip())
            if value is None or not in_range(int(value.group(1))):
                bad.add(match.group(1).decode("utf-8"))
        return bad


@dataclass
class CompiledShapes:
    targets: dict[str, str] = field(default_factory=dict)  # node shape -> target pattern
    checks: list[Check] = field(default_factory=list)
    line_checks: list[LineCheck] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    prologue: str = _PROLOGUE
    _queries: list = field(default_factory=list)

    def queries(self) -> list[tuple[str, str, list[Check]]]:
        """(node shape, SELECT over all its checks, the checks in ?check order)."""
        if not self._queries:
            by_shape: dict[str, list[Check]] = {}
            for check in self.checks:
                by_shape.setdefault(check.node_shape, []).append(check)
            for shape, checks in sorted(by_shape.items()):
                focus = f"GRAPH <{_FOCUS_GRAPH}> {{ ?this <{_FOCUS_OF}> <{shape}> }}"
                branches = " UNION ".join(
                    f"{{ {focus} {c.where} BIND({i} AS ?check) }}" for i, c in enumerate(checks)
                )
                self._queries.append((shape, f"{self.prologue}SELECT ?check ?this ?value WHERE {{ {branches} }}", checks))
        return self._queries


def _term(node) -> str:
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
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + _path(shapes, inverse)
    if (path, RDF.first, None) in shapes:
        return "(" + "/".join(_path(shapes, p) for p in Collection(shapes, path)) + ")"
    raise ValueError(f"a property path this pass does not compile: {path}")


def _targets(shapes: Graph, node) -> str | None:
    parts = [f"{{ ?this rdf:type/rdfs:subClassOf* <{c}> }}" for c in shapes.objects(node, SH.targetClass)]
    parts += [f"{{ ?this <{p}> [] }}" for p in shapes.objects(node, SH.targetSubjectsOf)]
    if (node, RDF.type, RDFS.Class) in shapes:
        parts.append(f"{{ ?this rdf:type/rdfs:subClassOf* <{node}> }}")
    return " UNION ".join(parts) if parts else None


def _prologue(shapes: Graph) -> str:
    lines = [_PROLOGUE]
    for declaration in shapes.objects(None, SH.declare):
        prefix, namespace = shapes.value(declaration, SH.prefix), shapes.value(declaration, SH.namespace)
        if prefix is not None and namespace is not None:
            lines.append(f"PREFIX {prefix}: <{namespace}>\n")
    return "".join(lines)


def compile_shapes(shapes: Graph) -> CompiledShapes:
    """Every (shape, constraint) of *shapes* as a :class:`Check`, and what could not be."""
    out = CompiledShapes(prologue=_prologue(shapes))
    for node in sorted(set(shapes.subjects(RDF.type, SH.NodeShape)), key=str):
        if isinstance(node, BNode):
            out.unsupported.append("a blank-node node shape")
            continue
        target = _targets(shapes, node)
        for predicate in set(shapes.predicates(node, None)) - _NODE_KNOWN:
            out.unsupported.append(f"{node} {predicate}")
        if (node, SH.targetNode, None) in shapes or (node, SH.targetObjectsOf, None) in shapes:
            out.unsupported.append(f"{node}: sh:targetNode / sh:targetObjectsOf")
        if target is None:
            continue
        out.targets[str(node)] = target
        for prop in shapes.objects(node, SH.property):
            _compile_property(shapes, str(node), prop, out)
        for alternatives in shapes.objects(node, SH["or"]):
            branches = []
            for member in Collection(shapes, alternatives):
                member_path, n = shapes.value(member, SH.path), shapes.value(member, SH.minCount)
                others = set(shapes.predicates(member, None)) - {SH.path, SH.minCount, RDF.type}
                if member_path is None or n is None or int(n) != 1 or others:
                    out.unsupported.append(f"{node}: an sh:or member other than a minCount 1")
                    break
                branches.append(f"{{ ?this {_path(shapes, member_path)} ?v }}")
            else:
                out.checks.append(Check(str(node), str(node), "OrConstraintComponent",
                                        f"FILTER NOT EXISTS {{ {' UNION '.join(branches)} }} BIND(?this AS ?value)"))
        for cls in shapes.objects(node, SH["class"]):
            out.checks.append(Check(str(node), str(node), "ClassConstraintComponent",
                                    f"FILTER NOT EXISTS {{ ?this rdf:type/rdfs:subClassOf* <{cls}> }} BIND(?this AS ?value)"))
        for negated in shapes.objects(node, SH["not"]):
            cls = shapes.value(negated, SH["class"])
            if cls is None or set(shapes.predicates(negated, None)) - {SH["class"], RDF.type}:
                out.unsupported.append(f"{node}: an sh:not other than of one class")
                continue
            out.checks.append(Check(str(node), str(node), "NotConstraintComponent",
                                    f"?this rdf:type/rdfs:subClassOf* <{cls}> . BIND(?this AS ?value)"))
        for constraint in shapes.objects(node, SH.sparql):
            select = shapes.value(constraint, SH.select)
            if select is None or (constraint, SH.deactivated, None) in shapes:
                out.unsupported.append(f"{node}: an sh:sparql constraint without sh:select")
                continue
            # SHACL §5.3.1: $this is pre-bound to each focus node; a subquery would see it
            # unbound (so FILTER NOT EXISTS over $this would test any resource), hence the
            # focus pattern goes first inside the constraint's own WHERE
            text = str(select).replace("$this", "?this")
            focus = f"GRAPH <{_FOCUS_GRAPH}> {{ ?this <{_FOCUS_OF}> <{node}> }}"
            text, found = re.subn(r"\bWHERE\s*\{", lambda m: m.group(0) + " " + focus + " ", text,
                                  count=1, flags=re.IGNORECASE)
            if not found:
                out.unsupported.append(f"{node}: an sh:sparql constraint without WHERE")
                continue
            out.checks.append(Check(str(node), str(node), "SPARQLConstraintComponent", f"{{ {text} }}"))
    out.unsupported = sorted(set(out.unsupported))
    return out


def _compile_property(shapes: Graph, node: str, prop, out: CompiledShapes) -> None:
    path_node = shapes.value(prop, SH.path)
    try:
        p = _path(shapes, path_node)
    except ValueError as exc:
        out.unsupported.append(str(exc))
        return
    source = str(prop)

    def add(component: str, where: str) -> None:
        out.checks.append(Check(node, source, component + "ConstraintComponent", where))

    for predicate, obj in shapes.predicate_objects(prop):
        if predicate == SH.minCount:
            n = int(obj)
            add("MinCount", f"FILTER NOT EXISTS {{ ?this {p} ?v }}" if n == 1 else
                f"FILTER NOT EXISTS {{ {{ SELECT ?this WHERE {{ ?this {p} ?v }} GROUP BY ?this "
                f"HAVING (COUNT(DISTINCT ?v) >= {n}) }} }}")
        elif predicate == SH.maxCount:
            add("MaxCount", f"{{ SELECT ?this WHERE {{ ?this {p} ?v }} GROUP BY ?this "
                f"HAVING (COUNT(DISTINCT ?v) > {int(obj)}) }}")
        elif predicate == SH["class"]:
            add("Class", f"?this {p} ?value . FILTER NOT EXISTS {{ ?value rdf:type/rdfs:subClassOf* <{obj}> }}")
        elif predicate == SH.datatype:
            if obj == RDF.langString:
                test = "!isLiteral(?value) || lang(?value) = ''"
            elif obj in _INTEGER_SUBTYPES:
                # Oxigraph stores "5"^^xsd:positiveInteger as "5"^^xsd:integer (bench/FINDINGS.md
                # finding 6), so the datatype is checked on the N-Triples text (LineCheck)
                if not isinstance(path_node, URIRef):
                    out.unsupported.append(f"{source} sh:datatype {obj} on a complex path")
                else:
                    out.line_checks.append(LineCheck(node, source, str(path_node), str(obj)))
                continue
            elif obj in _CASTS:
                # SHACL §4.2.2: of the datatype and well-formed (an ill-typed literal keeps
                # its form in the store; the constructor function fails on it)
                test = (f"!isLiteral(?value) || datatype(?value) != <{obj}> "
                        f"|| !COALESCE(isLiteral(<{obj}>(?value)), false)")
            elif obj == XSD.string:
                test = f"!isLiteral(?value) || datatype(?value) != <{obj}> || lang(?value) != ''"
            else:
                out.unsupported.append(f"{source} sh:datatype {obj}")
                continue
            add("Datatype", f"?this {p} ?value . FILTER ({test})")
        elif predicate == SH.pattern:
            flags = shapes.value(prop, SH.flags)
            args = f", {_term(flags)}" if flags is not None else ""
            add("Pattern", f"?this {p} ?value . FILTER (isBlank(?value) || !REGEX(STR(?value), {_term(obj)}{args}))")
        elif predicate == SH.flags:
            continue
        elif predicate == SH.uniqueLang:
            if obj.toPython():
                add("UniqueLang", f"?this {p} ?a , ?b . FILTER (!sameTerm(?a, ?b) && lang(?a) != '' "
                    "&& lcase(lang(?a)) = lcase(lang(?b))) BIND(?a AS ?value)")
        elif predicate == SH.nodeKind:
            test = _NODE_KIND_TESTS.get(str(obj).rsplit("#", 1)[-1])
            if test is None:
                out.unsupported.append(f"{source} sh:nodeKind {obj}")
            else:
                add("NodeKind", f"?this {p} ?value . FILTER ({test})")
        elif predicate in (SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive):
            op = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}[predicate]
            name = str(predicate).rsplit("#", 1)[-1]
            # a value that cannot be compared is a violation too (SHACL §4.3)
            add(name[0].upper() + name[1:], f"?this {p} ?value . FILTER (!COALESCE(?value {op} {_term(obj)}, false))")
        elif predicate == SH.disjoint:
            add("Disjoint", f"?this {p} ?value . ?this <{obj}> ?value .")
        elif predicate == SH.qualifiedValueShape:
            condition = _qualified_condition(shapes, obj)
            if condition is None:
                out.unsupported.append(f"{source} sh:qualifiedValueShape other than a language list, a class or a node kind")
                continue
            low, high = shapes.value(prop, SH.qualifiedMinCount), shapes.value(prop, SH.qualifiedMaxCount)
            if low is not None:
                n = int(low)
                add("QualifiedMinCount", f"FILTER NOT EXISTS {{ ?this {p} ?v . {condition} }}" if n == 1 else
                    f"FILTER NOT EXISTS {{ {{ SELECT ?this WHERE {{ ?this {p} ?v . {condition} }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) >= {n}) }} }}")
            if high is not None:
                add("QualifiedMaxCount", f"{{ SELECT ?this WHERE {{ ?this {p} ?v . {condition} }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {int(high)}) }}")
        elif predicate == SH.qualifiedMaxCount:
            continue
        elif predicate in (SH.maxLength, SH.minLength):
            op = ">" if predicate == SH.maxLength else "<"
            name = "MaxLength" if predicate == SH.maxLength else "MinLength"
            # SHACL §4.4.1-2: a blank node always violates; an IRI or literal by its string length
            add(name, f"?this {p} ?value . FILTER (isBlank(?value) || STRLEN(STR(?value)) {op} {int(obj)})")
        elif predicate in _INERT:
            continue
        else:
            out.unsupported.append(f"{source} {predicate}")


#: sh:nodeKind values (SHACL §4.1.3) → the SPARQL test that ``?value`` is NOT of that kind.
_NODE_KIND_TESTS = {
    "IRI": "!isIRI(?value)", "BlankNode": "!isBlank(?value)", "Literal": "!isLiteral(?value)",
    "BlankNodeOrIRI": "isLiteral(?value)", "BlankNodeOrLiteral": "isIRI(?value)",
    "IRIOrLiteral": "isBlank(?value)",
}


def _qualified_condition(shapes: Graph, shape) -> str | None:
    """A qualified value shape as a condition on ``?v``: ``sh:languageIn``, one ``sh:class``
    or one ``sh:nodeKind``."""
    predicates = set(shapes.predicates(shape, None)) - {RDF.type}
    if predicates == {SH.languageIn}:
        tags = " || ".join(f"langMatches(lang(?v), {Literal(str(t)).n3()})"
                           for t in Collection(shapes, shapes.value(shape, SH.languageIn)))
        return f"FILTER (isLiteral(?v) && ({tags}))"
    if predicates == {SH["class"]}:
        return f"?v rdf:type/rdfs:subClassOf* <{shapes.value(shape, SH['class'])}> ."
    if predicates == {SH.nodeKind}:
        test = _NODE_KIND_TESTS.get(str(shapes.value(shape, SH.nodeKind)).rsplit("#", 1)[-1])
        return None if test is None else f"FILTER (!({test.replace('?value', '?v')}))"
    return None


#: XSD datatypes with a constructor function (SPARQL 1.1 §17.5; Oxigraph adds the
#: date types) that fails on an ill-formed literal.
_CASTS = frozenset({XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.boolean, XSD.dateTime,
                    XSD.date})
#: Integer subtypes the store folds into xsd:integer, with the range that defines them.
_INTEGER_SUBTYPES = {
    XSD.positiveInteger: lambda n: n >= 1,
    XSD.nonNegativeInteger: lambda n: n >= 0,
    XSD.negativeInteger: lambda n: n <= -1,
    XSD.nonPositiveInteger: lambda n: n <= 0,
}


def find_results(compiled: CompiledShapes, store, data_nt: bytes) -> set[tuple[str, str, str]]:
    """(focus, source shape, component) of every result the checks find in *store*
    (a pyoxigraph Store holding ontology + data in its default graph; *data_nt* is what
    was loaded, for the :class:`LineCheck` s)."""
    import pyoxigraph as ox

    for shape, target in compiled.targets.items():
        store.update(f"{compiled.prologue}INSERT {{ GRAPH <{_FOCUS_GRAPH}> {{ ?this <{_FOCUS_OF}> <{shape}> }} }} "
                     f"WHERE {{ SELECT DISTINCT ?this WHERE {{ {target} }} }}")
    found = set()
    for _shape, query, checks in compiled.queries():
        for row in store.query(query):
            check = checks[int(row["check"].value)]
            found.add((row["this"].value, check.source_shape, check.component))
    for check in compiled.line_checks:
        for subject in check.violators(data_nt):
            focus = ox.Quad(ox.NamedNode(subject), ox.NamedNode(_FOCUS_OF), ox.NamedNode(check.node_shape),
                            ox.NamedNode(_FOCUS_GRAPH))
            if focus in store:
                found.add((subject, check.source_shape, check.component))
    return found


@functools.lru_cache(maxsize=4)
def _compiled(shapes_key: int, shapes: Graph) -> CompiledShapes:
    return compile_shapes(shapes)


def compiled_for(shapes: Graph) -> CompiledShapes:
    """The compiled form of a (cached, unchanging) shapes graph."""
    return _compiled(id(shapes), shapes)


def quick_results(data_nt: bytes, ontology_nt: bytes, shapes: Graph) -> set | None:
    """Results of the SPARQL pass over *ontology_nt* + *data_nt* (N-Triples), or None when
    the shapes use a construct it does not compile (then ask pySHACL)."""
    import pyoxigraph as ox

    compiled = compiled_for(shapes)
    if compiled.unsupported:
        return None
    store = ox.Store()
    store.bulk_load(ontology_nt, format=ox.RdfFormat.N_TRIPLES)
    store.bulk_load(data_nt, format=ox.RdfFormat.N_TRIPLES)
    return find_results(compiled, store, ontology_nt + b"\n" + data_nt)

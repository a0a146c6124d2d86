"""Every node shape has a valid and an invalid example, and each behaves as it should.

``examples/<ShapeName>/valid*.ttl`` must conform; ``examples/<ShapeName>/invalid*.ttl``
must fail for exactly the reasons its ``# expect: FOCUS PATH COMPONENT`` lines give (``-``
for a result without a path; a complex path in SPARQL syntax, e.g. ``(crkg:a|crkg:b)``),
every one raised by that shape or its property shapes.
Each example is validated together with ``examples/_base.ttl`` (a small conforming study)
and the real ontology, as the build does. Only results about the examples' own nodes
(``http://example.org/``) are compared; the ontology's individuals are checked in
``test_shapes_meta.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH

from crkg.pipeline.validate import validate
from crkg.namespaces import CRKGSH, bind_prefixes

EXAMPLES_DIR = Path(__file__).parent / "examples"
BASE_FILE = EXAMPLES_DIR / "_base.ttl"
EX = "http://example.org/"

VALID = sorted(EXAMPLES_DIR.glob("*/valid*.ttl"))
INVALID = sorted(EXAMPLES_DIR.glob("*/invalid*.ttl"))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _node_shapes(shapes: Graph) -> set[URIRef]:
    return {s for s in shapes.subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef)}


def _load(path: Path) -> tuple[Graph, Graph]:
    """(the example alone, the example with the base study)."""
    example = bind_prefixes(Graph()).parse(path, format="turtle")
    data = Graph().parse(BASE_FILE, format="turtle")
    data += example
    return example, data


def _expectations(path: Path, example: Graph) -> set[tuple]:
    expected = set()
    nm = example.namespace_manager
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# expect:"):
            continue
        focus, result_path, component = line.removeprefix("# expect:").split()
        expected.add((nm.expand_curie(focus), _expand_path(result_path, nm), nm.expand_curie(component)))
    return expected


def _expand_path(token: str, nm):
    """``-`` (no path), a CURIE, or a complex path in SPARQL syntax with CURIEs, e.g.
    ``(crkg:a|crkg:b)``, as crkg.pipeline.validate reports it (IRIs written ``<...>``)."""
    if token == "-":
        return None
    if not re.search(r"[|/^()*+?]", token):
        return nm.expand_curie(token)
    return Literal(re.sub(r"[A-Za-z][\w-]*:[\w.-]+", lambda m: f"<{nm.expand_curie(m.group(0))}>", token))


def _own_results(result):
    return [v for v in result.violations if str(v.focus).startswith(EX)]


def _focus_nodes(shape: URIRef, shapes: Graph, data: Graph, ontology: Graph) -> set:
    """The shape's focus nodes in *data* (SHACL §2.1.3; subclasses as SHACL instances)."""
    union = data + ontology
    nodes = set()
    for cls in shapes.objects(shape, SH.targetClass):
        for sub in union.transitive_subjects(RDFS.subClassOf, cls):
            nodes.update(data.subjects(RDF.type, sub))
    for prop in shapes.objects(shape, SH.targetSubjectsOf):
        nodes.update(data.subjects(prop, None))
    return nodes


def test_base_conforms(ontology):
    result = validate(Graph().parse(BASE_FILE, format="turtle"), ontology=ontology)
    assert result.conforms, result.format()


def test_every_node_shape_has_a_valid_and_an_invalid_example(shapes):
    names = {shape.removeprefix(str(CRKGSH)) for shape in _node_shapes(shapes)}
    assert len(names) >= 21, "the shapes file lost its node shapes"
    with_valid = {p.parent.name for p in VALID}
    with_invalid = {p.parent.name for p in INVALID}
    assert names - with_valid == set(), "node shapes without a valid example"
    assert names - with_invalid == set(), "node shapes without an invalid example"
    folders = {p.name for p in EXAMPLES_DIR.iterdir() if p.is_dir()}
    assert folders - names == set(), "example folders that name no node shape"


@pytest.mark.parametrize("path", VALID, ids=_id)
def test_valid_example_conforms(path, shapes, ontology):
    example, data = _load(path)
    shape = CRKGSH[path.parent.name]
    own = set(example.subjects())
    assert _focus_nodes(shape, shapes, data, ontology) & own, f"{_id(path)} gives {shape} nothing to check"
    result = validate(data, ontology=ontology, shapes=shapes)
    assert _own_results(result) == [], result.format()


@pytest.mark.parametrize("path", INVALID, ids=_id)
def test_invalid_example_fails_for_the_right_reason(path, shapes, ontology):
    example, data = _load(path)
    shape = CRKGSH[path.parent.name]
    expected = _expectations(path, example)
    assert expected, f"{_id(path)} has no '# expect:' line"

    result = validate(data, ontology=ontology, shapes=shapes)
    own = _own_results(result)
    got = {(v.focus, v.path, v.component) for v in own}
    assert got == expected, result.format()

    assert not result.conforms
    allowed = {shape, *shapes.objects(shape, SH.property)}
    for v in own:
        assert v.shape in allowed, f"{v.shape} (not {shape}) raised {v.component_name} on {v.focus}"
        assert v.messages.get("en") and v.messages.get("zh"), f"{v.shape} gave no message in en and zh"

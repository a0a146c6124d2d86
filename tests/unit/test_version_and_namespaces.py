"""The version has one source of truth and the namespaces match VOCABULARY.md."""

import tomllib

from crkg import __version__
from crkg.namespaces import CRKG, CRKGSH, GRAPH, ID, study_graph
from crkg.paths import REPO_ROOT


def test_version_comes_from_pyproject():
    with (REPO_ROOT / "pyproject.toml").open("rb") as fh:
        assert __version__ == tomllib.load(fh)["project"]["version"]


def test_namespaces_are_the_published_ones():
    assert str(CRKG) == "https://w3id.org/crkg/ontology#"
    assert str(CRKGSH) == "https://w3id.org/crkg/shapes#"
    assert str(ID) == "https://w3id.org/crkg/id/"
    assert str(GRAPH) == "https://w3id.org/crkg/graph/"
    assert str(study_graph("k")) == "https://w3id.org/crkg/graph/study/k"

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


def test_cli_help_lists_every_subcommand_without_importing_them():
    import subprocess
    import sys

    from crkg.cli import SUBCOMMANDS

    # A fresh interpreter: in this test session other tests have imported everything.
    probe = (
        "import sys; from click.testing import CliRunner; from crkg.cli import cli; "
        "r = CliRunner().invoke(cli, ['--help']); print(r.exit_code); print(r.output); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pyshacl', 'owlready2', 'flask', 'owlrl'}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.startswith("0\n")
    for name in SUBCOMMANDS:
        assert f"\n  {name} " in out
    # lazy: listing commands must not pay for pyshacl, owlready2, owlrl or the web stack
    assert out.rstrip().endswith("[]"), out

"""The ``crkg`` command: a thin shell over the package's functions.

Each subcommand lives in ``crkg.commands.<name>`` and is imported only when it
runs, so ``crkg serve`` does not pay for loading the SHACL and OWL machinery.
Subcommands parse arguments, call one function and map its outcome to an exit code
(see ``crkg.errors``).
"""

from __future__ import annotations

import importlib
import sys

import click

from crkg.errors import EXIT_ERROR, CrkgError
from crkg.version import __version__

#: name -> one-line help; the command object is ``crkg.commands.<name>.command``.
SUBCOMMANDS = {
    "build": "Convert, validate, reason and load all studies into the store and dist/.",
    "validate": "Validate RDF files against the SHACL shapes.",
    "serve": "Serve the SPARQL endpoint and Linked Data pages (builds the store if needed).",
    "query": "Run a SPARQL query against the built store.",
    "link": "Propose links to another dataset (Wikidata by default) for review.",
    "push": "Load every named graph into an external SPARQL 1.1 store.",
    "import": "Import a coded project (REFI-QDA .qdpx/.qde, QualCoder, CSV/XLSX) as a study folder.",
    "export-qdpx": "Export a study as a REFI-QDA project (.qdpx) for NVivo, ATLAS.ti, MAXQDA, QualCoder.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return list(SUBCOMMANDS)

    def get_command(self, ctx, name):
        if name not in SUBCOMMANDS:
            return None
        module = importlib.import_module(f"crkg.commands.{name.replace('-', '_')}")
        return module.command

    def format_commands(self, ctx, formatter):
        # List the subcommands from the table above without importing every module.
        with formatter.section("Commands"):
            formatter.write_dl(sorted(SUBCOMMANDS.items()))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crkg")
def cli():
    """crkg: the Community Resilience Knowledge Graph.

    Exit codes: 0 success or conforms; 1 does not conform; 2 error.
    """


def main(argv=None):
    """Console-script entry point: run the group, turn ``CrkgError`` into its exit code."""
    try:
        return cli.main(args=argv, prog_name="crkg", standalone_mode=True)
    except CrkgError as exc:
        click.echo(f"crkg: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(EXIT_ERROR)

"""``crkg validate FILE...``: check RDF files against the SHACL shapes.

Exit codes (crkg.errors): 0 the data conforms; 1 it does not (the report names each item,
the property and what to do); 2 a file is missing, unreadable or not valid RDF (the
message names the file and the parser's line).
"""

from __future__ import annotations

from pathlib import Path

import click

from crkg.pipeline.validate import load_rdf_files, load_shapes, validate
from crkg.errors import NonConformant


@click.command(name="validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--shapes", "shapes_file", type=click.Path(path_type=Path), default=None,
              help="SHACL shapes file (default: shapes/crkg-shapes.ttl).")
@click.option("--ontology", "ontology_file", type=click.Path(path_type=Path), default=None,
              help="Ontology read together with the data (default: ontology/crkg.ttl).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Report format.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Language of the messages in the text report.")
def command(files, shapes_file, ontology_file, output_format, lang):
    """Validate RDF FILES (.ttl .nt .nq .trig .jsonld .rdf .owl .xml), read as one graph.

    Exit 0 if the data conforms, 1 if it does not, 2 if a file cannot be read or parsed.
    """
    data, source_map = load_rdf_files(files)
    shapes = load_shapes(shapes_file) if shapes_file is not None else None
    ontology = load_rdf_files([ontology_file])[0] if ontology_file is not None else None
    result = validate(data, ontology=ontology, shapes=shapes)
    if output_format == "json":
        click.echo(result.to_json())
    else:
        click.echo(result.format(source_map, lang=lang, graph=data), nl=False)
    if not result.conforms:
        n = sum(1 for v in result.violations if v.severity_name == "Violation")
        raise NonConformant(f"the data does not conform to the shapes: {n} violation(s)")

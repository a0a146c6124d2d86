"""``crkg export-qdpx --study KEY OUT.qdpx``: a study as a REFI-QDA project.

Exit codes (crkg.errors): 0 written (passages that could not be placed are listed), 2 no
such study or it cannot be exported. See crkg.importers.exporter.
"""

from __future__ import annotations

from pathlib import Path

import click

from crkg.errors import CrkgError
from crkg.paths import DATA_DIR


@click.command(name="export-qdpx")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--study", "study_key", required=True, help="Key of the study (data/studies/KEY).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=DATA_DIR, show_default=True)
def command(out, study_key, data_dir):
    """Write study KEY as a REFI-QDA .qdpx (valid against the REFI-QDA schema)."""
    from crkg.importers.exporter import export_study

    folder = Path(data_dir) / "studies" / study_key
    if not folder.is_dir():
        raise CrkgError(f"{folder}: no such study")
    r = export_study(folder, out)
    click.echo(f"crkg export-qdpx: {study_key} -> {out}: {r.sources} source(s), {r.codes} codes, "
               f"{r.cases} cases, {r.selections} coded selections (valid REFI-QDA)")
    for s in r.skipped:
        click.echo(f"  skipped: {s}")
    for f in r.unplaced_facts:
        click.echo(f"  not expressible by co-coding (another intervention shares the passages): {f}")
    for i in r.interventions_without_passage:
        click.echo(f"  intervention {i}: none of its evidence could be placed; exported as a code without codings")

"""``crkg import PATH --study KEY``: a coded project from a QDA tool → a study folder.

Exit codes (crkg.errors): 0 imported (warnings printed and counted), 2 the input is
unusable or refused (nothing written). See crkg.importers.
"""

from __future__ import annotations

from pathlib import Path

import click

from crkg.paths import DATA_DIR


@click.command(name="import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--study", "study_key", required=True, help="Key of the study folder to write (data/studies/KEY).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=DATA_DIR, show_default=True,
              help="The data folder holding studies/.")
@click.option("--language", default=None, help="BCP 47 tag of the study's texts (default: en, or the last import's).")
@click.option("--sources", "sources_dir", type=click.Path(path_type=Path), default=None,
              help="Folder to read relative:// and absolute:// sources (and a table's documents) from.")
@click.option("--keep-names", is_flag=True, help="Keep user names and paths (default: neutral coder-1, coder-2 …).")
@click.option("--force", is_flag=True, help="Replace a folder that holds another project or a hand-coded study.")
def command(path, study_key, data_dir, language, sources_dir, keep_names, force):
    """Import a REFI-QDA .qdpx/.qde, a QualCoder project or a CSV/XLSX of coded segments."""
    from crkg.importers.run import format_result, import_project

    result = import_project(path, study_key, data_dir, language=language, keep_names=keep_names,
                            force=force, sources_dir=sources_dir)
    click.echo(format_result(result, Path(path)), nl=False)

"""``crkg build``: see crkg.pipeline.build."""

from __future__ import annotations

from pathlib import Path

import click

from crkg.config import Config
from crkg.paths import DATA_DIR, DEFAULT_DIST_DIR, DEFAULT_STORE_DIR


@click.command("build")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=DATA_DIR,
              show_default=True, help="A data folder (studies/ and links/) or a folder of study folders.")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=DEFAULT_STORE_DIR,
              show_default=True, help="Where the embedded Oxigraph store is written.")
@click.option("--dist", "dist_dir", type=click.Path(path_type=Path), default=DEFAULT_DIST_DIR,
              show_default=True, help="Where the release files are written.")
@click.option("--no-dist", is_flag=True, help="Do not write release files.")
@click.option("--force", is_flag=True, help="Rebuild even if the store is up to date.")
@click.option("--no-reason", is_flag=True, help="Skip HermiT and the OWL 2 RL closure (faster; no graph/inferred).")
@click.option("--strict", is_flag=True,
              help="Fail when the HermiT check of the ontology cannot run (no Java runtime); "
                   "without it the build goes on and says the check was skipped.")
@click.option("--jobs", default=None, type=click.IntRange(0),
              help="Processes converting and validating the studies (and, above 1, one writing the "
                   "search index beside the store load): 0 one per available CPU, 1 none besides the "
                   f"build's own (default: {Config.BUILD_JOBS}, or CRKG_BUILD_JOBS). "
                   "The output is the same whatever the number.")
def command(data_dir, store_dir, dist_dir, no_dist, force, no_reason, strict, jobs):
    """Convert, validate, reason and load all studies into the store and dist/.

    Exit codes: 0 built (or up to date); 1 a study does not conform to the shapes
    or the ontology is inconsistent; 2 error (unreadable or unparsable source, a
    store or dist/ that cannot be written, --strict without Java).
    """
    from crkg.pipeline.build import build

    build(data_dir=data_dir, store_dir=store_dir, dist_dir=None if no_dist else dist_dir,
          force=force, reason=not no_reason, strict=strict, jobs=jobs)

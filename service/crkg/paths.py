"""Where the project's source folders are.

crkg is installed editable from a checkout (README); its sources (ontology, shapes,
data, queries) are the repository's own folders, not copies inside the package.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root: the folder holding pyproject.toml, ontology/, shapes/, data/.
REPO_ROOT = Path(os.environ.get("CRKG_HOME", Path(__file__).resolve().parents[2]))

ONTOLOGY_DIR = REPO_ROOT / "ontology"
ONTOLOGY_FILE = ONTOLOGY_DIR / "crkg.ttl"
SHAPES_DIR = REPO_ROOT / "shapes"
DATA_DIR = REPO_ROOT / "data"
STUDIES_DIR = DATA_DIR / "studies"
LINKS_DIR = DATA_DIR / "links"
QUERIES_DIR = REPO_ROOT / "queries"
#: The public vocabulary contract (IRIs scholars' queries depend on).
VOCABULARY_FILE = ONTOLOGY_DIR / "VOCABULARY.md"


def study_sources_dir(key: str, studies_dir: Path = STUDIES_DIR) -> Path:
    """A study's own source texts (transcripts, the paper): ``<studies>/<key>/sources/``."""
    return studies_dir / key / "sources"


FACTS_DIR = DATA_DIR / "facts"

#: Default outputs; both are git-ignored and never written by tests.
DEFAULT_STORE_DIR = REPO_ROOT / "var" / "store"
DEFAULT_DIST_DIR = REPO_ROOT / "dist"

#: The ontology release files ``crkg build`` writes: ``{dist}/ontology/`` and the same
#: bytes beside the store (``store_release_dir``), which ``/ontology`` serves.
RELEASE_DIR_NAME = "ontology"
RELEASE_TURTLE = "crkg.ttl"
RELEASE_RDFXML = "crkg.owl"
RELEASE_CATALOG = "catalog-v001.xml"


#: The folder inside a store generation (the directory the store path names) that
#: holds what the build writes beside the data, so it is swapped in with the store
#: (``crkg.pipeline.artefacts``); RocksDB ignores a sub-folder of its directory.
STORE_SIDE_DIR_NAME = "crkg-side"


def store_side_dir(store_dir) -> Path:
    """The side folder of the store generation *store_dir* names now
    (``crkg.store.generation.current``: a symbolic link or a pointer file, resolved)."""
    from crkg.store.generation import current  # not at import: crkg.config imports this module

    return current(store_dir) / STORE_SIDE_DIR_NAME


def store_release_dir(store_dir) -> Path:
    """Where the build puts the release files of the store at *store_dir*: in the side
    folder of its generation (``<generation>/crkg-side/release/``), swapped in with it."""
    return store_side_dir(store_dir) / "release"

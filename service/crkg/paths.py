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


def store_release_dir(store_dir) -> Path:
    """Where the build puts the release files of the store at *store_dir*: beside it, as
    the manifest is (never inside RocksDB's own folder): ``<store>.release/``."""
    store_dir = Path(store_dir)
    return store_dir.with_name(store_dir.name + ".release")

"""Writing a file so that a reader sees the old bytes or the new ones, never half of them."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """*data* into *path* through a temporary file beside it and one ``os.replace``. The
    temporary name holds the process id, so two processes (the build and its workers)
    never write the same one, and ends in ``.tmp`` (what a killed writer leaves is
    recognisable: ``crkg.pipeline.build`` prunes it from its cache)."""
    path = Path(path)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)

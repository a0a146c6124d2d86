"""Bring coded projects from qualitative-analysis tools into crkg, and take studies back.

``crkg import`` reads a REFI-QDA project (``.qdpx``, a bare ``.qde``), a QualCoder project
(``data.qda``) or a table of coded segments (CSV/XLSX) into one in-memory
:class:`~crkg.importers.model.Project`, converts every selection's offsets to Unicode code
points over the text as crkg stores it (:mod:`~crkg.importers.offsets`), verifies them, and
writes an ordinary study folder (:mod:`~crkg.importers.writer`). ``crkg export-qdpx`` does
the reverse (:mod:`~crkg.importers.exporter`).

Hostile input is refused before anything is written (:mod:`~crkg.importers.safezip`,
:mod:`~crkg.importers.safexml`): each refusal is a :class:`HostileInput`, exit code 2.
"""

from __future__ import annotations

from crkg.errors import CrkgError


class HostileInput(CrkgError):
    """An input the importer refuses to read for safety (XXE, zip slip, zip bomb, a path
    outside ``--sources``). Exit code 2, nothing written."""


class UnusableInput(CrkgError):
    """An input that cannot be imported at all (not a project, unreadable). Exit code 2."""

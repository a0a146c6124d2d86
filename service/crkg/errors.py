"""Exit codes and the errors that map to them (documented in README, kept stable).

0  success / the data conforms
1  the data does not conform to the shapes (or the ontology is inconsistent)
2  error: unreadable or unparsable input, bad arguments, an unreachable endpoint
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_NONCONFORMANT = 1
EXIT_ERROR = 2


class CrkgError(Exception):
    """A failure the user can fix; its message says what and where. Exit code 2."""

    exit_code = EXIT_ERROR


class NonConformant(CrkgError):
    """The data violates the shapes or the ontology is inconsistent. Exit code 1."""

    exit_code = EXIT_NONCONFORMANT

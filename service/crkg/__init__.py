"""crkg: the Community Resilience Knowledge Graph.

The package is laid out as ARCHITECTURE.md describes: ``build`` (sources to a
validated, reasoned dataset), ``store`` (the one place that talks to a query
engine), ``web`` (Flask blueprints), ``link`` (other datasets and external engines)
and a thin ``cli``. Nothing here does work at import time.
"""

from crkg.version import __version__

__all__ = ["__version__"]

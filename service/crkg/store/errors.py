"""The store's errors, one per way a query can fail (the web layer maps each to a status).

Their own module so that ``crkg.store.guard`` and ``crkg.store.base`` both import them
without importing each other.
"""

from __future__ import annotations

from crkg.errors import CrkgError


class QueryError(CrkgError):
    """The query is malformed or not allowed (HTTP 400). ``str()`` is the parser's message."""


class ServiceNotAllowed(QueryError):
    """The query names a ``SERVICE`` endpoint that is not on the allow-list (HTTP 400)."""


class QueryTimeout(CrkgError):
    """The query ran past its time limit and was stopped (HTTP 503)."""


class BackendUnavailable(CrkgError):
    """The engine could not be reached or died while answering (HTTP 502/503)."""

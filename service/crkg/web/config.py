"""Service settings: a ``Config`` class read from the environment, and ``TestConfig``.

Every setting has a ``CRKG_`` environment variable of the same name, e.g.
``CRKG_QUERY_TIMEOUT=10``. Lists (``SERVICE_ALLOWLIST``) are whitespace- or
comma-separated.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

from crkg.paths import DEFAULT_STORE_DIR


def _env(name: str, default, cast):
    raw = os.environ.get(f"CRKG_{name}")
    if raw is None:
        return default
    if cast is tuple:
        return tuple(p for p in raw.replace(",", " ").split() if p)
    if cast is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return cast(raw)


@dataclass
class Config:
    #: where the embedded Oxigraph store lives
    STORE_DIR: str = str(DEFAULT_STORE_DIR)
    #: a remote SPARQL 1.1 query endpoint to use instead of the embedded store
    BACKEND: str | None = None
    #: the public base the IRIs https://w3id.org/crkg/... are served under
    #: (e.g. https://kg.example.org/); None: the request's own host
    PUBLIC_BASE_URL: str | None = None
    #: seconds a query may run before it is stopped
    QUERY_TIMEOUT: float = 30.0
    #: most result rows (or triples) a query returns; the response says when it cut
    MAX_ROWS: int = 10_000
    #: largest request body accepted, in bytes (413 above it)
    MAX_REQUEST_BYTES: int = 1_000_000
    #: query worker processes of the fast lane (long queries get extra ones)
    QUERY_WORKERS: int = 4
    #: SERVICE endpoints a query may call; empty: SERVICE is refused
    SERVICE_ALLOWLIST: tuple = field(default_factory=tuple)
    #: data-segment limit of one query worker in MiB (RLIMIT_DATA); 0: no limit
    WORKER_MEMORY_MB: int = 1024
    TESTING: bool = False

    # ---- serving: the front server (crkg.web.front) and query admission ------------------
    # (crkg.store.admission; issue 13). Each default is stated here and nowhere else.
    #: threads answering requests; a request waiting on a long query holds one
    SERVER_THREADS: int = 16
    #: open connections, all clients together (more wait in the listen backlog); below
    #: Windows' select() limit of 512 sockets
    CONNECTION_LIMIT: int = 400
    #: open connections one client address may hold; one more is answered 429 and closed
    CONNECTIONS_PER_CLIENT: int = 64
    #: seconds a request (line, headers and body) may take to arrive after its first byte
    REQUEST_READ_TIMEOUT: float = 10.0
    #: seconds an idle keep-alive connection stays open
    IDLE_TIMEOUT: float = 15.0
    #: bytes of a refused body (413) read and discarded so that the client reads the 413
    DISCARD_LIMIT_BYTES: int = 256 * 1024 * 1024
    #: queries one client address may have running at once (429 above)
    QUERIES_PER_CLIENT: int = 4
    #: seconds a query runs in the fast lane before it counts as long
    SHORT_QUERY_BUDGET: float = 0.5
    #: long queries at once, all clients together (503 above)
    LONG_QUERIES: int = 4
    #: long queries at once for one client address (429 above)
    LONG_QUERIES_PER_CLIENT: int = 2
    #: seconds a long query holds its slot before a newer one may take it (all taken)
    LONG_QUERY_PREEMPT_AFTER: float = 5.0
    #: seconds a query waits for a free query worker of the fast lane (503 after)
    QUEUE_WAIT: float = 5.0
    #: Retry-After, in seconds, of a 429 or 503
    RETRY_AFTER: int = 5
    #: address of a reverse proxy in front (e.g. 127.0.0.1); its X-Forwarded-For then names
    #: the client the limits above apply to. Empty: clients connect directly
    TRUSTED_PROXY: str = ""
    # ---- end of the serving block ------------------------------------------------------

    @classmethod
    def from_env(cls, **overrides) -> "Config":
        values = {}
        for f in fields(cls):
            if f.name == "SERVICE_ALLOWLIST":
                default, cast = (), tuple
            elif f.name in {"BACKEND", "PUBLIC_BASE_URL"}:
                default, cast = None, str
            else:
                default = f.default
                cast = type(default)
            values[f.name] = _env(f.name, default, cast)
        values.update(overrides)
        return cls(**values)

    def as_flask(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class TestConfig(Config):
    __test__ = False  # not a pytest test class, despite the name
    TESTING: bool = True
    QUERY_TIMEOUT: float = 5.0

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
    #: query worker processes per web worker
    QUERY_WORKERS: int = 2
    #: SERVICE endpoints a query may call; empty: SERVICE is refused
    SERVICE_ALLOWLIST: tuple = field(default_factory=tuple)
    #: data-segment limit of one query worker in MiB (RLIMIT_DATA); 0: no limit
    WORKER_MEMORY_MB: int = 1024
    TESTING: bool = False

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

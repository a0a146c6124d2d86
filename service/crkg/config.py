"""crkg's settings: one ``Config`` object, its defaults stated once, read from the environment.

Every setting has a ``CRKG_`` environment variable of the same name, e.g.
``CRKG_QUERY_TIMEOUT=10``. Lists (``SERVICE_ALLOWLIST``) are whitespace- or
comma-separated; booleans are ``1``/``true``/``yes``/``on``.

Used by the web service (``crkg.web.app.create_app``), the stores (``crkg.store``), and the
commands (``crkg query``, ``crkg push``, ``crkg link``, ``crkg serve``): a default here is
the default everywhere, and a class attribute (``Config.QUERY_TIMEOUT``) is the default
value where no ``Config`` instance is at hand (a function's keyword default). Imports no
Flask. ``crkg.web.config`` re-exports these names (older imports keep working).
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields

from crkg.errors import CrkgError
from crkg.paths import DEFAULT_STORE_DIR

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env(name: str, default, cast):
    raw = os.environ.get(f"CRKG_{name}")
    if raw is None:
        return default
    if cast is tuple:
        return tuple(p for p in raw.replace(",", " ").split() if p)
    if cast is bool:
        value = raw.strip().lower()
        if value not in _TRUE | _FALSE:
            raise CrkgError(f"CRKG_{name}={raw!r}: give one of 1/true/yes/on or 0/false/no/off")
        return value in _TRUE
    try:
        return cast(raw)
    except ValueError:
        raise CrkgError(f"CRKG_{name}={raw!r} is not a valid {cast.__name__} "
                        f"(the default is {default!r})") from None


_CASTS = {"bool": bool, "int": int, "float": float, "tuple": tuple, "str": str}


def _cast(annotation, default):
    """The type a setting's variable is read as: its default's, or for a ``None`` default
    the first type its annotation names (``float | None`` -> float), else str."""
    if default is not None:
        return type(default)
    names = str(annotation).replace("|", " ").replace("Optional[", " ").replace("]", " ").split()
    return next((_CASTS[n] for n in names if n in _CASTS), str)


@dataclass
class Config:
    # -- what is served -----------------------------------------------------------------
    #: where the embedded Oxigraph store lives
    STORE_DIR: str = str(DEFAULT_STORE_DIR)
    #: how ``crkg build`` swaps a new store generation in (``crkg.store.generation``):
    #: ``symlink``, ``pointer`` (a file naming it: Windows without the link privilege), or
    #: ``auto`` (a symbolic link wherever one can be made)
    STORE_SWAP: str = "auto"
    #: a remote SPARQL 1.1 query endpoint to use instead of the embedded store
    BACKEND: str | None = None
    #: the public base the IRIs https://w3id.org/crkg/... are served under
    #: (e.g. https://kg.example.org/); None: the request's own host
    PUBLIC_BASE_URL: str | None = None

    # -- queries: time limits and caps --------------------------------------------------
    #: seconds a query may run before it is stopped
    QUERY_TIMEOUT: float = 30.0
    #: most result rows (or triples) a query returns; the response says when it cut
    MAX_ROWS: int = 10_000
    #: largest request body accepted, in bytes (413 above it; 414 for a URL)
    MAX_REQUEST_BYTES: int = 1_000_000
    #: most parameters one request may carry (400 above it)
    MAX_PARAMETERS: int = 1000
    #: deepest bracket nesting a query may have (400 above it; the engine's parser recurses)
    MAX_NESTING: int = 200
    #: SERVICE endpoints a query may call; empty: SERVICE is refused
    SERVICE_ALLOWLIST: tuple = field(default_factory=tuple)

    # -- ``crkg build`` ----------------------------------------------------------------
    #: processes converting and validating the studies (``crkg build --jobs``): 0 one per
    #: available CPU, 1 the build's own process alone (a single study always runs there);
    #: above 1 the search index is also written by a process of its own
    BUILD_JOBS: int = 0

    # -- the embedded store's query processes -----------------------------------------
    #: query worker processes of the fast lane (long queries get extra ones)
    QUERY_WORKERS: int = 4
    #: data-segment limit of one query worker in MiB (RLIMIT_DATA); 0: no limit
    WORKER_MEMORY_MB: int = 1024
    #: seconds a read of whole graphs from the local store may take (push, link, load)
    EXPORT_TIMEOUT: float = 3600.0

    # -- remote SPARQL endpoints (``--backend``, ``crkg push``, ``crkg link``) ------------
    #: seconds one request to the target of ``crkg push`` may take
    PUSH_TIMEOUT: float = 300.0
    #: triples per INSERT DATA request of ``crkg push`` (Virtuoso: fastest near 100)
    PUSH_BATCH_SIZE: int = 100
    #: seconds ``crkg link`` waits for the endpoint it searches
    LINK_TIMEOUT: float = 60.0
    #: seconds a remote back end's list of named graphs is reused before it is asked again
    GRAPHS_CACHE_SECONDS: float = 60.0

    # -- ``crkg serve`` ---------------------------------------------------------------
    #: interface and TCP port ``crkg serve`` listens on
    HOST: str = "127.0.0.1"
    PORT: int = 8000

    # -- serving: the front server (crkg.web.front) and query admission -----------------
    # (crkg.store.admission; issue 13)
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

    TESTING: bool = False

    @classmethod
    def from_env(cls, **overrides) -> "Config":
        """The defaults, replaced by ``CRKG_*`` variables, replaced by *overrides*."""
        values = {}
        for f in fields(cls):
            if f.name in overrides:
                continue
            factory = f.default_factory
            default = factory() if f.default is MISSING and callable(factory) else f.default
            values[f.name] = _env(f.name, default, _cast(f.type, default))
        values.update(overrides)
        return cls(**values)

    @classmethod
    def for_command(cls, store_dir=None, **overrides) -> "Config":
        """``from_env`` for a command with a ``--store DIR`` option: DIR, when given, is
        ``STORE_DIR`` (else ``CRKG_STORE_DIR``, else the default)."""
        if store_dir is not None:
            overrides["STORE_DIR"] = str(store_dir)
        return cls.from_env(**overrides)

    def as_flask(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class TestConfig(Config):
    __test__ = False  # not a pytest test class, despite the name
    TESTING: bool = True
    QUERY_TIMEOUT: float = 5.0

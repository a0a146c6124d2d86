"""The one HTTP client crkg talks to remote SPARQL endpoints with.

Used by the remote store (``crkg serve --backend``, ``crkg.store.remote``), by ``crkg push``
(``crkg.store.graph_writer``) and by ``crkg link`` (``crkg.link.propose``), so every remote
request has the same User-Agent, authentication, time limits and mapping of failures to
crkg's errors (SPARQL 1.1 Protocol, https://www.w3.org/TR/sparql11-protocol/ §2.1, §2.2):

* no connection, or an HTTP failure of the engine: ``BackendUnavailable`` (HTTP 503 on
  crkg's own endpoint, exit code 2 on the command line), with the server's
  ``Retry-After`` when it rate-limits;
* no answer within the time limit, or the engine's own time-out: ``QueryTimeout``;
* the engine rejects the query (400, or Virtuoso's SQL states on a 500): ``QueryError``.

Plain ``urllib`` (no SPARQLWrapper): the same code path for queries, updates and Graph
Store PUTs, and the body of an error response is always read and closed.
"""

from __future__ import annotations

import base64
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Sequence

import pyoxigraph as ox

from crkg.namespaces import BASE_IRI
from crkg.store.base import BackendUnavailable, QueryError, QueryTimeout
from crkg.version import __version__

#: Wikidata's User-Agent policy asks every client to name itself and a way to reach its
#: maintainers (https://meta.wikimedia.org/wiki/User-Agent_policy); other endpoints
#: get the same courtesy.
USER_AGENT = f"crkg/{__version__} (+{BASE_IRI}; Community Resilience Knowledge Graph)"

FORM_URLENCODED = "application/x-www-form-urlencoded"
SPARQL_XML = "application/sparql-results+xml"
SPARQL_JSON = "application/sparql-results+json"


def _retry_after(headers) -> str:
    value = headers.get("Retry-After") if headers is not None else None
    return f"; it asks to retry after {value} s" if value else ""


@dataclass
class HttpResult:
    status: int
    media_type: str
    body: bytes
    headers: object


class HttpClient:
    """Plain HTTP with optional Basic or Digest authentication, one User-Agent."""

    def __init__(self, user: str | None = None, password: str | None = None,
                 user_agent: str = USER_AGENT):
        handlers = []
        if user is not None:
            # Whichever scheme the server challenges with (Virtuoso: Digest; Fuseki,
            # GraphDB: Basic) is answered.
            passwords_any = _AnyUriPasswords(user, password or "")
            handlers += [urllib.request.HTTPDigestAuthHandler(passwords_any),
                         urllib.request.HTTPBasicAuthHandler(passwords_any)]
            self._passwords = passwords_any
        self._opener = urllib.request.build_opener(*handlers)
        self.user_agent = user_agent
        self.user, self.password = user, password

    def _preauthorize(self, req: urllib.request.Request, timeout: float) -> None:
        """Answer the server's challenge before sending a large body.

        urllib sends the whole body, gets 401 and sends it again; Virtuoso resets the
        connection while a multi-megabyte body is still being sent to it (measured:
        a 9 MB Graph Store PUT failed with "connection reset by peer"). A HEAD request
        fetches the challenge first, so the body travels once, already authorised.
        """
        probe = urllib.request.Request(req.full_url, method="HEAD")
        probe.add_header("User-Agent", self.user_agent)
        try:
            with urllib.request.build_opener().open(probe, timeout=timeout):
                return  # no authentication asked for
        except urllib.error.HTTPError as exc:
            challenge = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
            exc.close()
        except (urllib.error.URLError, OSError):
            return  # the real request will report it
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "digest":
            chal = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))
            handler = urllib.request.HTTPDigestAuthHandler(self._passwords)
            auth = handler.get_authorization(req, chal)
            if auth:
                req.add_unredirected_header("Authorization", f"Digest {auth}")
        elif scheme.lower() == "basic":
            token = base64.b64encode(f"{self.user}:{self.password or ''}".encode()).decode()
            req.add_unredirected_header("Authorization", f"Basic {token}")

    def request(self, method: str, url: str, *, timeout: float, data: bytes | None = None,
                headers: dict | None = None, what: str = "endpoint") -> HttpResult:
        """Send one request; ``BackendUnavailable`` / ``QueryTimeout`` say what failed."""
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("User-Agent", self.user_agent)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        if self.user is not None and data is not None and len(data) > 65536:
            self._preauthorize(req, timeout)
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                body = resp.read()
                return HttpResult(resp.status, resp.headers.get_content_type(), body, resp.headers)
        except urllib.error.HTTPError as exc:
            body = exc.read() if exc.fp is not None else b""
            return HttpResult(exc.code, exc.headers.get_content_type() if exc.headers else "",
                              body, exc.headers)
        except (socket.timeout, TimeoutError) as exc:
            raise QueryTimeout(f"the {what} {url} did not answer within {timeout:g} s") from exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise QueryTimeout(f"the {what} {url} did not answer within {timeout:g} s") from exc
            raise BackendUnavailable(f"cannot reach the {what} {url}: {reason}") from exc
        except (ConnectionError, OSError) as exc:
            raise BackendUnavailable(f"cannot reach the {what} {url}: {exc}") from exc

    # -- SPARQL 1.1 Protocol ------------------------------------------------------------

    def query(self, url: str, sparql: str, *, accept: str, timeout: float,
              params: Sequence[tuple[str, str]] = (), what: str = "SPARQL endpoint") -> HttpResult:
        """POST a query (Protocol §2.1.2, form-encoded); any failure raised as a store error."""
        data = urllib.parse.urlencode([("query", sparql), *params]).encode("utf-8")
        result = self.request("POST", url, data=data, timeout=timeout, what=what,
                              headers={"Accept": accept, "Content-Type": FORM_URLENCODED})
        raise_for_status(result, url)
        return result

    def select(self, url: str, sparql: str, *, timeout: float, what: str = "SPARQL endpoint"):
        """The solutions of a SELECT (asked as SPARQL XML results, which every engine writes)."""
        result = self.query(url, sparql, accept=SPARQL_XML, timeout=timeout, what=what)
        try:
            parsed = ox.parse_query_results(result.body, format=ox.QueryResultsFormat.XML)
        except (SyntaxError, ValueError) as exc:
            raise BackendUnavailable(f"the {what} {url} sent unreadable results: {exc}") from exc
        if not isinstance(parsed, ox.QuerySolutions):
            raise BackendUnavailable(f"the {what} {url} answered a SELECT with a boolean")
        return list(parsed)


class _AnyUriPasswords(urllib.request.HTTPPasswordMgr):
    """One user and password for every realm and URI (the endpoint's own)."""

    def __init__(self, user: str, password: str):
        super().__init__()
        self._credentials = (user, password)

    def find_user_password(self, realm, authuri):
        return self._credentials


def error_message(result: HttpResult, limit: int = 600) -> str:
    text = result.body.decode("utf-8", "replace").strip()
    # Virtuoso appends the whole query (with its own rewritten dataset clauses).
    text = text.split("\n\nSPARQL query:", 1)[0].strip()
    return text[:limit] + ("..." if len(text) > limit else "")


def raise_for_status(result: HttpResult, url: str, *, query: bool = True) -> None:
    """Map an engine's HTTP failure to the store's errors (no return when not 2xx)."""
    status = result.status
    if 200 <= status < 300:
        return
    message = error_message(result)
    if status == 400 and query:
        raise QueryError(message or "the endpoint rejected the query (HTTP 400)")
    if status in (408, 504):
        raise QueryTimeout(f"the endpoint {url} stopped the query (HTTP {status}): {message}")
    if status in (429, 503):
        raise BackendUnavailable(
            f"the endpoint {url} is rate-limiting or overloaded (HTTP {status})"
            f"{_retry_after(result.headers)}: {message}")
    if status in (401, 403):
        raise BackendUnavailable(f"the endpoint {url} refused the credentials (HTTP {status}): {message}")
    if status == 404:
        raise BackendUnavailable(f"no SPARQL endpoint at {url} (HTTP 404)")
    if status == 500 and query and re.search(r"\b(37000|SP0\d\d|22023|SQ\d{3})\b", message):
        # Virtuoso answers a query its SPARQL compiler rejects with 500 and SQL state 37000.
        raise QueryError(message)
    if status == 500 and re.search(r"\bS1T00\b|timeout", message, re.I):
        raise QueryTimeout(f"the endpoint {url} stopped the query: {message}")
    raise BackendUnavailable(f"the endpoint {url} failed (HTTP {status}): {message}")

"""Where things are on this deployment: crkg IRIs mapped to the pages that describe them.

"Cool URIs for the Semantic Web" (W3C Interest Group Note, 2008): the IRIs in the RDF stay
``https://w3id.org/crkg/...`` whatever host serves them; ``Config.PUBLIC_BASE_URL`` (or,
unset, the request's own host) decides only where links in the pages point and which
absolute URLs the service descriptions (SPARQL service description, VoID) give.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import request

from crkg.formats import RDF_FORMATS
from crkg.namespaces import BASE_IRI, CRKG, CRKG_DATASET, GRAPH, ID, ONTOLOGY_IRI, VOID_DOCUMENT
from crkg.web.app import current_config
from crkg.web.languages import lang_suffix

#: characters a path segment of ours keeps unescaped (RFC 3986 pchar, plus "/")
_PATH_SAFE = "/:@-._~!$&'()*+,;="


def _public_base_url() -> str | None:
    return current_config().PUBLIC_BASE_URL


def link_base() -> str:
    """The base of links in pages: ``PUBLIC_BASE_URL``, else this app's root path; ends in /."""
    base = _public_base_url() or (request.script_root + "/")
    return base if base.endswith("/") else base + "/"


def absolute_base() -> str:
    """The absolute base URL of this service: ``PUBLIC_BASE_URL``, else the address the
    server listens on and this app's root; ends in /. For URLs other sites use (the SPARQL
    endpoint in its service description, dumps in VoID).

    Never the request's ``Host`` header: that is the client's to choose, and a cached
    description must not carry another site's name (issue 13). ``crkg serve`` sets WSGI
    ``SERVER_NAME``/``SERVER_PORT`` to the address it serves.
    """
    base = _public_base_url()
    if not base:
        environ = request.environ
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("SERVER_NAME", "localhost")
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        port = environ.get("SERVER_PORT", "")
        default = {"http": "80", "https": "443"}.get(scheme)
        authority = host if not port or port == default else f"{host}:{port}"
        base = f"{scheme}://{authority}{request.script_root}/"
    return base if base.endswith("/") else base + "/"


def endpoint_url() -> str:
    """The absolute URL of the SPARQL endpoint."""
    return absolute_base() + "sparql"


def page_url(iri: str) -> str | None:
    """Where a browser reads about *iri* on this deployment, or None if not served here.

    ``https://w3id.org/crkg/{rest}`` maps to ``{PUBLIC_BASE_URL}{rest}``; the ontology's
    hash IRIs ``ontology#Term`` map to the term pages ``ontology/Term``.
    """
    base = link_base()
    suffix = lang_suffix()
    if iri == ONTOLOGY_IRI:
        return base + "ontology" + suffix
    if iri.startswith(str(CRKG)):
        local = iri[len(str(CRKG)):]
        return base + "ontology/" + quote(local, safe="") + suffix if local else base + "ontology" + suffix
    if iri.startswith(str(ID)) or iri.startswith(str(GRAPH)):
        return base + quote(iri[len(BASE_IRI):], safe=_PATH_SAFE) + suffix
    if iri == str(CRKG_DATASET) or iri == VOID_DOCUMENT:
        return base + ".well-known/void" + suffix
    return None


def alternates(path_url: str) -> list[dict]:
    """Links to the same description in each RDF format (``?format=``)."""
    return [
        {"label": f.label, "media_type": f.media_type,
         "href": path_url + "?" + urlencode({"format": f.name})}
        for f in RDF_FORMATS
    ]

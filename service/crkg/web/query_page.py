"""The query page: YASGUI, served by the service itself, with the competency questions.

ARCHITECTURE.md, "Technology choices": YASGUI's JS/CSS are served from the package (no
CDN), so the page works offline. The page talks only to this service: its endpoint is
this service's ``/sparql`` and a Content-Security-Policy (``connect-src 'self'``) makes
the browser refuse any other fetch. The competency questions (``queries/cq/*.rq``, first
line ``# title: ...``) are the page's ready examples.

``render_query_page()`` is also what ``GET /sparql`` answers to a browser that sends no
query (SPARQL 1.1 Protocol leaves that response to the service).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request

from crkg import paths
from crkg.namespaces import BASE_IRI, CRKG, ONTOLOGY_IRI, PREFIXES
from crkg.version import __version__
from crkg.web.languages import UI, reader_lang
from crkg.web.urls import endpoint_url, link_base

bp = Blueprint("query_page", __name__)

#: ``# key: value`` comment lines at the top of a .rq file (the CQ convention).
_HEADER = re.compile(r"^#\s*([A-Za-z][\w-]*)\s*:\s*(.*?)\s*$")

#: The page's own policy: scripts, styles, fonts and requests from this origin only.
#: YASGUI sets inline style attributes, hence 'unsafe-inline' for styles (not scripts).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)

#: Prefixes the editor starts with (the rest of crkg's are in the examples).
_START_PREFIXES = ("crkg", "rdf", "rdfs", "skos")


@dataclass(frozen=True)
class Example:
    name: str  # file stem
    title: str
    description: str
    query: str
    #: ``# title-zh:`` (queries/README.md); empty when the file has none
    title_zh: str = ""

    def title_in(self, lang: str) -> str:
        return self.title_zh if lang == "zh" and self.title_zh else self.title

    def other_title(self, lang: str) -> tuple[str, str] | None:
        """(title, language) in the other language, if the file has both."""
        if not self.title_zh or self.title_zh == self.title:
            return None
        return (self.title, "en") if lang == "zh" else (self.title_zh, "zh")


def cq_dir() -> Path:
    """Where the competency questions are: ``CQ_DIR`` in the app config, else ``queries/cq``."""
    return Path(current_app.config.get("CQ_DIR") or paths.QUERIES_DIR / "cq")


def load_examples(folder: Path) -> list[Example]:
    """Every ``*.rq`` in *folder*, sorted by file name, with its ``# title:`` (else the stem)."""
    examples = []
    for path in sorted(folder.glob("*.rq")) if folder.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        headers: dict[str, str] = {}
        for line in text.splitlines():
            match = _HEADER.match(line)
            if not match:
                if line.strip() and not line.lstrip().startswith("#"):
                    break
                continue
            headers.setdefault(match.group(1).lower(), match.group(2))
        examples.append(
            Example(
                name=path.stem,
                title=headers.get("title") or path.stem.replace("-", " "),
                # The competency questions state the scholar's question (queries/README.md).
                description=headers.get("description") or headers.get("question", ""),
                query=text,
                title_zh=headers.get("title-zh", ""),
            )
        )
    return examples


def _start_query() -> str:
    prologue = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in _START_PREFIXES)
    return (
        prologue
        + "\n# What kinds of things does the graph hold, and how many of each?\n"
        + "SELECT ?type (COUNT(?thing) AS ?count)\nWHERE {\n  ?thing a ?type .\n}\n"
        + "GROUP BY ?type\nORDER BY DESC(?count)\nLIMIT 25\n"
    )


def render_query_page(status: int = 200) -> Response:
    """The query page as a complete response (HTML, with its Content-Security-Policy)."""
    from crkg.web.views_common import lang_links

    lang = reader_lang()
    examples = load_examples(cq_dir())
    config = {
        "endpoint": request.script_root + "/sparql",
        # for links in the result table: crkg IRIs open their pages on this deployment
        "iris": {"base": BASE_IRI, "ontology": ONTOLOGY_IRI, "terms": str(CRKG), "pages": link_base()},
        "startQuery": _start_query(),
        "examples": [
            {"name": e.name, "title": e.title_in(lang), "description": e.description, "query": e.query}
            for e in examples
        ],
    }
    html = render_template(
        "query.html",
        lang=lang,
        ui=UI[lang],
        version=__version__,
        lang_links=lang_links(),
        examples=examples,
        config=config,
        endpoint_display=endpoint_url(),
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.vary.add("Accept-Language")
    return response


@bp.get("/")
def index():
    return render_query_page()

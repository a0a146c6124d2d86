"""``/search?q=…[&study=K&case=…&mode=…&goal=…][&format=json][&page=N]`` (issue 12, item 4).

Searches the index ``crkg build`` writes beside the store (:mod:`crkg.search`). The
search text is only ever words (:mod:`crkg.search.text`); a text longer than
:data:`crkg.search.query.MAX_QUERY_CHARS` is a 400 that says so. Filter values are
written as on the other views (``crkg:TrustScopeExpansion``, ``case/{study}/{key}``); an
unknown one is a 404 that lists the valid ones. A store served from a remote back end has
no index: the page says so (503).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request, url_for

from crkg.search.index import index_path
from crkg.search.query import (FILTER_DIMS, MAX_QUERY_CHARS, PAGE_SIZE, IndexMissing, connect, facet_options,
                               has_facet, search as run_search)
from crkg.namespaces import ID
from crkg.web.languages import reader_lang
from crkg.web.urls import page_url
from crkg.web.study_data import Labels, fetch_labels
from crkg.web.views_common import expand, problem, render, short, with_lang

bp = Blueprint("search", __name__)


def current_index() -> Path:
    """The index beside the configured store (``SEARCH_INDEX`` in the app config overrides)."""
    configured = current_app.config.get("SEARCH_INDEX")
    if configured:
        return Path(configured)
    return index_path(current_app.config["STORE_DIR"])


@bp.get("/search")
def search():
    lang = reader_lang()
    q = request.args.get("q", "")
    as_json = (request.args.get("format") or "").lower() == "json"
    if len(q) > MAX_QUERY_CHARS:
        return problem(400, f"The search text has {len(q)} characters; at most {MAX_QUERY_CHARS} are searched.")
    try:
        page = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        return problem(400, f"page={request.args.get('page')!r} is not a page number.")
    try:
        con = connect(current_index())
    except IndexMissing as exc:
        from crkg.web.errors import error_response

        return error_response(503, str(exc))
    try:
        filters, options = {}, {}
        study = (request.args.get("study") or "").strip()
        for dim in FILTER_DIMS:
            raw = (request.args.get(dim) or "").strip()
            value = raw if dim == "study" else expand(raw)
            if dim == "case" and not study:
                # every case of every study would be thousands of options: a study's only
                options[dim] = []
            else:
                prefix = f"{ID}case/{study}/" if dim == "case" else ""
                options[dim] = [{"value": v if dim == "study" else short(v), "label": label}
                                for v, label in facet_options(con, dim, lang, prefix)]
            if raw and not has_facet(con, dim, value):
                return problem(404, f"{dim}={raw!r}: no indexed text has this {dim}.",
                               [(o["value"], o["label"]) for o in options[dim]], dim)
            if raw:
                filters[dim] = value
                if dim == "case" and not any(o["value"] == raw for o in options[dim]):
                    options[dim].append({"value": raw, "label": raw})
        result = run_search(con, q, filters, PAGE_SIZE, (page - 1) * PAGE_SIZE) if q.strip() else None
    finally:
        con.close()

    if as_json:
        body = {"query": q, "filters": filters, "total": result.total if result else 0,
                "ranked": result.ranked if result else 0, "page": page,
                "terms_not_searched": result.query.dropped if result else 0,
                "hits": [{"iri": h.iri, "kind": h.kind, "field": h.field, "study": h.study, "lang": h.lang,
                          "text": h.text, "page": page_url(h.iri),
                          "marks": [seg for seg, marked in h.pieces if marked],
                          "interventions": h.interventions, "rank": h.rank}
                         for h in (result.hits if result else [])]}
        return Response(json.dumps(body, ensure_ascii=False, indent=1), content_type="application/json")

    wanted = set()
    for h in result.hits if result else []:
        wanted |= set(h.interventions) | {h.iri}
    labels = fetch_labels(wanted, Labels())
    hits = []
    for h in result.hits if result else []:
        hits.append({"hit": h, "href": page_url(h.iri), "label": labels.get(h.iri, lang),
                     "interventions": [{"label": labels.get(i, lang), "href": page_url(i)} for i in h.interventions],
                     "study_href": with_lang(url_for("studies.overview", key=h.study)) if h.study else None})
    chosen = {dim: (request.args.get(dim) or "") for dim in FILTER_DIMS}
    more = None
    if result and result.total > page * PAGE_SIZE:
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"] + [("page", str(page + 1))]
        more = request.path + "?" + urlencode(args)
    return render("search.html", lang=lang, q=q, result=result, hits=hits, options=options, chosen=chosen,
                  more=more, dims=FILTER_DIMS, max_chars=MAX_QUERY_CHARS)

"""The study views: the list, a study's overview, its matrices and flow picture, and the
comparison of studies (issue 12, items 1-3).

- ``/studies/``                         every study, with counts and where it came from
- ``/studies/{key}``                    the overview (record, citation, counts, framework,
                                        mode × goal, agreement with the theory, per phase,
                                        flow picture, passages per goal, cases)
- ``/studies/{key}/matrix?rows=R&cols=C[&case=…|community=…|<dim>=…][&format=csv|xlsx|json]``
- ``/studies/{key}/flow.svg[?case=…]``  the flow picture alone
- ``/studies/compare?studies=a,b&rows=mode&cols=goal``

All numbers come from :mod:`crkg.web.study_data`; each links to ``/evidence`` with the
same values as parameters, so every count is one click from its passages.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, request, url_for

from crkg.namespaces import CRKG
from crkg.web import exports
from crkg.web.citations import download_links, load_citation
from crkg.web.languages import reader_lang
from crkg.web.study_data import DCTERMS
from crkg.web.urls import page_url
from crkg.web.sankey import PALETTE, Band, Node, bars_svg, sankey_svg
from crkg.web.study_data import (
    DIMENSIONS,
    SHARED_DIMENSIONS,
    StudyFacts,
    UnknownStudy,
    build_matrix,
    list_studies,
    on_shared_frame,
    order_key,
    require_study,
    study_facts,
    study_record,
)
from crkg.web.views_common import expand, problem, render, short, with_lang, words

bp = Blueprint("studies", __name__)

#: Parameters that restrict the facts a matrix or picture counts (besides its axes).
FILTERS = DIMENSIONS + ("community", "intervention", "theory-goal")
MATRIX_FORMATS = ("html", "csv", "xlsx", "json")


def unknown_study(exc: UnknownStudy) -> Response:
    valid = [(k, url_for("studies.overview", key=k)) for k in exc.valid]
    return problem(404, f"No study with the key {exc.key!r}.", valid, "study")


def load(key: str) -> tuple:
    """(summary, facts) of study *key*; raises UnknownStudy."""
    summary = require_study(key)
    return summary, study_facts(summary.iri)


#: ``/evidence?…&frame=crkg``: the values are crkg concepts, reached through the study's
#: skos matches (the comparison of studies, :func:`on_shared_frame`)
SHARED_FRAME = "crkg"


def evidence_href(key: str | None, filters: dict[str, str], frame: str | None = None) -> str:
    params = ([("study", key)] if key else []) + [(d, short(v)) for d, v in filters.items()]
    if frame:
        params.append(("frame", frame))
    return with_lang(url_for("evidence.evidence_list") + "?" + urlencode(params))


def restriction(facts: StudyFacts) -> tuple[dict[str, str], Response | None]:
    """The ``<dim>=value`` parameters of the request, checked against the study's values."""
    chosen = {}
    for dim in FILTERS:
        raw = request.args.get(dim)
        if raw is None or raw == "":
            continue
        value = expand(raw)
        if dim == "community":
            valid = set(facts.community_of.values())
        elif dim == "intervention":
            valid = facts.interventions()
        elif dim == "theory-goal":
            valid = facts.values("theory-goal")
        else:
            valid = facts.values(dim)
        if value not in valid:
            lang = reader_lang()
            listed = sorted(valid, key=order_key(facts.labels, lang))
            return {}, problem(404, f"{dim}={raw!r} is not a {dim} of this study.",
                               [(short(v), facts.labels.get(v, lang)) for v in listed], dim)
        chosen[dim] = value
    return chosen, None


def study_view_input(key: str, filters: bool = True):
    """(summary, facts, chosen filters) of study *key*, or the 404/400 page to answer."""
    try:
        summary, facts = load(key)
    except UnknownStudy as exc:
        return unknown_study(exc)
    chosen, bad = restriction(facts) if filters else ({}, None)
    return bad or (summary, facts, chosen)


def apply(facts: StudyFacts, chosen: dict[str, str]) -> StudyFacts:
    for dim, value in chosen.items():
        facts = facts.restricted(dim, value)
    return facts


def matrix_view(facts: StudyFacts, rows: str, cols: str, lang: str, key: str,
                chosen: dict[str, str], row_values: list | None = None, col_values: list | None = None,
                frame: str | None = None) -> dict:
    """The matrix as the templates and exports use it: labels, counts, evidence links.
    *row_values* / *col_values* fix the axes (the comparison lines its tables up)."""
    m = build_matrix(facts, rows, cols, lang, rows=row_values, cols=col_values)
    L = facts.labels

    def head(v):
        return {"iri": v, "label": L.get(v, lang), "lang": L.get_lang(v, lang), "href": page_url(v) or v}

    body = []
    for r in m.rows:
        cells = []
        for c in m.cols:
            i, e = m.count(r, c)
            cells.append({"interventions": i, "passages": e,
                          "href": evidence_href(key, {**chosen, rows: r, cols: c}, frame) if i or e else None})
        ti, te = (len(x) for x in m.row_totals.get(r, (set(), set())))
        body.append({"head": head(r), "cells": cells,
                     "total": {"interventions": ti, "passages": te,
                               "href": evidence_href(key, {**chosen, rows: r}, frame)}})
    col_totals = []
    for c in m.cols:
        ti, te = (len(x) for x in m.col_totals.get(c, (set(), set())))
        col_totals.append({"interventions": ti, "passages": te, "href": evidence_href(key, {**chosen, cols: c}, frame)})
    return {"rows_dim": rows, "cols_dim": cols, "cols": [head(c) for c in m.cols], "body": body,
            "col_totals": col_totals, "total": {"interventions": m.total[0], "passages": m.total[1]},
            "matrix": m}


def export_rows(view: dict) -> list[dict]:
    base = request.host_url.rstrip("/")
    rows = []
    for row in view["body"]:
        for col, cell in zip(view["cols"], row["cells"]):
            rows.append({
                "row": row["head"]["label"], "row_iri": row["head"]["iri"],
                "column": col["label"], "column_iri": col["iri"],
                "interventions": cell["interventions"], "passages": cell["passages"],
                "evidence": base + cell["href"] if cell["href"] else "",
            })
    return rows


def export_response(view: dict, fmt: str, name: str, meta: dict) -> Response:
    rows = export_rows(view)
    if fmt == "csv":
        body = exports.to_csv(rows)
    elif fmt == "xlsx":
        body = exports.to_xlsx(rows, meta.get("title", name))
    else:
        body = exports.to_json(rows, meta)
    response = Response(body, content_type=exports.MEDIA[fmt])
    if fmt != "json":
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def check_dims(rows: str, cols: str) -> Response | None:
    for name, value in (("rows", rows), ("cols", cols)):
        if value not in DIMENSIONS:
            return problem(400, f"{name}={value!r} is no matrix dimension.",
                           [(d, words(reader_lang())[d]) for d in DIMENSIONS], "matrix_dimension")
    return None


def axes_and_format():
    """(rows, cols, format) of a matrix request (mode × goal as HTML by default), or the
    400 page that lists the valid ones."""
    rows = request.args.get("rows") or "mode"
    cols = request.args.get("cols") or "goal"
    fmt, bad_fmt = check_format()
    return check_dims(rows, cols) or bad_fmt or (rows, cols, fmt)


def check_format() -> tuple[str, Response | None]:
    fmt = (request.args.get("format") or "html").lower()
    if fmt not in MATRIX_FORMATS:
        return fmt, problem(400, f"format={fmt!r} is not offered.", [(f, f) for f in MATRIX_FORMATS], "format")
    return fmt, None


# ---------------------------------------------------------------------------- pictures


def flow_svg(facts: StudyFacts, lang: str, key: str, chosen: dict[str, str], what: str) -> str:
    """Interventions → modes → goals; band width = number of interventions."""
    L = facts.labels
    okey = order_key(L, lang)
    modes = sorted(facts.values("mode"), key=okey)
    goals = sorted(facts.values("goal"), key=okey)
    colour = {m: PALETTE[k % len(PALETTE)] for k, m in enumerate(modes)}
    int_modes: dict[str, set] = {}
    int_goals: dict[str, set] = {}
    for f in facts.facts:
        if f.intervention:
            int_modes.setdefault(f.intervention, set()).update(f.dims.get("mode", ()))
            int_goals.setdefault(f.intervention, set()).update(f.dims.get("goal", ()))
    interventions = sorted(
        (i for i in int_modes if int_modes[i]),
        key=lambda i: (min((modes.index(m) for m in int_modes[i]), default=99), L.get(i, lang).lower()),
    )
    bands = []
    pair: dict[tuple, int] = {}
    for i in interventions:
        for m in sorted(int_modes[i], key=okey):
            bands.append(Band(i, m, 1, evidence_href(key, {**chosen, "intervention": i, "mode": m}),
                              f"{L.get(i, lang)} → {L.get(m, lang)}"))
            colour.setdefault(i, colour[m])
            for g in int_goals.get(i, ()):
                pair[(m, g)] = pair.get((m, g), 0) + 1
    for (m, g), n in sorted(pair.items(), key=lambda x: (okey(x[0][0]), okey(x[0][1]))):
        bands.append(Band(m, g, n, evidence_href(key, {**chosen, "mode": m, "goal": g}),
                          f"{L.get(m, lang)} → {L.get(g, lang)}: {n}"))
    columns = [
        [Node(i, L.get(i, lang), page_url(i), L.get_lang(i, lang)) for i in interventions],
        [Node(m, L.get(m, lang), page_url(m), L.get_lang(m, lang)) for m in modes],
        [Node(g, L.get(g, lang), page_url(g), L.get_lang(g, lang)) for g in goals],
    ]
    ui = words(lang)
    return sankey_svg(columns, bands, ui["flow"], ui["flow_alt"].format(what=what), colour)


def agreement(facts: StudyFacts, lang: str) -> list[dict]:
    """Per goal: interventions whose stated goal the theory implies, stated goals it does
    not imply, goals per framework, and goals the theory implies but nobody coded."""
    L = facts.labels
    units = {}
    for f in facts.facts:
        if f.intervention:
            g = facts.goals.get(f.intervention, {})
            units[f.intervention] = (set(g.get("stated", ())), set(g.get("per_framework", ())),
                                     set(g.get("coded", ())), set(g.get("theory", ())))
        elif f.passage and f.dims.get("goal"):
            coded = set(f.dims.get("goal", ()))
            units[f.passage] = (coded, set(), coded, set(f.dims.get("theory-goal", ())))
    goals = sorted({g for u in units.values() for part in u for g in part}, key=order_key(L, lang))
    table = []
    for g in goals:
        row = {"goal": {"iri": g, "label": L.get(g, lang), "href": page_url(g)}, "agree": [], "disagree": [],
               "framework": [], "theory_only": []}
        for unit, (stated, per_fw, coded, theory) in units.items():
            if g in stated and g in theory:
                row["agree"].append(unit)
            elif g in stated:
                row["disagree"].append(unit)
            if g in per_fw:
                row["framework"].append(unit)
            if g in theory and g not in coded:
                row["theory_only"].append(unit)
        for k in ("agree", "disagree", "framework", "theory_only"):
            row[k] = [{"iri": u, "label": L.get(u, lang), "href": page_url(u)}
                      for u in sorted(row[k], key=lambda u: L.get(u, lang).lower())]
        table.append(row)
    return table


def goal_plot(facts: StudyFacts, lang: str, key: str) -> str:
    """Passages per goal: those of facts coded with it vs those the theory ties to it."""
    ui = words(lang)
    L = facts.labels
    coded: dict[str, set] = {}
    theory: dict[str, set] = {}
    for f in facts.facts:
        if not f.passage:
            continue
        for g in f.dims.get("goal", ()):
            coded.setdefault(g, set()).add(f.passage)
        for g in f.dims.get("theory-goal", ()):
            theory.setdefault(g, set()).add(f.passage)
    goals = sorted(set(coded) | set(theory), key=order_key(L, lang))
    groups = [(L.get(g, lang), [
        (ui["coded"], len(coded.get(g, ())), evidence_href(key, {"goal": g})),
        (ui["theoretical"], len(theory.get(g, ())), evidence_href(key, {"theory-goal": g})),
    ]) for g in goals]
    return bars_svg(groups, ui["goal_plot"], ui["plot_alt"], {ui["coded"]: PALETTE[0], ui["theoretical"]: PALETTE[1]})


def per_phase(facts: StudyFacts, lang: str, key: str) -> dict:
    """Table 1 style: goals × phases, the strategies the study recommends in each cell and
    the interventions coded there."""
    L = facts.labels
    okey = order_key(L, lang)
    goals = sorted({s["goal"] for s in facts.strategies} | facts.values("goal"), key=okey)
    phases = sorted({s["phase"] for s in facts.strategies} | facts.values("phase"), key=okey)
    m = build_matrix(facts, "goal", "phase", lang, rows=goals, cols=phases)
    rows = []
    for g in goals:
        cells = []
        for p in phases:
            i, e = m.count(g, p)
            cells.append({
                "strategies": [{"label": L.get(s["iri"], lang), "lang": L.get_lang(s["iri"], lang),
                                "href": page_url(s["iri"]), "locator": s["locator"]}
                               for s in facts.strategies if s["goal"] == g and s["phase"] == p],
                "interventions": i, "passages": e,
                "href": evidence_href(key, {"goal": g, "phase": p}) if i or e else None,
            })
        rows.append({"head": {"label": L.get(g, lang), "href": page_url(g)}, "cells": cells})
    return {"phases": [{"label": L.get(p, lang), "href": page_url(p)} for p in phases], "rows": rows}


# ------------------------------------------------------------------------------ routes


@bp.get("/studies/")
def index():
    lang = reader_lang()
    studies = list_studies()
    from crkg.web.study_data import fetch_labels

    labels = fetch_labels([s.iri for s in studies])
    return render("studies.html", lang=lang, studies=[
        {"s": s, "title": labels.get(s.iri, lang), "title_lang": labels.get_lang(s.iri, lang),
         "href": with_lang(url_for("studies.overview", key=s.key)), "ld": page_url(s.iri)}
        for s in studies])


@bp.get("/studies")
def index_no_slash():
    from flask import redirect

    return redirect(url_for("studies.index", **request.args), code=308)


@bp.get("/studies/<key>")
def overview(key: str):
    lang = reader_lang()
    found = study_view_input(key, filters=False)
    if isinstance(found, Response):
        return found
    summary, facts, _ = found
    L = facts.labels
    record = study_record(summary.iri)
    citation = load_citation(summary.iri, lang)
    okey = order_key(L, lang)
    framework = []
    for m in sorted(facts.framework, key=okey):
        parts = facts.framework[m]
        framework.append({
            "mode": {"label": L.get(m, lang), "href": page_url(m)},
            "dimensions": [{"label": L.get(d, lang), "href": page_url(d)} for d in sorted(parts["dimensions"], key=okey)],
            "goals": [{"label": L.get(g, lang), "href": page_url(g)} for g in sorted(parts["goals"], key=okey)],
            "locators": sorted(parts["locators"]),
        })
    cases = sorted(facts.values("case") | set(facts.community_of), key=lambda c: L.get(c, lang).lower())
    case_rows = [{"label": L.get(c, lang), "href": page_url(c),
                  "community": ({"label": L.get(facts.community_of[c], lang), "href": page_url(facts.community_of[c])}
                                if c in facts.community_of else None),
                  "matrix": with_lang(url_for("studies.matrix", key=key, rows="mode", cols="goal", case=short(c)))}
                 for c in cases]

    def texts(pred):
        return sorted(record.get(pred, []), key=lambda v: (v["lang"] != lang, v["lang"] or ""))

    return render(
        "study.html", lang=lang, summary=summary, title=L.get(summary.iri, lang),
        title_lang=L.get_lang(summary.iri, lang),
        record={"titles": texts(DCTERMS + "title"), "creators": texts(DCTERMS + "creator"),
                "citation": texts(DCTERMS + "bibliographicCitation"), "method": texts(str(CRKG.method)),
                "status": texts(str(CRKG.attributionStatus))},
        cite_line=citation.line(lang), cite_links=download_links(summary.iri),
        framework=framework, mv=matrix_view(facts, "mode", "goal", lang, key, {}),
        agreement=agreement(facts, lang), phases=per_phase(facts, lang, key),
        flow=flow_svg(facts, lang, key, {}, L.get(summary.iri, lang)),
        plot=goal_plot(facts, lang, key), cases=case_rows, ld_href=page_url(summary.iri),
        dims=DIMENSIONS, key=key,
    )


@bp.get("/studies/<key>/matrix")
def matrix(key: str):
    lang = reader_lang()
    asked = axes_and_format()
    if isinstance(asked, Response):
        return asked
    rows, cols, fmt = asked
    found = study_view_input(key)
    if isinstance(found, Response):
        return found
    summary, facts, chosen = found
    view = matrix_view(apply(facts, chosen), rows, cols, lang, key, chosen)
    title = f"{facts.labels.get(summary.iri, lang)}: {words(lang)[rows]} × {words(lang)[cols]}"
    if fmt != "html":
        meta = {"study": summary.iri, "rows": rows, "cols": cols, "lang": lang, "title": title,
                "filters": {d: v for d, v in chosen.items()},
                "total": view["total"]}
        return export_response(view, fmt, f"{key}-{rows}-by-{cols}", meta)
    base = request.path + "?" + urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "format"])
    return render("matrix.html", lang=lang, summary=summary, title=facts.labels.get(summary.iri, lang),
                  mv=view, dims=DIMENSIONS, rows=rows, cols=cols, key=key,
                  filters=[{"dim": d, "label": facts.labels.get(v, lang), "href": page_url(v)} for d, v in chosen.items()],
                  downloads=[{"label": f.upper(), "href": base + "&format=" + f} for f in ("csv", "xlsx", "json")],
                  chosen={d: short(v) for d, v in chosen.items()})


@bp.get("/studies/<key>/flow.svg")
def flow(key: str):
    lang = reader_lang()
    found = study_view_input(key)
    if isinstance(found, Response):
        return found
    summary, facts, chosen = found
    what = " / ".join(facts.labels.get(v, lang) for v in chosen.values()) or facts.labels.get(summary.iri, lang)
    svg = flow_svg(apply(facts, chosen), lang, key, chosen, what)
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + svg, content_type="image/svg+xml; charset=utf-8")


@bp.get("/studies/compare")
def compare():
    lang = reader_lang()
    keys = [k.strip() for k in (request.args.get("studies") or "").split(",") if k.strip()]
    asked = axes_and_format()
    if isinstance(asked, Response):
        return asked
    rows, cols, fmt = asked
    all_keys = [s.key for s in list_studies()]
    if not keys:
        keys = all_keys
    unknown = [k for k in keys if k not in all_keys]
    if unknown:
        return problem(404, f"No study with the key {unknown[0]!r}.",
                       [(k, url_for("studies.overview", key=k)) for k in all_keys], "study")
    loaded, unmatched = [], {}
    for k in keys:
        summary, facts = load(k)
        if rows in SHARED_DIMENSIONS or cols in SHARED_DIMENSIONS:
            facts, missing = on_shared_frame(facts)
            if missing:
                unmatched[k] = [{"label": facts.labels.get(v, lang), "href": page_url(v)} for v in missing]
        loaded.append((summary, facts))
    # shared axes: every value any of the studies has (crkg concepts, through the mappings)
    from crkg.web.study_data import Labels

    labels = Labels()
    for _, f in loaded:
        for iri, by_lang in f.labels.by_iri.items():
            for tag, text in by_lang.items():
                labels.add(iri, text, tag or None)
    okey = order_key(labels, lang)
    row_values = sorted(set().union(*(f.values(rows) for _, f in loaded)), key=okey)
    col_values = sorted(set().union(*(f.values(cols) for _, f in loaded)), key=okey)
    sides = []
    for summary, f in loaded:
        f.labels = labels
        frame = SHARED_FRAME if rows in SHARED_DIMENSIONS or cols in SHARED_DIMENSIONS else None
        view = matrix_view(f, rows, cols, lang, summary.key, {}, row_values, col_values, frame)
        sides.append({"summary": summary, "title": labels.get(summary.iri, lang), "mv": view,
                      "href": with_lang(url_for("studies.overview", key=summary.key))})
    if fmt != "html":
        rows_out = []
        for side in sides:
            for r in export_rows(side["mv"]):
                rows_out.append({**r, "row": f"{side['summary'].key}: {r['row']}"})
        body_view = {"rows": rows_out}
        if fmt == "json":
            return Response(exports.to_json(rows_out, {"studies": [s["summary"].iri for s in sides],
                                                        "rows": rows, "cols": cols, "lang": lang}),
                            content_type=exports.MEDIA["json"])
        body = exports.to_csv(body_view["rows"]) if fmt == "csv" else exports.to_xlsx(body_view["rows"], "compare")
        response = Response(body, content_type=exports.MEDIA[fmt])
        response.headers["Content-Disposition"] = f'attachment; filename="compare-{rows}-by-{cols}.{fmt}"'
        return response
    return render("compare.html", lang=lang, sides=sides, rows=rows, cols=cols, dims=DIMENSIONS,
                  keys=",".join(keys), all_keys=all_keys, unmatched=unmatched)


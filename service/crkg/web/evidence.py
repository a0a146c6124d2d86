"""``/evidence?study=K&<dim>=<value>…``: the passages behind a number (issue 12, item 2).

The parameters are those of a matrix cell, a picture band or a total (the dimensions of
:mod:`crkg.web.study_data`, plus ``community``, ``intervention`` and ``theory-goal``);
values are written as :func:`crkg.web.views_common.short` writes them (``crkg:Name``,
``case/{study}/{key}``) or as full IRIs. Each passage shows its text in every language the
graph has (the study's own language first, translations marked), its locator, speaker,
source document, and links to the interventions it is evidence for; ``format=json``
gives the same list.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request, url_for

from crkg.web.languages import reader_lang
from crkg.web.urls import page_url
from crkg.web.studies import FILTERS, SHARED_FRAME, apply, load, restriction, unknown_study
from crkg.web.study_data import UnknownStudy, fetch_labels, list_studies, on_shared_frame, passage_details
from crkg.web.views_common import problem, render, with_lang

bp = Blueprint("evidence", __name__)


def passages_view(facts, summary, lang: str) -> list[dict]:
    by_passage: dict[str, set] = {}
    for f in facts.facts:
        if f.passage:
            by_passage.setdefault(f.passage, set())
            if f.intervention:
                by_passage[f.passage].add(f.intervention)
    details = passage_details(by_passage)
    others = set()
    for d in details.values():
        others |= d["speakers"] | d["sources"]
    labels = fetch_labels(others, facts.labels)
    study_lang = summary.language
    out = []
    for e in sorted(by_passage, key=lambda x: (sorted(details.get(x, {}).get("locators", [""])), x)):
        d = details.get(e, {"texts": {}, "locators": set(), "speakers": set(), "sources": set(),
                            "types": set(), "labels": {}})
        texts = sorted(d["texts"].items(), key=lambda kv: (kv[0] != (study_lang or kv[0]), kv[0] != "zh", kv[0]))
        out.append({
            "iri": e, "href": page_url(e), "label": labels.get(e, lang),
            "texts": [{"text": t, "lang": tag or None,
                       "translation": bool(study_lang) and tag != "" and not tag.startswith(study_lang)}
                      for tag, t in texts],
            "locators": sorted(d["locators"]),
            "speakers": [{"label": labels.get(s, lang), "href": page_url(s)} for s in sorted(d["speakers"])],
            "sources": [{"label": labels.get(s, lang), "href": page_url(s)} for s in sorted(d["sources"])],
            "interventions": [{"iri": i, "label": labels.get(i, lang), "href": page_url(i)}
                              for i in sorted(by_passage[e], key=lambda i: labels.get(i, lang).lower())],
            "study": {"key": summary.key, "href": with_lang(url_for("studies.overview", key=summary.key))},
        })
    return out


@bp.get("/evidence")
def evidence_list():
    lang = reader_lang()
    key = request.args.get("study")
    studies = list_studies()
    if key:
        if key not in {s.key for s in studies}:
            return problem(404, f"No study with the key {key!r}.",
                           [(s.key, url_for("studies.overview", key=s.key)) for s in studies], "study")
        keys = [key]
    else:
        keys = [s.key for s in studies]
    unknown = [k for k in request.args if k not in FILTERS + ("study", "lang", "format", "frame")]
    frame = request.args.get("frame")
    if frame and frame != SHARED_FRAME:
        return problem(400, f"frame={frame!r}: the only frame is {SHARED_FRAME!r} (crkg's concepts).")
    if unknown:
        return problem(400, f"{unknown[0]!r} is no filter of /evidence.", [(f, f) for f in FILTERS], "filter")
    passages, filters, last_bad, matched = [], [], None, 0
    for k in keys:
        try:
            summary, facts = load(k)
        except UnknownStudy as exc:  # pragma: no cover - listed a moment ago
            return unknown_study(exc)
        if frame:
            facts = on_shared_frame(facts)[0]
        chosen, bad = restriction(facts)
        if bad and key:
            return bad
        if bad:
            last_bad = bad
            continue  # another study has no such value: none of its passages qualify
        matched += 1
        passages += passages_view(apply(facts, chosen), summary, lang)
        if not filters:
            filters = [{"dim": d, "label": facts.labels.get(v, lang), "href": page_url(v)} for d, v in chosen.items()]
    if not matched and last_bad is not None:
        return last_bad  # no study has such a value
    if (request.args.get("format") or "").lower() == "json":
        body = json.dumps({"passages": [
            {"iri": p["iri"], "texts": p["texts"], "locators": p["locators"],
             "speakers": [s["label"] for s in p["speakers"]], "sources": [s["label"] for s in p["sources"]],
             "interventions": [i["iri"] for i in p["interventions"]], "study": p["study"]["key"]}
            for p in passages]}, ensure_ascii=False, indent=1)
        return Response(body, content_type="application/json")
    return render("evidence.html", lang=lang, passages=passages, filters=filters, key=key)

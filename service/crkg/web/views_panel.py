"""What the Linked Data page of a study, case, community, intervention or passage adds
from the evidence views: a link to the study overview, the mode × goal matrix of the
case's or community's own interventions, and "Cite this".

:mod:`crkg.web.resource_pages` calls :func:`panel` once per HTML page; it returns None
for every other kind of resource, so those pages do not change.
"""

from __future__ import annotations

from flask import url_for

from crkg.namespaces import CRKG
from crkg.web.citations import download_links, find_citation
from crkg.web.page_queries import iri_ref as _iri_ref
from crkg.web.page_queries import select as _select
from crkg.web.views_common import short, with_lang, words

C = str(CRKG)


def _study_of(iri: str, kind: str) -> str | None:
    i = _iri_ref(iri)
    pattern = {
        "case": f"{i} crkg:inStudy ?s .",
        "community": f"?c crkg:aboutCommunity {i} ; crkg:inStudy ?s .",
    }[kind]
    rows = _select(f"PREFIX crkg: <{C}> SELECT DISTINCT ?s WHERE {{ {pattern} }} ORDER BY ?s LIMIT 1")
    return rows[0]["s"]["value"] if rows else None


def panel(iri: str, type_iris: set[str], lang: str) -> dict | None:
    from crkg.web.studies import matrix_view
    from crkg.web.study_data import study_facts, study_key

    ui = words(lang)
    out: dict = {"ui": ui}
    if C + "Study" in type_iris:
        key = study_key(iri)
        out["overview"] = with_lang(url_for("studies.overview", key=key))
    kind = "case" if C + "Case" in type_iris else "community" if C + "Community" in type_iris else None
    if kind:
        study = _study_of(iri, kind)
        if study:
            key = study_key(study)
            facts = study_facts(study).restricted(kind, iri)
            if facts.facts:
                out["what"] = ui[kind]
                out["mv"] = matrix_view(facts, "mode", "goal", lang, key, {kind: iri})
                out["matrix_href"] = with_lang(url_for("studies.matrix", key=key, rows="mode", cols="goal",
                                                       **{kind: short(iri)}))
                out["flow_href"] = with_lang(url_for("studies.flow", key=key, **{kind: short(iri)}))
            out["overview"] = with_lang(url_for("studies.overview", key=key))
    if type_iris & {C + "Study", C + "Evidence", C + "Quote", C + "Observation", C + "Intervention"}:
        citation = find_citation(iri, lang)
        if citation:
            out["cite_line"] = citation.line(lang)
            out["cite_links"] = download_links(iri)
    if C + "Intervention" in type_iris:
        out["evidence_href"] = with_lang(url_for("evidence.evidence_list") + "?intervention=" + short(iri))
    return out if len(out) > 1 else None

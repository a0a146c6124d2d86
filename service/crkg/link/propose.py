"""Propose links to another dataset for review, and accept reviewed ones (``crkg link``).

Nothing found by a query enters the graph unreviewed: ``propose`` writes candidates with
their evidence (the matching rule, the endpoint, the date, the value that matched) to a
review file; a curator marks each row ``accept`` or ``reject``; ``accept`` turns the
accepted rows into a linkset file in ``data/links/`` that ``crkg build`` loads.

Matching rules (stated in every proposal):

``admin-code``
    The resource's ``crkg:adminDivisionCode`` equals the item's Wikidata P442 (China
    administrative division code), written as the six-digit code or the same code padded
    with zeros to twelve digits (Wikidata holds both lengths). A code identifies one
    division, so this rule is precise.
``label``
    The resource's ``rdfs:label`` in one language (``--lang``) equals the item's
    ``rdfs:label`` in that language exactly, optionally only for items that are instances
    (P31, or a subclass of it through P279) of a given type (``--type``). Weaker: review
    every candidate.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import pyoxigraph as ox

from crkg import formats
from crkg.config import Config
from crkg.errors import CrkgError
from crkg.namespaces import CRKG, CRKG_DATASET, DCTERMS, ID, OWL, RDFS, SKOS, VOID, WD, WDT, XSD
from crkg.store.queries import escape_string
from crkg.store.sparql_http import SPARQL_JSON, USER_AGENT, HttpClient

WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"
WIKIDATA_DATASET = ID["dataset/wikidata"]
SKOS_EXACT_MATCH = str(SKOS.exactMatch)
_RDFS_LABEL = str(RDFS.label)

#: ``--kind`` names -> crkg classes
KINDS = {
    "city": CRKG.City,
    "district": CRKG.District,
    "subdistrict": CRKG.Subdistrict,
    "country": CRKG.Country,
    "hazard-event": CRKG.HazardEvent,
    "hazard-type": CRKG.HazardType,
}

COLUMNS = ("decision", "subject", "subject_label", "predicate", "object", "object_label",
           "rule", "matched_value", "endpoint", "date", "note")

_QID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass
class Proposal:
    subject: str
    subject_label: str
    object: str
    object_label: str
    rule: str
    matched_value: str
    endpoint: str
    date: str
    note: str = ""
    decision: str = "?"
    predicate: str = SKOS_EXACT_MATCH

    def row(self) -> dict:
        return {c: getattr(self, c) for c in COLUMNS}


@dataclass
class ProposalRun:
    proposals: list[Proposal]
    #: subjects (IRI, label) that the rule found no candidate for
    unmatched: list[tuple[str, str]] = field(default_factory=list)
    rule: str = ""
    endpoint: str = ""


# -- the local side: which resources lack a link ---------------------------------------

def local_store_from_files(paths: Iterable[Path]) -> ox.Store:
    """An in-memory store holding the RDF files *paths* (Turtle, TriG, N-Triples ...)."""
    store = ox.Store()
    for path in paths:
        path = Path(path)
        try:
            known = formats.by_extension(path.suffix)
            if known is not None and known.kind == formats.DATASET:
                store.bulk_load(path=str(path))
            else:  # a graph file: into a graph named after it, so the union sees it
                store.bulk_load(path=str(path), to_graph=ox.NamedNode(path.resolve().as_uri()))
        except (SyntaxError, ValueError, OSError) as exc:
            raise CrkgError(f"{path}: {exc}") from exc
    return store


def _local_select(local, sparql: str) -> list[dict]:
    """Rows of a SELECT over *local* (a pyoxigraph Store or a crkg Store) as term dicts."""
    if isinstance(local, ox.Store):
        solutions = local.query(sparql, use_default_graph_as_union=True)
    else:
        response = local.query(sparql, media_type=SPARQL_JSON, timeout=Config.EXPORT_TIMEOUT)
        solutions = ox.parse_query_results(response.body, format=ox.QueryResultsFormat.JSON)
    if not isinstance(solutions, ox.QuerySolutions):
        raise CrkgError("the local store answered a SELECT with something else")
    names = [v.value for v in solutions.variables]
    return [{n: s[n] for n in names} for s in solutions]


def _unlinked_filter(uri_space: str) -> str:
    return (f'FILTER NOT EXISTS {{ ?s <{SKOS_EXACT_MATCH}> ?m '
            f'FILTER(STRSTARTS(STR(?m), "{escape_string(uri_space)}")) }}')


def _kind_pattern(kind: str | None) -> str:
    if not kind:
        return ""
    if kind not in KINDS:
        raise CrkgError(f"unknown kind {kind!r}; one of {', '.join(sorted(KINDS))}")
    return f"?s a <{KINDS[kind]}> ."


def unlinked_by_code(local, uri_space: str, kind: str | None = None) -> list[tuple[str, str, str]]:
    """(resource, code, English-or-any label) for resources with a division code but no link."""
    rows = _local_select(local, f"""
        SELECT ?s ?code (SAMPLE(?l) AS ?label) WHERE {{
          ?s <{CRKG.adminDivisionCode}> ?code . {_kind_pattern(kind)}
          OPTIONAL {{ ?s <{_RDFS_LABEL}> ?l FILTER(LANGMATCHES(LANG(?l), "en")) }}
          {_unlinked_filter(uri_space)}
        }} GROUP BY ?s ?code ORDER BY ?s ?code""")
    return [(r["s"].value, r["code"].value, r["label"].value if r["label"] else "") for r in rows]


def unlinked_by_label(local, uri_space: str, lang: str, kind: str | None = None) -> list[tuple[str, str]]:
    """(resource, label in *lang*) for crkg resources of *kind* with that label but no link."""
    rows = _local_select(local, f"""
        SELECT ?s ?label WHERE {{
          ?s <{_RDFS_LABEL}> ?label . {_kind_pattern(kind)}
          FILTER(LANG(?label) = "{escape_string(lang)}" && STRSTARTS(STR(?s), "{ID}"))
          {_unlinked_filter(uri_space)}
        }} ORDER BY ?s ?label""")
    return [(r["s"].value, r["label"].value) for r in rows]


# -- the remote side ---------------------------------------------------------------------

def remote_select(endpoint: str, sparql: str, *, timeout: float = Config.LINK_TIMEOUT,
                  user_agent: str = USER_AGENT) -> list[dict]:
    """Run a SELECT on *endpoint*; rows as {var: binding dict} (SPARQL 1.1 Query Results JSON).

    Through the one client for remote endpoints (``crkg.store.sparql_http``): every failure
    becomes a ``CrkgError`` (exit code 2) that says what happened - the endpoint is
    unreachable, timed out, rate-limits (with its ``Retry-After``), or rejected the query.
    """
    result = HttpClient(user_agent=user_agent).query(
        endpoint, sparql, accept=SPARQL_JSON, timeout=timeout, what="endpoint")
    try:
        doc = json.loads(result.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CrkgError(f"{endpoint} did not return SPARQL JSON results: {exc}") from exc
    if not isinstance(doc, dict) or "results" not in doc:
        raise CrkgError(f"{endpoint} did not return SPARQL JSON results")
    return doc["results"]["bindings"]


def _codes(code: str) -> list[str]:
    """The forms of a division code Wikidata's P442 may hold: six digits, or twelve."""
    code = code.strip()
    forms = [code]
    if len(code) == 6:
        forms.append(code + "000000")
    return forms


def propose_by_code(local, endpoint: str = WIKIDATA_SPARQL, *, uri_space: str = str(WD),
                    kind: str | None = None, lang: str = "en", timeout: float = Config.LINK_TIMEOUT,
                    today: dt.date | None = None) -> ProposalRun:
    """Candidates for every unlinked resource with a division code (rule ``admin-code``)."""
    today = today or dt.date.today()
    todo = unlinked_by_code(local, uri_space, kind)
    run = ProposalRun([], rule="admin-code", endpoint=endpoint)
    if not todo:
        return run
    values = " ".join(f'"{escape_string(f)}"' for _s, code, _l in todo for f in _codes(code))
    sparql = f"""PREFIX wdt: <{WDT}>
PREFIX rdfs: <{RDFS}>
SELECT ?item ?code (SAMPLE(?l) AS ?label) WHERE {{
  VALUES ?code {{ {values} }}
  ?item wdt:P442 ?code .
  OPTIONAL {{ ?item rdfs:label ?l FILTER(LANG(?l) = "{escape_string(lang)}") }}
}} GROUP BY ?item ?code ORDER BY ?item"""
    rows = remote_select(endpoint, sparql, timeout=timeout)
    for subject, code, label in todo:
        matches = [r for r in rows if r.get("code", {}).get("value") in _codes(code)]
        items = sorted({r["item"]["value"] for r in matches if r["item"]["type"] == "uri"
                        and r["item"]["value"].startswith(uri_space)})
        if not items:
            run.unmatched.append((subject, label))
            continue
        note = f"{len(items)} candidates: accept at most one" if len(items) > 1 else ""
        for item in items:
            hit = next(r for r in matches if r["item"]["value"] == item)
            run.proposals.append(Proposal(
                subject=subject, subject_label=label, object=item,
                object_label=hit.get("label", {}).get("value", ""),
                rule=f'admin-code: crkg:adminDivisionCode "{code}" = ?item wdt:P442',
                matched_value=hit["code"]["value"], endpoint=endpoint,
                date=today.isoformat(), note=note))
    return run


def propose_by_label(local, endpoint: str = WIKIDATA_SPARQL, *, lang: str, uri_space: str = str(WD),
                     kind: str | None = None, item_type: str | None = None,
                     timeout: float = Config.LINK_TIMEOUT, today: dt.date | None = None) -> ProposalRun:
    """Candidates whose label in *lang* equals the resource's exactly (rule ``label``)."""
    today = today or dt.date.today()
    todo = unlinked_by_label(local, uri_space, lang, kind)
    run = ProposalRun([], rule="label", endpoint=endpoint)
    if not todo:
        return run
    type_iri = None
    if item_type:
        type_iri = item_type if "://" in item_type else (
            str(WD[item_type]) if _QID.match(item_type) else None)
        if type_iri is None:
            raise CrkgError(f"--type must be an IRI or a Wikidata QID, not {item_type!r}")
    values = " ".join(f'"{escape_string(label)}"@{lang}' for _s, label in todo)
    type_pattern = f"?item <{WDT.P31}>/<{WDT.P279}>* <{type_iri}> ." if type_iri else ""
    sparql = f"""SELECT DISTINCT ?item ?label WHERE {{
  VALUES ?label {{ {values} }}
  ?item <{_RDFS_LABEL}> ?label .
  {type_pattern}
}} ORDER BY ?item"""
    rows = remote_select(endpoint, sparql, timeout=timeout)
    rule = f"label: rdfs:label @{lang} equal" + (f", ?item wdt:P31/wdt:P279* <{type_iri}>" if type_iri else "")
    by_subject: dict[str, list[Proposal]] = {}
    for subject, label in todo:
        for r in rows:
            item = r["item"]["value"]
            if r["label"]["value"] != label or not item.startswith(uri_space):
                continue
            by_subject.setdefault(subject, []).append(Proposal(
                subject=subject, subject_label=label, object=item, object_label=label,
                rule=rule, matched_value=f'"{label}"@{lang}', endpoint=endpoint,
                date=today.isoformat()))
    for subject, label in todo:
        found = by_subject.get(subject, [])
        if not found:
            run.unmatched.append((subject, label))
        for p in found:
            if len(found) > 1:
                p.note = f"{len(found)} candidates: accept at most one"
            run.proposals.append(p)
    return run


# -- the review file -----------------------------------------------------------------------

REVIEW_HELP = """\
# crkg link: proposed links, NOT in the graph. Review every row: write accept or reject in
# the decision column (at most one accepted object per subject), then run
#   crkg link accept {name}
# which writes the accepted rows as a linkset into data/links/. Evidence: the rule that
# matched, the endpoint and date of the query, and the value that matched.
"""


def write_review(run: ProposalRun, path: Path) -> Path:
    """Write the proposals (and the resources without a candidate) to a review TSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    out.write(REVIEW_HELP.format(name=path.name))
    for subject, label in run.unmatched:
        out.write(f"# no candidate ({run.rule} at {run.endpoint}): {subject} {label}\n")
    writer = csv.DictWriter(out, COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    for p in sorted(run.proposals, key=lambda p: (p.subject, p.object)):
        writer.writerow(p.row())
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def read_review(path: Path) -> list[Proposal]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CrkgError(f"cannot read the review file {path}: {exc}") from exc
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t")
    if reader.fieldnames is None or set(COLUMNS) - set(reader.fieldnames):
        raise CrkgError(f"{path}: not a crkg review file (needs the columns {', '.join(COLUMNS)})")
    proposals = []
    for number, row in enumerate(reader, start=2):
        decision = (row["decision"] or "").strip().lower()
        if decision not in ("accept", "reject", "?", ""):
            raise CrkgError(f"{path}, row {number}: decision must be accept or reject, not {decision!r}")
        proposals.append(Proposal(**{c: (row[c] or "").strip() for c in COLUMNS if c != "decision"},
                                  decision=decision))
    return proposals


def accept(review: Path, links_dir: Path, *, name: str | None = None, force: bool = False) -> Path:
    """Write the accepted rows of *review* as the linkset file ``links_dir/<name>.ttl``."""
    proposals = read_review(review)
    accepted = [p for p in proposals if p.decision == "accept"]
    undecided = [p for p in proposals if p.decision in ("?", "")]
    if undecided:
        raise CrkgError(f"{review}: {len(undecided)} rows have no decision yet "
                        f"(first: {undecided[0].subject} -> {undecided[0].object}); "
                        "write accept or reject in each")
    if not accepted:
        raise CrkgError(f"{review}: no row is accepted; nothing to write")
    seen: dict[tuple[str, str], str] = {}
    for p in accepted:
        key = (p.subject, p.predicate)
        if key in seen and seen[key] != p.object:
            raise CrkgError(f"{review}: two objects accepted for {p.subject}: {seen[key]} and {p.object}")
        seen[key] = p.object
        for iri in (p.subject, p.predicate, p.object, p.endpoint):
            if not re.match(r"^[a-z][a-z0-9+.-]*://[^\s<>\"{}|\\^`]+$", iri):
                raise CrkgError(f"{review}: {iri!r} is not an IRI")
        if not p.subject.startswith(str(ID)):
            raise CrkgError(f"{review}: {p.subject} is not a crkg resource ({ID}...)")
    name = name or re.sub(r"[^a-z0-9-]+", "-", review.stem.lower()).strip("-")
    target = links_dir / f"{name}.ttl"
    if target.exists() and not force:
        raise CrkgError(f"{target} exists; choose another --name or pass --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(linkset_turtle(accepted, name, review.name), encoding="utf-8")
    return target


def _lit(text: str, lang: str | None = None, datatype: str | None = None) -> str:
    if datatype:
        return str(ox.Literal(text, datatype=ox.NamedNode(datatype)))
    return str(ox.Literal(text, language=lang)) if lang else str(ox.Literal(text))


def linkset_turtle(accepted: Sequence[Proposal], name: str, review_name: str) -> str:
    """A linkset file in the layout of data/links/: links, their sources, VoID."""
    accepted = sorted(accepted, key=lambda p: (p.subject, p.predicate, p.object))
    endpoints = sorted({p.endpoint for p in accepted})
    objects_target = (f"<{WIKIDATA_DATASET}>" if endpoints == [WIKIDATA_SPARQL]
                      or all(p.object.startswith(str(WD)) for p in accepted) else
                      f"<{ID[f'dataset/{name}-target']}>")
    linkset = f"<{ID[f'linkset/{name}']}>"
    predicates = sorted({p.predicate for p in accepted})
    out = [
        f"# Links accepted by a curator from the review file {review_name} (crkg link).",
        "# Each link carries the evidence it was proposed with.",
        "",
        f"@prefix dcterms: <{DCTERMS}> .",
        f"@prefix owl: <{OWL}> .",
        f"@prefix skos: <{SKOS}> .",
        f"@prefix void: <{VOID}> .",
        f"@prefix xsd: <{XSD}> .",
        "",
        "## Links",
        "",
    ]
    for p in accepted:
        out.append(f"<{p.subject}> <{p.predicate}> <{p.object}> .")
    out += ["", "## Where each link comes from", ""]
    for p in accepted:
        evidence = (f"proposed by crkg link, rule {p.rule}; matched value {p.matched_value}"
                    f"{' (' + p.object_label + ')' if p.object_label else ''}; "
                    f"queried at {p.endpoint} on {p.date}; accepted by a curator")
        out += [
            "[] a owl:Axiom ;",
            f"    owl:annotatedSource <{p.subject}> ;",
            f"    owl:annotatedProperty <{p.predicate}> ;",
            f"    owl:annotatedTarget <{p.object}> ;",
            f"    dcterms:source <{p.endpoint}> ;",
            f"    dcterms:date {_lit(p.date, datatype=str(XSD.date))} ;",
            f"    skos:note {_lit(evidence, lang='en')} .",
            "",
        ]
    out += ["## The linkset (VoID)", "",
            f"<{CRKG_DATASET}> void:subset {linkset} .", "",
            f"{linkset} a void:Linkset ;",
            f"    dcterms:title {_lit('Links accepted from ' + review_name, lang='en')} ;",
            f"    void:target <{CRKG_DATASET}> , {objects_target} ;",
            f"    void:subjectsTarget <{CRKG_DATASET}> ;",
            f"    void:objectsTarget {objects_target} ;"]
    out += [f"    void:linkPredicate <{pred}> ;" for pred in predicates]
    out += [f"    void:triples {len(accepted)} ;"]
    out += [f"    dcterms:source <{e}> ;" for e in endpoints]
    out[-1] = out[-1][:-2] + " ."
    if not objects_target.startswith(f"<{WIKIDATA_DATASET}"):
        out += ["", f"{objects_target} a void:Dataset ;"]
        out += [f"    void:sparqlEndpoint <{e}> ;" for e in endpoints]
        out[-1] = out[-1][:-2] + " ."
    return "\n".join(out) + "\n"

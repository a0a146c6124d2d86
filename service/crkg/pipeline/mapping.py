"""A study's ``mapping.csv``: its codes aligned to the shared frame (data/README.md, "mapping.csv").

Columns ``code,relation,concept`` (a header row, then one row per code; UTF-8, a
byte-order mark as spreadsheets write it is accepted):

* ``code``: the code's names from the top joined by `` > `` (``Support > Emotional``),
  its key, its QDA identifier, or ``kind:key`` of an item of the study's own framework
  (``mode:neighbour-help``);
* ``relation``: ``exactMatch``, ``closeMatch``, ``broadMatch``, ``narrowMatch`` (the SKOS
  mapping property from the code to the concept), ``type`` (the code names an
  Intervention, an Actor type, a TargetGroup or a Mechanism), or empty (not yet mapped:
  ignored, counted);
* ``concept``: a crkg term's local name (``PsychologicalResilience``), a prefixed name
  (``crkg:Response``) or a full IRI.

:func:`read_mapping` reads and checks the file's form; :func:`resolve_mapping` resolves its
codes (named by :mod:`crkg.pipeline.studies`, which knows the study's codes) and concepts
(the crkg terms, read from the ontology) into the SKOS matches.
"""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from crkg.errors import CrkgError
from crkg.namespaces import CRKG

COLUMNS = ("code", "relation", "concept")
#: relation -> local name of the SKOS mapping property.
SKOS_RELATIONS = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch")
TYPE_RELATION = "type"
RELATIONS = (*SKOS_RELATIONS, TYPE_RELATION)
#: Separator of a code's names from the top of its codebook.
PATH_SEPARATOR = " > "


@dataclass(frozen=True)
class MappingRow:
    """One row of a mapping.csv; ``line`` is its line in the file (the header is line 1)."""

    code: str
    relation: str
    concept: str
    line: int


def nearest(name: str, known, n: int = 3) -> str:
    """`` (did you mean `A`, `B`?)`` for the known names closest to *name*, or ``""``."""
    # Short names (表2, 三.4) differ from their neighbours by a larger share of characters.
    cutoff = 0.6 if len(name) > 3 else 0.5
    close = difflib.get_close_matches(name, sorted(set(known)), n=n, cutoff=cutoff)
    if close and difflib.SequenceMatcher(None, name, close[0]).ratio() >= 0.9:
        close = close[:1]  # a slip of one or two letters: name only the one meant
    if not close:
        lowered = {k.lower(): k for k in known}
        close = [lowered[k] for k in difflib.get_close_matches(name.lower(), sorted(lowered), n=n, cutoff=cutoff)]
    return " (did you mean " + ", ".join(f"`{c}`" for c in close) + "?)" if close else ""


def read_mapping(path: Path, problems: list[str] | None = None) -> list[MappingRow]:
    """The rows of *path* whose relation is set (empty relations are skipped).

    Every problem of the file is reported at once, each naming the file and line: with
    *problems* given they are appended to it, otherwise one :class:`CrkgError` lists them.
    """
    path = Path(path)
    own: list[str] = []
    rows: list[MappingRow] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CrkgError(f"{path}: cannot read the mapping: {exc}") from exc
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        own.append(f"{path}:1: the first row must be the header {','.join(COLUMNS)} (got {header!r})")
    else:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 3:
                own.append(f"{path}:{line}: expected 3 cells (code,relation,concept), got {len(row)}; "
                           "quote a cell that contains a comma")
                continue
            code, relation, concept = (cell.strip() for cell in row)
            if not relation:
                continue  # not yet mapped
            if relation not in RELATIONS:
                own.append(f"{path}:{line}: relation {relation!r} is not one of "
                           f"{', '.join(RELATIONS)}{nearest(relation, RELATIONS)}")
                continue
            if not code or not concept:
                own.append(f"{path}:{line}: a row with relation {relation!r} needs both a code and a concept")
                continue
            rows.append(MappingRow(code, relation, concept, line))
    if own:
        if problems is None:
            raise CrkgError("\n".join(own))
        problems.extend(own)
    return rows


def count_unmapped(path: Path) -> int:
    """Rows with a code but no relation yet (reported, not an error)."""
    text = Path(path).read_text(encoding="utf-8-sig")
    reader = csv.reader(text.splitlines()[1:])
    return sum(1 for row in reader if len(row) == 3 and row[0].strip() and not row[1].strip())



@dataclass
class ResolvedMapping:
    """A study's mapping.csv, read once: what the converter and the co-coding rule use."""

    triples: list[tuple]  # the SKOS match triples
    type_rows: list[tuple]  # checked ``type`` rows as (row, code IRI, concept IRI)
    rows: list[MappingRow]  # every row with a relation, as read (crkg.pipeline.derive)
    unmapped: int  # rows with a code and no relation yet


def resolve_mapping(path: Path, codes: dict[str, str], context: dict, problems: list[str],
                    warnings: list[str]) -> ResolvedMapping:
    """*path* resolved against the study's *codes* and the crkg vocabulary.

    *codes* maps every name the file may use for a code to its IRI; an unknown code,
    concept or relation is appended to *problems* with the nearest names; the count of
    codes not yet mapped to *warnings*.
    """
    rows = read_mapping(path, problems)
    unmapped = count_unmapped(path)
    if unmapped:
        warnings.append(f"{path}: {unmapped} code(s) not yet mapped (empty relation)")
    names = crkg_names()
    triples, type_rows = [], []
    for row in rows:
        where = f"{path}:{row.line}"
        code = codes.get(row.code)
        if code is None:
            problems.append(f"{where}: code {row.code!r} is no code of this study (give its names "
                            f"from the top joined by {PATH_SEPARATOR.strip()!r}, its key or its "
                            f"identifier){nearest(row.code, codes)}")
        concept = _concept(row, where, names, context, problems)
        if code is None or concept is None:
            continue
        if row.relation in SKOS_RELATIONS:
            triples.append((URIRef(code), SKOS[row.relation], URIRef(concept)))
        else:
            type_rows.append((row, URIRef(code), URIRef(concept)))
    return ResolvedMapping(triples, type_rows, rows, unmapped)


def _concept(row: MappingRow, where: str, names: dict[str, set[str]], context: dict,
             problems: list[str]) -> str | None:
    """The IRI *row*'s concept names, or None after reporting why it is unknown."""
    text = row.concept
    allowed = names["type"] if row.relation == TYPE_RELATION else names["concept"]
    what = ("an Intervention, Actor type, TargetGroup or Mechanism" if row.relation == TYPE_RELATION
            else "a concept of the crkg codebook")
    if text.startswith(("http://", "https://")):
        local = text[len(str(CRKG)):] if text.startswith(str(CRKG)) else None
        if local is not None and local not in allowed:
            problems.append(f"{where}: concept {text!r} is not {what}{nearest(local, allowed)}")
            return None
        return text  # e.g. another study's code
    prefix, sep, local = text.partition(":")
    if not sep:
        prefix, local = "crkg", text
    if prefix == "crkg":
        if local not in allowed:
            problems.append(f"{where}: concept {text!r} is not {what}{nearest(local, allowed)}")
            return None
        return str(CRKG[local])
    namespace = context.get(prefix)
    if not isinstance(namespace, str):
        problems.append(f"{where}: concept {text!r}: {prefix!r} is no prefix of data/context.jsonld")
        return None
    return namespace + local


@lru_cache(maxsize=1)
def crkg_names() -> dict[str, set[str]]:
    """Local names a mapping may use: ``concept`` (the crkg codebook's concepts) and
    ``type`` (Intervention, TargetGroup, Mechanism and its individuals, Actor and its
    subclasses), read from the ontology so that they are never listed twice."""
    from crkg.paths import ONTOLOGY_FILE

    onto = Graph().parse(ONTOLOGY_FILE, format="turtle")
    local = lambda iri: str(iri)[len(str(CRKG)):]  # noqa: E731
    concepts = {local(s) for s in onto.subjects(RDF.type, SKOS.Concept) if str(s).startswith(str(CRKG))}
    actors = {local(s) for s in onto.transitive_subjects(RDFS.subClassOf, CRKG.Actor)}
    mechanisms = {local(s) for s in onto.subjects(RDF.type, CRKG.Mechanism)}
    return {"concept": concepts, "type": {"Intervention", "TargetGroup", "Mechanism"} | actors | mechanisms}

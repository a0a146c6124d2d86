"""SPARQL texts crkg asks of any store, embedded or remote (SPARQL 1.1 Query, §19.7 and §19.8).

Written once here because the pages, the dumps, ``crkg push`` and the remote store all ask
them: the whole of one named graph, the named graphs under a namespace, and a string
literal built from text that is not ours.
"""

from __future__ import annotations

#: SPARQL 1.1 §19.7 ECHAR: what a string literal between double quotes must escape.
_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_string(text: str) -> str:
    """*text* escaped for use between double quotes in a SPARQL query."""
    return "".join(_ECHAR.get(char, char) for char in text)


def graph_construct(graph_ref: str) -> str:
    """CONSTRUCT every triple of one named graph; *graph_ref* is ``<iri>`` (already checked)."""
    return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph_ref} {{ ?s ?p ?o }} }}"


def graphs_under(prefix: str) -> str:
    """SELECT ?g: the non-empty named graphs whose IRI starts with *prefix*."""
    return ('SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } '
            f'FILTER(STRSTARTS(STR(?g), "{escape_string(prefix)}")) }}')


def graph_size(graph_ref: str) -> str:
    """SELECT ?n: the number of triples in one named graph."""
    return f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph_ref} {{ ?s ?p ?o }} }}"

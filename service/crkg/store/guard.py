"""What a query may do before the engine sees it: SERVICE allow-list, nesting, query form.

The endpoint is public and Oxigraph fetches any URL a ``SERVICE`` clause names (measured:
pyoxigraph 0.5 opens an HTTP connection for ``SERVICE <http://127.0.0.1:PORT/>``), so
federation is a server-side request forgery hole unless every ``SERVICE`` is checked
against an allow-list *before* the query runs. ARCHITECTURE.md, "The web service".

Why not a parser
----------------
pyoxigraph exposes no algebra. rdflib's parser (measured: ~0.25 s to import,
~10 ms per typical query for ``parseQuery`` + ``translateQuery``, 0.5 s for 300 nested
groups) would be a cost on every query, and - worse for a guard - it is a
*different* grammar implementation from the one that runs the query: a query on which the
two disagree could hide a ``SERVICE`` from the guard. Even a SPARQL lexer disagrees with
Oxigraph: measured, Oxigraph needs no word boundary after a keyword (``SERVICEe:s`` is
``SERVICE e:s``, ``SERVICESILENT<...>`` works), and whether ``<`` opens an IRI or means
"less than" depends on the parser's state, so a lexer's idea of what is inside a string
can differ from the engine's. The guard therefore is **fail-closed** and context-free:
every place the letters ``service`` occur (in any case, in the raw text and with
``\\u`` escapes resolved) must be followed by an allow-listed absolute IRI, unless that
place cannot be the keyword in any reading: inside a variable name (``?service``), inside
the local part of a prefixed name (``sd:Service``), or followed by nothing that could be
an endpoint (no ``<IRI>``, no variable, no run with a ``:``). The price is a rare refusal
of a harmless query, e.g. one whose comment says ``service <http://...>``.

Evasions handled (each has a test in tests/http/test_sparql_guards.py, run against a
live TCP listener that must see no connection):

* case: ``service``/``SeRvIcE`` (keywords are case-insensitive, §19.1);
* ``\\u0053ERVICE``: §19.2 says ``\\u``/``\\U`` escapes are resolved before parsing;
  Oxigraph resolves them only inside IRIs and strings. Both readings are checked;
* comments between ``SERVICE`` and its IRI (``SERVICE#x\\n<http://...>``), no spaces,
  no word boundary (``SERVICEe:s``), ``SERVICE SILENT`` and ``SERVICESILENT``;
* prefixed names (``PREFIX e: <http://evil/> ... SERVICE e:s``): expanded with every
  declaration of that prefix in the text (a prefix declared twice is refused);
* relative IRIs and ``BASE``: refused outright (resolution rules are easy to get subtly
  different from the engine's; an allow-list of absolute IRIs needs no resolution);
* ``SERVICE ?var`` / ``SERVICE $var``: always refused (the endpoint would come from data).

A query in which the letters do not occur at all costs one regular-expression search.
Measured: ~45-70 µs for ``analyse`` of a typical query (form, ``FROM``, depth, SERVICE),
~0.7 s for a 1 MB query.

``analyse`` also gives the query form (for content negotiation before the query runs),
whether the query has its own dataset (``FROM``), whether it is an update, and its bracket
nesting depth: Oxigraph's recursive-descent parser overflows the stack on deep nesting (a
segfault of the worker, measured at ``{`` * 10000), so depth is capped here.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Iterable

from crkg.config import Config
from crkg.store.errors import QueryError, ServiceNotAllowed

#: Brackets ``{ ( [`` open at once; deeper queries are refused (400) before they reach
#: the engine. Real queries rarely pass 20. The default of ``Config.MAX_NESTING``.
MAX_NESTING = Config.MAX_NESTING

_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

# SPARQL 1.1 §19.8 terminals, just enough to know what is *not* a keyword.
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
             | '''(?:[^'\\]|\\.|'(?!''))*'''
             | "(?:[^"\\\n\r]|\\.)*"
             | '(?:[^'\\\n\r]|\\.)*')
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
  | (?P<pname>(?:[^\W\d_][\w\-.\u00B7]*)?:(?:[\w\-.:%\u00B7]|\\[_~.\-!$&'()*+,;=/?\#@%])*)
  | (?P<bnode>_:[\w\-.\u00B7]*)
  | (?P<word>[^\W\d][\w]*)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<open>[{(\[])
  | (?P<close>[})\]])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_QUERY_FORMS = {"select", "construct", "ask", "describe"}
_UPDATE_WORDS = {"insert", "delete", "load", "clear", "create", "drop", "copy", "move", "add", "with"}


@dataclass
class QueryInfo:
    """What the guard learned from the text of one query."""

    #: "select" | "construct" | "ask" | "describe" | "update" | None (not recognised)
    form: str | None = None
    #: the query names its own dataset (FROM / FROM NAMED)
    has_dataset: bool = False
    #: SERVICE targets found: absolute IRIs, or None for one the guard cannot resolve
    services: list = field(default_factory=list)
    #: deepest bracket nesting
    depth: int = 0
    #: the text and settings (allow-list, nesting cap) a store checked this query under,
    #: so the store does not check it again (``crkg.store.base.Store.inspect``)
    checked: tuple | None = None


def unescape(text: str) -> str:
    """Resolve ``\\uXXXX`` / ``\\UXXXXXXXX`` (SPARQL 1.1 §19.2). Invalid code points stay."""
    if "\\u" not in text and "\\U" not in text:
        return text

    def sub(m: re.Match) -> str:
        code = int(m.group(1) or m.group(2), 16)
        try:
            return chr(code)
        except (ValueError, OverflowError):
            return m.group(0)

    return _UCHAR.sub(sub, text)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "other" and m.group() in "\"'":
            # an unterminated string: the query cannot parse, and lexing on would cost a
            # scan to the end of the text for every quote that follows (quadratic)
            break
        if kind not in ("ws", "comment"):
            tokens.append((kind, m.group()))
    return tokens


def _is_absolute(iri: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", iri) is not None


def _scan_tokens(text: str, info: QueryInfo, prefixes: dict[str, set[str]]) -> None:
    """Query form, ``FROM`` and ``PREFIX`` declarations (not security-relevant by themselves)."""
    tokens = _tokens(text)
    for i, (kind, value) in enumerate(tokens):
        if kind != "word":
            continue
        low = value.lower()
        if low == "prefix" and i + 2 < len(tokens) and tokens[i + 1][0] == "pname":
            name = tokens[i + 1][1]
            if name.endswith(":") and tokens[i + 2][0] == "iri":
                prefixes.setdefault(name[:-1], set()).add(unescape(tokens[i + 2][1][1:-1]))
        elif low == "from":
            info.has_dataset = True
        elif info.form is None and low in _QUERY_FORMS:
            info.form = low
        elif info.form is None and low in _UPDATE_WORDS:
            info.form = "update"


def _depth(text: str) -> int:
    """Deepest bracket nesting, counted on the raw characters (strings included: fail-closed).

    A text with no more brackets than ``MAX_NESTING`` cannot nest deeper than their
    count, which is returned without the character loop (an upper bound: ``check``
    counts exactly when a lower cap is set)."""
    count = text.count("{") + text.count("(") + text.count("[")
    if count <= MAX_NESTING:
        return count
    return _exact_depth(text)


def _exact_depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]" and depth:
            depth -= 1
    return deepest


# ---------------------------------------------------------------- SERVICE occurrences
#
# Keywords need no word boundary in Oxigraph (measured: ``SERVICEe:s`` is SERVICE + e:s,
# ``SERVICESILENT<...>`` works), and whether ``<`` starts an IRI or is "less than" depends
# on the parser's state, so masking strings and comments with a lexer could disagree with
# the engine. The occurrence check therefore looks at every place the letters occur, in
# any context, and skips only those that cannot be the keyword in any reading:
#   * inside a variable name (``?service``: the engine reads variable names greedily);
#   * inside the local part of a prefixed name (``sd:Service``), same reason;
#   * not followed by anything that could be an endpoint (``sd:Service .``, ``"social
#     service work"``: a target is an IRI ``<...>``, a variable, or a run holding ``:``).
# Everything else must name an allow-listed absolute IRI. The cost is a rare refusal of a
# harmless query that mentions e.g. ``"service: <http://x>"`` in a string.

_OCCURRENCE = re.compile("service", re.IGNORECASE)
_VAR_RUN = re.compile(r"[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+")
_LOCAL_RUN = re.compile(r":[\w\-%\u00B7\u0300-\u036F\u203F-\u2040]+")
_SKIP = re.compile(r"(?:\s|\#[^\n\r]*)*")
_SILENT = re.compile("silent", re.IGNORECASE)
_IRIREF = re.compile(r"<((?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*)>")
_IRI_CHARS = re.compile(r"(?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*")
_RUN = re.compile(r"[^\s{}()<>\"'#,;\[\]]*")

#: the target could not be resolved to exactly one absolute IRI
UNRESOLVED = None

# Work bounds, so that a hostile query cannot make the guard itself slow (every
# occurrence is examined in a window; a target that does not fit is refused, as is a
# query with more occurrences than this - fail-closed both).
_WINDOW = 4096
_MAX_OCCURRENCES = 1000


def _name_spans(text: str) -> tuple[list[int], list[int]]:
    """Starts and ends of the insides of variable names and of prefixed names' local parts.

    The engine reads both greedily, so the letters inside them cannot be a keyword. A
    variable run cannot hold ``:`` nor a local-part run ``?``/``$``: the spans never overlap.
    """
    spans = sorted((m.start() + 1, m.end()) for m in
                   (*_VAR_RUN.finditer(text), *_LOCAL_RUN.finditer(text)))
    return [s for s, _ in spans], [e for _, e in spans]


def _inside_name(starts: list[int], ends: list[int], position: int) -> bool:
    i = bisect.bisect_right(starts, position) - 1
    return i >= 0 and position < ends[i]


def _targets_at(text: str, pos: int, prefixes: dict[str, set[str]]) -> list:
    """Every endpoint a ``SERVICE`` keyword ending at *pos* could name (empty: none)."""
    skipped = _SKIP.match(text, pos, pos + _WINDOW).end()
    if skipped == pos + _WINDOW:
        return [UNRESOLVED]  # a longer gap (a huge comment) than the guard looks through
    readings = [skipped]
    silent = _SILENT.match(text, skipped)
    if silent:  # SILENT is optional and needs no boundary: check both readings
        after = _SKIP.match(text, silent.end(), silent.end() + _WINDOW).end()
        if after == silent.end() + _WINDOW:
            return [UNRESOLVED]
        readings.append(after)
    found = []
    for at in readings:
        if at >= len(text):
            continue
        char = text[at]
        end = at + _WINDOW
        if char in "?$":
            found.append(UNRESOLVED)
            continue
        if char == "<":
            iri = _IRIREF.match(text, at, end)
            if iri:
                value = unescape(iri.group(1))
                found.append(value if _is_absolute(value) else UNRESOLVED)
                continue
            if _IRI_CHARS.match(text, at + 1, end).end() == end:
                found.append(UNRESOLVED)  # an IRI longer than the window
                continue
        run = _RUN.match(text, at, end).group()
        if at + len(run) == end:
            found.append(UNRESOLVED)  # a name longer than the window
            continue
        if ":" not in run:
            continue  # no IRI, variable or prefixed name can start here
        prefix, _, local = run.partition(":")
        local = re.sub(r"\\(.)", r"\1", local).rstrip(".")
        candidates = {base + local for base in prefixes.get(prefix, ())}
        if len(candidates) == 1:
            value = candidates.pop()
            found.append(value if _is_absolute(value) else UNRESOLVED)
        else:
            found.append(UNRESOLVED)
    return found


def _services(text: str, prefixes: dict[str, set[str]]) -> list:
    targets: list = []
    starts = ends = None
    examined = 0
    for m in _OCCURRENCE.finditer(text):
        if starts is None:
            starts, ends = _name_spans(text)
        if _inside_name(starts, ends, m.start()):
            continue
        examined += 1
        if examined > _MAX_OCCURRENCES:
            targets.append(UNRESOLVED)
            break
        targets.extend(_targets_at(text, m.end(), prefixes))
    return targets


def analyse(query: str) -> QueryInfo:
    """Read *query* (raw and with ``\\u`` escapes resolved) and report what it does."""
    info = QueryInfo()
    resolved = unescape(query)
    readings = [query] if resolved == query else [query, resolved]
    prefixes: dict[str, set[str]] = {}
    for text in readings:
        _scan_tokens(text, info, prefixes)
    for text in readings:
        info.depth = max(info.depth, _depth(text))
        if _OCCURRENCE.search(text):
            info.services.extend(_services(text, prefixes))
    return info


def check(query: str, allowlist: Iterable[str] = (), max_nesting: int = MAX_NESTING) -> QueryInfo:
    """Refuse the query (``ServiceNotAllowed``, ``QueryError``) or return what it is.

    Raises before anything runs: a ``SERVICE`` to an IRI not in *allowlist*, a
    ``SERVICE ?var`` or a ``SERVICE`` whose target cannot be resolved to one absolute
    IRI; brackets nested deeper than *max_nesting*.
    """
    info = analyse(query)
    if max_nesting < info.depth <= MAX_NESTING:
        # the count was an upper bound (``_depth``); a cap below the default needs the depth
        info.depth = max(_exact_depth(query), _exact_depth(unescape(query)))
    if info.depth > max_nesting:
        raise QueryError(
            f"query nested too deeply: {info.depth} levels of brackets (the limit is {max_nesting})"
        )
    allowed = set(allowlist)
    for target in info.services:
        if target is None:
            raise ServiceNotAllowed(
                "SERVICE is only allowed to a fixed, absolute endpoint IRI on this server's "
                "allow-list (SERVICE ?variable, relative IRIs and undeclared prefixes are refused)"
            )
        if target not in allowed:
            listed = ", ".join(sorted(allowed)) if allowed else "none: federation is disabled"
            raise ServiceNotAllowed(f"SERVICE <{target}> is not allowed (allowed endpoints: {listed})")
    return info

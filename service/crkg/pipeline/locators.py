"""The structured form of a ``crkg:locator`` (data/README.md, "Locators").

A locator stays the human-readable string a scholar writes; this module reads the parts
it understands into the structured properties of the ontology (``crkg:startPage`` …),
so that queries can sort and compare them. Whether a locator is well formed is the
shapes' rule (``crkgsh:Locator_pattern``), not this module's: a locator it cannot read
simply gets no structured form.

Grammar: ``[document, ]part[, part]...`` where a part is one of

=====================  =======================================  =========================
part                   examples                                 structured as
=====================  =======================================  =========================
section as printed     ``三.3.(1)``, ``二``, ``2.3``              ``crkg:locatorSection``
table or figure        ``表1``, ``图1``, ``Table 2``, ``Fig. 3``   ``crkg:locatorTableOrFigure``
page                   ``p. 12``, ``pp. 12–13``                 ``crkg:startPage``/``endPage``
paragraph              ``¶14``, ``¶¶14–15``                     ``…Paragraph``
line                   ``l. 7``, ``ll. 7–9``                    ``…Line``
transcript turn        ``turn 14``, ``turns 14–16``             ``…Turn``
timestamp              ``00:12:31``, ``00:12:31–00:13:05``      ``crkg:startSecond``/``endSecond``
character range        ``chars 120–245``                        (the passage's selectors)
=====================  =======================================  =========================

Ranges take an en dash or a hyphen. ``document`` is a free label without a comma (e.g.
``Interview A1, ¶14``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from crkg.namespaces import CRKG

_SECTION = r"(十?[一二三四五六七八九]|十|[1-9][0-9]*)(\.[1-9][0-9]*(\.\([1-9][0-9]*\))?)?"
_TABLE = r"[表图][1-9][0-9]*|(Table|Figure|Fig\.) [1-9][0-9]*[a-z]?"
_N = r"[1-9][0-9]*"
_DASH = "[–-]"
_TIME = r"[0-9][0-9]:[0-5][0-9]:[0-5][0-9]"
#: a picture's rectangle as REFI-QDA gives it (PictureSelection: first and second corner,
#: pixels); the numbers themselves are in crkg:region
_REGION = rf"region \([0-9]+,[0-9]+\){_DASH}\([0-9]+,[0-9]+\)"

def _ranged(one: str, many: str) -> str:
    return f"{one}{_N}|{many}{_N}{_DASH}{_N}"


#: One part, and a whole locator: the regular expression of ``crkgsh:Locator_pattern``
#: (tests/shapes check the two are the same). Plain groups only: sh:pattern is an XPath
#: regular expression, which has no ``(?:...)`` and no ``\d``.
PART_PATTERN = "(" + "|".join([
    _SECTION, _TABLE, _ranged(r"p\. ", r"pp\. "), _ranged("¶", "¶¶"), _ranged(r"l\. ", r"ll\. "),
    _ranged("turn ", "turns "), f"{_TIME}({_DASH}{_TIME})?", f"chars [0-9]+{_DASH}[0-9]+", _REGION,
]) + ")"
PATTERN = f"^([^,]+, )?{PART_PATTERN}(, {PART_PATTERN})*$"

#: Ranged units: the singular and plural prefixes and the ontology's property stem.
_UNITS = {
    "Page": (r"p\. ", r"pp\. "),
    "Paragraph": ("¶", "¶¶"),
    "Line": (r"l\. ", r"ll\. "),
    "Turn": ("turn ", "turns "),
}


@dataclass
class Locator:
    """What a locator says, part by part (only the parts present are set)."""

    document: str | None = None
    section: str | None = None
    table_or_figure: str | None = None
    #: unit ("Page", "Paragraph", "Line", "Turn", "Second") -> (first, last)
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    chars: tuple[int, int] | None = None


def _seconds(stamp: str) -> int:
    h, m, s = (int(x) for x in stamp.split(":"))
    return h * 3600 + m * 60 + s


def _part(text: str, loc: Locator) -> bool:
    if re.fullmatch(_SECTION, text):
        loc.section = text
        return True
    if re.fullmatch(_TABLE, text):
        loc.table_or_figure = text
        return True
    for unit, (one, many) in _UNITS.items():
        if m := re.fullmatch(f"{one}({_N})", text):
            loc.ranges[unit] = (int(m.group(1)), int(m.group(1)))
            return True
        if m := re.fullmatch(f"{many}({_N}){_DASH}({_N})", text):
            loc.ranges[unit] = (int(m.group(1)), int(m.group(2)))
            return True
    if m := re.fullmatch(f"({_TIME})({_DASH}({_TIME}))?", text):
        start = _seconds(m.group(1))
        loc.ranges["Second"] = (start, _seconds(m.group(3)) if m.group(3) else start)
        return True
    if m := re.fullmatch(f"chars ([0-9]+){_DASH}([0-9]+)", text):
        loc.chars = (int(m.group(1)), int(m.group(2)))
        return True
    return re.fullmatch(_REGION, text) is not None  # no structured form: crkg:region has it


def parse_locator(text: str) -> Locator | None:
    """The parts of *text*, or None when it is not in the grammar above."""
    if not isinstance(text, str):
        return None
    pieces = text.split(", ")
    loc = Locator()
    if all(_part(p, loc) for p in pieces):
        return loc
    loc = Locator(document=pieces[0])
    if len(pieces) > 1 and "," not in pieces[0] and all(_part(p, loc) for p in pieces[1:]):
        return loc
    return None


def structured_triples(subject: URIRef, locator: str) -> list[tuple]:
    """The structured form of *locator* as triples about *subject* (none if unreadable)."""
    loc = parse_locator(locator)
    if loc is None:
        return []
    triples = []
    if loc.section:
        triples.append((subject, CRKG.locatorSection, Literal(loc.section)))
    if loc.table_or_figure:
        triples.append((subject, CRKG.locatorTableOrFigure, Literal(loc.table_or_figure)))
    for unit, (first, last) in loc.ranges.items():
        # seconds count from 0; pages, paragraphs, lines and turns from 1
        dtype = XSD.nonNegativeInteger if unit == "Second" else XSD.positiveInteger
        triples.append((subject, CRKG[f"start{unit}"], Literal(first, datatype=dtype)))
        triples.append((subject, CRKG[f"end{unit}"], Literal(last, datatype=dtype)))
    return triples

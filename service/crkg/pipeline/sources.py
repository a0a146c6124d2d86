"""A study's source documents (``sources:``) and what the build verifies against them.

The format (data/README.md, "Source documents and anchored passages"): a source document's text is stored in the
study folder (``file:``) as UTF-8 without a byte-order mark, with LF line ends - "the
text as crkg stores it"; ``sha256:`` is the digest of exactly those bytes. Positions
(``start``/``end`` of a passage, W3C Web Annotation ``oa:TextPositionSelector``) count
Unicode code points of that text, start included, end excluded; ``oa:exact`` is the
text between them (https://www.w3.org/TR/annotation-model/#text-position-selector).

When a text may not be redistributed its ``file:`` is left out: the build then verifies
nothing against it and says so (:func:`withheld_notice`), never silently.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

#: Characters of context kept either side of a passage (oa:prefix / oa:suffix).
CONTEXT_CHARS = 32


@dataclass
class SourceText:
    """One source document whose text is in the study folder."""

    key: str
    path: Path
    text: str
    sha256: str


def read_source_text(path: Path) -> tuple[str | None, str, list[str]]:
    """(text or None, SHA-256 of the bytes, problems) for a stored source text."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, "", [f"cannot read the source text {path}: {exc.strerror or exc}"]
    digest = hashlib.sha256(data).hexdigest()
    problems = []
    if data.startswith(b"\xef\xbb\xbf"):
        problems.append(f"{path} starts with a byte-order mark: store it as UTF-8 without one")
    if b"\r" in data:
        problems.append(f"{path} has CR line ends: store it with LF line ends only")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"{path} is not UTF-8 (byte {exc.start}): convert it to UTF-8")
        return None, digest, problems
    return text, digest, problems


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def withheld_notice(key: str) -> str:
    """The warning for a source listed with its digest only."""
    return (f"source {key!r}: its text is not in the study folder (listed with its SHA-256 only, "
            "e.g. because its licence does not allow redistribution): selector and verbatim checks "
            "were skipped for it")


# --------------------------------------------------------------------------- selectors


def check_selector(text: str, start: int, end: int, exact: str,
                   prefix: str | None = None, suffix: str | None = None) -> list[str]:
    """Problems of one passage's selectors against its source *text* (empty if none)."""
    if not (0 <= start <= end <= len(text)):
        return [f"start {start} / end {end} lie outside the source text (0 to {len(text)} characters)"]
    found = text[start:end]
    problems = []
    if found != exact:
        problems.append(f"the text does not equal the source at [{start}, {end}): the source has "
                        f"{_show(found)}, the passage {_show(exact)}" + _hint(text, exact))
    if prefix is not None and text[max(0, start - len(prefix)):start] != prefix:
        problems.append(f"'prefix' {_show(prefix)} is not the text just before {start}: "
                        f"the source has {_show(text[max(0, start - len(prefix)):start])}")
    if suffix is not None and text[end:end + len(suffix)] != suffix:
        problems.append(f"'suffix' {_show(suffix)} is not the text just after {end}: "
                        f"the source has {_show(text[end:end + len(suffix)])}")
    return problems


def context_of(text: str, start: int, end: int) -> tuple[str, str]:
    """(prefix, suffix): up to CONTEXT_CHARS characters either side of [start, end)."""
    return text[max(0, start - CONTEXT_CHARS):start], text[end:end + CONTEXT_CHARS]


def _show(s: str, limit: int = 40) -> str:
    return repr(s if len(s) <= limit else s[:limit] + "…")


def _hint(text: str, exact: str) -> str:
    at = text.find(exact) if exact else -1
    if at < 0:
        return " (the passage is nowhere in the source: copy it from there)"
    return f" (the passage is found at start {at}, end {at + len(exact)})"


# --------------------------------------------------------------------------- sections


_TOP = re.compile(r"^([一二三四五六七八九十]+)、")
_ARABIC_SUB = re.compile(r"^([1-9][0-9]*)\.(?![0-9])")
_PAREN_SUB = re.compile(r"^[(（]([1-9][0-9]*)[)）]")
_TABLE_FIG = re.compile(r"^([表图][1-9][0-9]*)\s|^((?:Table|Figure|Fig\.) [1-9][0-9]*[a-z]?)\b")
_NUMBERED = re.compile(r"^([1-9][0-9]*(?:\.[1-9][0-9]*)*)\.?\s+\S")


def sections_of(text: str) -> set[str]:
    """The section numbers a text prints in its headings, as locators write them.

    Chinese numbering nests: ``一、`` a chapter, ``1.`` a section of it (``一.1``), ``(1)``
    a subsection (``一.1.(1)``). Arabic numbering (``2.``, ``2.3 Methods``) is taken as
    printed. ``表1``, ``图1``, ``Table 2``, ``Figure 3`` are tables and figures.
    """
    found: set[str] = set()
    top = sub = None
    for raw in text.splitlines():
        line = raw.strip()
        if m := _TOP.match(line):
            top, sub = m.group(1), None
            found.add(top)
        elif m := _TABLE_FIG.match(line):
            found.add(m.group(1) or m.group(2))
        elif top and (m := _ARABIC_SUB.match(line)):
            sub = f"{top}.{m.group(1)}"
            found.add(sub)
        elif sub and (m := _PAREN_SUB.match(line)):
            found.add(f"{sub}.({m.group(1)})")
        elif top is None and (m := _NUMBERED.match(line)):
            found.add(m.group(1))
    return found

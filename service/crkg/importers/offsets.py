"""Offsets of coded selections, per exporting tool, converted to what crkg stores.

crkg stores every source text as UTF-8 without a byte-order mark and with LF line ends
(FORMAT.md, "the text as crkg stores it"), and its selectors count Unicode code points from
0, start included, end excluded (W3C Web Annotation ``oa:TextPositionSelector``). REFI-QDA
1.5 says the same for ``startPosition``/``endPosition``, but exports differ:

=============  ===========================================================================
dialect        rule (chosen from the project's ``origin`` attribute)
=============  ===========================================================================
``standard``   code points over the text file as written, a CRLF counting as two
               characters (MAXQDA, QualCoder, Quirkos, Taguette, and anything else)
``nvivo``      UTF-16 code units over the text without its byte-order mark: a character
               outside the Basic Multilingual Plane (an emoji, a rare CJK ideograph)
               counts two; a CRLF two (NVivo writes CRLF text under ``Sources/``)
``atlasti``    code points, but a CRLF counts as ONE character (ATLAS.ti's editor sees
               one line break)
=============  ===========================================================================

:class:`OffsetMap` maps an offset in the tool's units to a code-point offset into the
stored text, and says when an offset cannot be placed (past the end, inside a surrogate
pair, between the CR and LF of a line break): such a selection is reported, never moved.
"""

from __future__ import annotations

import codecs
from array import array
from dataclasses import dataclass

from crkg.importers import UnusableInput


@dataclass(frozen=True)
class Dialect:
    name: str
    utf16_units: bool   # offsets count UTF-16 code units (astral characters count two)
    crlf_as_one: bool   # a CRLF pair counts as one character
    description: str


STANDARD = Dialect("standard", False, False, "Unicode code points, CRLF = 2 (REFI-QDA 1.5)")
NVIVO = Dialect("nvivo", True, False, "UTF-16 code units over the text without BOM, CRLF = 2 (NVivo)")
ATLASTI = Dialect("atlasti", False, True, "Unicode code points, CRLF = 1 (ATLAS.ti)")
DIALECTS = {d.name: d for d in (STANDARD, NVIVO, ATLASTI)}


def dialect_for_origin(origin: str | None) -> Dialect:
    """The offset rule for a project whose ``<Project origin=...>`` is *origin*."""
    o = (origin or "").lower()
    if "nvivo" in o:
        return NVIVO
    if "atlas" in o:
        return ATLASTI
    return STANDARD


def decode_text(data: bytes, where: str) -> tuple[str, str]:
    """(text without BOM, encoding) of a source file: UTF-8 (with or without BOM) or
    UTF-16 with a BOM. Anything else is :class:`UnusableInput` (a source crkg cannot read
    is reported missing, never read with a guessed encoding)."""
    if data.startswith(codecs.BOM_UTF8):
        enc, body = "utf-8-sig", data[len(codecs.BOM_UTF8):]
        codec = "utf-8"
    elif data.startswith(codecs.BOM_UTF16_LE):
        enc, body, codec = "utf-16-le (BOM)", data[2:], "utf-16-le"
    elif data.startswith(codecs.BOM_UTF16_BE):
        enc, body, codec = "utf-16-be (BOM)", data[2:], "utf-16-be"
    else:
        enc, body, codec = "utf-8", data, "utf-8"
    try:
        return body.decode(codec), enc
    except UnicodeDecodeError as exc:
        raise UnusableInput(f"{where}: not {codec} text ({exc.reason} at byte {exc.start}); "
                            "save it as UTF-8") from exc


def store_text(text: str) -> str:
    """The text as crkg stores it: LF line ends (CRLF and lone CR become LF), no BOM."""
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


class OffsetMap:
    """Tool offsets over *raw* (the decoded text, BOM removed, line ends as in the file)
    → code-point offsets over :func:`store_text` of it."""

    def __init__(self, raw: str, dialect: Dialect):
        self.dialect = dialect
        self.stored = store_text(raw)
        # _map[t] = stored offset at tool offset t, or -1 where t falls inside a unit.
        m = array("q")
        s = 0
        i = 0
        n = len(raw)
        if raw.startswith("\ufeff"):
            i = 1  # a BOM decoded into the text is not counted by any tool
        while i < n:
            c = raw[i]
            m.append(s)
            if c == "\r" and i + 1 < n and raw[i + 1] == "\n":
                if not dialect.crlf_as_one:
                    m.append(-1)  # between CR and LF: no character of the stored text
                s += 1
                i += 2
                continue
            if dialect.utf16_units and ord(c) > 0xFFFF:
                m.append(-1)      # between the two surrogates of one character
            s += 1
            i += 1
        m.append(s)
        self._map = m

    @property
    def length(self) -> int:
        """Length of the text in the tool's units."""
        return len(self._map) - 1

    def to_stored(self, offset: int) -> int | None:
        """The stored code-point offset for tool offset *offset*, or None if it cannot be placed."""
        if offset < 0 or offset >= len(self._map):
            return None
        v = self._map[offset]
        return None if v < 0 else v


def context(text: str, start: int, end: int, width: int = 32) -> tuple[str, str]:
    """(prefix, suffix): up to *width* characters either side, for ``oa:TextQuoteSelector``."""
    return text[max(0, start - width):start], text[end:end + width]

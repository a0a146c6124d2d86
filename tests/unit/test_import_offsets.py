"""Offset rules per exporting tool (crkg.importers.offsets): tool units -> code points over
the stored text (UTF-8, LF, no BOM)."""

from __future__ import annotations

import codecs

import pytest

from crkg.importers import UnusableInput
from crkg.importers.offsets import ATLASTI, NVIVO, STANDARD, OffsetMap, decode_text, dialect_for_origin, store_text

RAW = "a😊b\r\nc𠀋d\re"      # an emoji and a CJK Extension B ideograph (both astral), CRLF, lone CR
STORED = "a😊b\nc𠀋d\ne"


def test_stored_text_has_lf_and_no_bom():
    assert store_text("\ufeff" + RAW) == STORED


@pytest.mark.parametrize(("origin", "dialect"), [
    ("NVivo 12 (12.6.1.970)", NVIVO), ("NVivo 14", NVIVO), ("ATLAS.ti 9.1.7", ATLASTI),
    ("ATLAS.ti 26.0.1", ATLASTI), ("MAXQDA 2022", STANDARD), ("QualCoder 3.5", STANDARD), (None, STANDARD),
])
def test_rule_chosen_from_origin(origin, dialect):
    assert dialect_for_origin(origin) is dialect


def test_standard_counts_code_points_and_crlf_as_two():
    m = OffsetMap(RAW, STANDARD)
    assert m.stored == STORED
    assert m.length == len(RAW)
    assert m.to_stored(1) == 1 and m.to_stored(2) == 2          # the emoji is one code point
    assert m.to_stored(3) == 3 and m.to_stored(4) is None        # between CR and LF
    assert m.to_stored(5) == 4                                   # after the CRLF
    assert STORED[m.to_stored(5):m.to_stored(8)] == "c𠀋d"


def test_nvivo_counts_utf16_units():
    m = OffsetMap(RAW, NVIVO)
    assert m.length == len(RAW.encode("utf-16-le")) // 2
    assert m.to_stored(1) == 1 and m.to_stored(2) is None and m.to_stored(3) == 2   # surrogate pair
    s, e = m.to_stored(6), m.to_stored(10)   # "c𠀋d": c at unit 6, 𠀋 two units, d, end at 10
    assert STORED[s:e] == "c𠀋d"


def test_atlasti_counts_crlf_as_one():
    m = OffsetMap(RAW, ATLASTI)
    assert m.length == len(STORED)
    assert [m.to_stored(i) for i in range(len(STORED) + 1)] == list(range(len(STORED) + 1))


def test_offsets_past_the_end_cannot_be_placed():
    m = OffsetMap(RAW, STANDARD)
    assert m.to_stored(len(RAW)) == len(STORED)
    assert m.to_stored(len(RAW) + 1) is None
    assert m.to_stored(-1) is None


@pytest.mark.parametrize("bom,codec", [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                                       (codecs.BOM_UTF16_BE, "utf-16-be"), (b"", "utf-8")])
def test_decode_strips_the_bom(bom, codec):
    text, _ = decode_text(bom + RAW.encode(codec), "x")
    assert text == RAW


def test_text_in_another_encoding_is_not_guessed():
    with pytest.raises(UnusableInput, match="not utf-8"):
        decode_text("Grüße".encode("latin-1"), "x.txt")

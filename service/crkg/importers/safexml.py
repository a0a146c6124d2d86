"""Parse untrusted XML (a REFI-QDA ``project.qde``) into an ElementTree, safely.

REFI-QDA documents need no DTD, so any document type declaration is refused outright: that
rules out external entities (XXE: reading local files or the network), internal entity
expansion ("billion laughs") and parameter entities in one stroke. Expat is driven directly
(not through ``xml.etree``'s parser, which accepts DTDs), external entity resolution is
switched off, and nesting depth is bounded. Each refusal is a
:class:`~crkg.importers.HostileInput`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.parsers import expat

from crkg.importers import HostileInput, UnusableInput
from crkg.importers import limits


def parse_xml(data: bytes, where: str) -> ET.Element:
    """The root element of *data*; *where* names the file in messages."""
    if len(data) > limits.MAX_XML_BYTES:
        raise HostileInput(f"{where}: {len(data)} bytes of XML, more than {limits.MAX_XML_BYTES}; refused")
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    depth = [0]

    def refuse(what):
        def handler(*_args):
            raise HostileInput(f"{where}: the XML declares {what}; REFI-QDA needs none and crkg "
                               "refuses them (external entities, entity expansion); refused")
        return handler

    def start(name, attrs):
        depth[0] += 1
        if depth[0] > limits.MAX_XML_DEPTH:
            raise HostileInput(f"{where}: XML nested deeper than {limits.MAX_XML_DEPTH} elements; refused")
        builder.start(_qname(name), {_qname(k): v for k, v in attrs.items()})

    def end(name):
        depth[0] -= 1
        builder.end(_qname(name))

    parser.StartDoctypeDeclHandler = refuse("a document type (DTD)")
    parser.EntityDeclHandler = refuse("an entity")
    parser.UnparsedEntityDeclHandler = refuse("an unparsed entity")
    parser.ExternalEntityRefHandler = refuse("an external entity")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise UnusableInput(f"{where}: not well-formed XML: {exc}") from exc
    try:
        return builder.close()
    except AssertionError as exc:  # TreeBuilder: no root element
        raise UnusableInput(f"{where}: no XML element found") from exc


def _qname(name: str) -> str:
    return "{" + name if "}" in name else name

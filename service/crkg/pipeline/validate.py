"""Validating RDF against the SHACL shapes: the names callers use, in one place.

The work is split by job (issue 9 item 4):

* ``crkg.pipeline.shacl_validation``: running the shapes (:func:`validate`,
  :func:`load_shapes`, :func:`default_ontology`, ``SHAPES_FILE``);
* ``crkg.pipeline.shacl_report``: the report as objects and text (:class:`Violation`,
  :class:`ValidationResult`, :func:`violations_from_report`);
* ``crkg.pipeline.rdf_files``: reading RDF files (:func:`load_rdf_files`,
  :func:`parse_rdf_file`, ``RDF_FILE_FORMATS``).
"""

from __future__ import annotations

from crkg.pipeline.rdf_files import RDF_FILE_FORMATS, load_rdf_files, parse_rdf_file
from crkg.pipeline.shacl_report import SourceLocation, ValidationResult, Violation, violations_from_report
from crkg.pipeline.shacl_validation import SHAPES_FILE, default_ontology, load_shapes, validate

__all__ = [
    "RDF_FILE_FORMATS",
    "SHAPES_FILE",
    "SourceLocation",
    "ValidationResult",
    "Violation",
    "default_ontology",
    "load_rdf_files",
    "load_shapes",
    "parse_rdf_file",
    "validate",
    "violations_from_report",
]

"""Issue 9 item 4: the build's modules have one job each and use only each other's public names."""

from __future__ import annotations

import ast
from pathlib import Path

import crkg.pipeline

PIPELINE = Path(crkg.pipeline.__file__).parent


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("crkg."):
            own = f"crkg.pipeline.{path.stem}"
            if node.module == own:
                continue
            found += [f"{path.name}: from {node.module} import {a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")]
    return found


def test_validation_is_split_by_job_and_no_module_imports_private_names():
    from crkg.pipeline import rdf_files, shacl_report, shacl_validation, validate

    assert validate.validate is shacl_validation.validate
    assert validate.load_shapes is shacl_validation.load_shapes
    assert validate.load_rdf_files is rdf_files.load_rdf_files
    assert validate.ValidationResult is shacl_report.ValidationResult
    # each job's module does not reach into the others' jobs
    assert not hasattr(shacl_report, "pyshacl")
    assert not hasattr(rdf_files, "pyshacl")
    found = [line for path in sorted(PIPELINE.glob("*.py")) for line in _private_imports(path)]
    assert found == []

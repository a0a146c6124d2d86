"""One source of truth in the package's own code (issue 9, item 3 and 4): read the
sources of ``service/crkg`` and check that what is stated once is not stated again.

Each check reads the Python syntax tree, so comments and docstrings (which may cite an
IRI or a default) do not count.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import crkg

PACKAGE = Path(crkg.__file__).resolve().parent
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return "crkg." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant of a module that is not a docstring."""
    tree = _tree(path)
    skip = _docstrings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip]


#: Namespace bases only crkg.namespaces may spell (the crkg ones and the W3C/DCMI/VoID
#: vocabularies the project uses); query texts and prefix lines take them from there.
NAMESPACE_BASES = re.compile(
    r"https://w3id\.org/crkg|http://www\.w3\.org/(?:1999/02/22-rdf|2000/01/rdf-schema|2002/07/owl"
    r"|2001/XMLSchema|2004/02/skos|ns/)|http://purl\.org/|http://rdfs\.org/ns/void"
    r"|http://xmlns\.com/foaf|http://www\.wikidata\.org/")


def test_namespace_iris_come_only_from_crkg_namespaces():
    found = [f"{_name(p)}:{line}: {text[:70]!r}" for p in MODULES if p.name != "namespaces.py"
             for line, text in _strings(p) if NAMESPACE_BASES.search(text)]
    assert not found, "spell these with crkg.namespaces:\n" + "\n".join(found)


MEDIA_TYPE = re.compile(r"^[a-z]+/[a-z0-9.+-]+$")


def test_no_module_but_crkg_formats_keeps_a_table_of_media_types():
    """Media type -> serializer / name / label tables live in crkg.formats only."""
    found = []
    for path in MODULES:
        if path.name == "formats.py":
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Dict):
                keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
                if sum(bool(MEDIA_TYPE.match(k)) for k in keys) >= 2:
                    found.append(f"{_name(path)}:{node.lineno}: {keys[:3]}")
    assert not found, "use crkg.formats:\n" + "\n".join(found)


#: A keyword default or argument that states a number of seconds itself.
_TIMEOUT_NUMBER = ("timeout", "graphs_ttl", "batch_size")


def test_time_limits_and_batch_sizes_are_stated_once_in_crkg_config():
    found = []
    for path in MODULES:
        if path.name == "config.py":
            continue
        for node in ast.walk(_tree(path)):
            pairs = []
            if isinstance(node, ast.arguments):
                args = node.args + node.kwonlyargs
                defaults = [None] * (len(node.args) - len(node.defaults)) + list(node.defaults) + list(node.kw_defaults)
                pairs = [(a.arg, d) for a, d in zip(args, defaults)]
            elif isinstance(node, ast.Call):
                pairs = [(k.arg, k.value) for k in node.keywords]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                pairs = [(node.target.id, node.value)]
            for name, value in pairs:
                if (name and name.lower() in _TIMEOUT_NUMBER and isinstance(value, ast.Constant)
                        and isinstance(value.value, (int, float)) and not isinstance(value.value, bool)):
                    found.append(f"{_name(path)}:{value.lineno}: {name}={value.value}")
    assert not found, "take these defaults from crkg.config.Config:\n" + "\n".join(found)


def _imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    return [n for n in ast.walk(_tree(path)) if isinstance(n, (ast.Import, ast.ImportFrom))]


def test_no_module_imports_another_modules_private_names():
    found = []
    for path in MODULES:
        for node in _imports(path):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("crkg"):
                found += [f"{_name(path)}:{node.lineno}: from {node.module} import {a.name}"
                          for a in node.names if a.name.startswith("_") and a.name != "__version__"]
    assert not found, "\n".join(found)


def _imported_modules(path: Path) -> set[str]:
    out = set()
    for node in _imports(path):
        if isinstance(node, ast.ImportFrom):
            out.add(node.module or "")
        else:
            out.update(a.name for a in node.names)
    return out


def test_the_store_package_imports_nothing_from_link_or_web():
    """store/ is below link/ and web/: no import runs the other way (the former cycle
    store/remote.py <-> link/push.py)."""
    found = [f"{_name(p)} imports {m}" for p in MODULES if p.parent.name == "store"
             for m in _imported_modules(p) if m.startswith(("crkg.link", "crkg.web", "crkg.commands"))]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("module", ["crkg.config", "crkg.formats", "crkg.store.base", "crkg.store.remote",
                                    "crkg.store.embedded", "crkg.store.sparql_http", "crkg.link.push",
                                    "crkg.link.propose", "crkg.commands.query"])
def test_shared_modules_import_without_flask(module):
    import subprocess
    import sys

    code = f"import sys, {module}; sys.exit('flask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0, f"{module} imports Flask"


def test_one_http_client_for_remote_endpoints():
    """push, link and --backend send their requests through crkg.store.sparql_http only."""
    users = {"crkg.store.remote", "crkg.store.graph_writer", "crkg.link.propose"}
    for path in MODULES:
        imported = _imported_modules(path)
        if _name(path) in users:
            assert "crkg.store.sparql_http" in imported, _name(path)
        if _name(path) != "crkg.store.sparql_http":
            assert not imported & {"urllib.request", "SPARQLWrapper", "requests", "http.client"}, _name(path)

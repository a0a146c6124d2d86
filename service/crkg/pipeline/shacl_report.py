"""SHACL validation reports (SHACL §3.6) as Python objects and as text a coder can act on.

pySHACL's report graph becomes :class:`Violation` objects (:func:`violations_from_report`),
collected in a :class:`ValidationResult`, whose ``format`` says which item, in which source
file and line, broke which rule (``to_json`` for tools). Running the shapes is
``crkg.pipeline.shacl_validation``'s job; this module only reads and writes reports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from crkg.namespaces import bind_prefixes

#: A source location of an item: (file, item key, line). Line may be None.
SourceLocation = tuple[str, str, "int | None"]

_SEVERITY_ORDER = {SH.Violation: 0, SH.Warning: 1, SH.Info: 2}


@dataclass(frozen=True)
class Violation:
    """One result of a SHACL validation report (SHACL §3.6.2)."""

    focus: Node
    path: Node | None
    value: Node | None
    message: str
    severity: URIRef
    component: URIRef
    shape: Node
    #: every sh:resultMessage by language tag ("en", "zh")
    messages: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def severity_name(self) -> str:
        return _local_name(self.severity)

    @property
    def component_name(self) -> str:
        return _local_name(self.component)

    def message_in(self, lang: str = "en") -> str:
        """The message in *lang*, else the English one, else any."""
        return self.messages.get(lang) or self.message

    def as_dict(self) -> dict:
        return {
            "focus": _term_str(self.focus),
            "path": _term_str(self.path),
            "value": _term_str(self.value),
            "message": self.message,
            "messages": dict(self.messages),
            "severity": str(self.severity),
            "component": str(self.component),
            "shape": _term_str(self.shape),
        }


@dataclass
class ValidationResult:
    """The outcome of :func:`validate`: conforms, the violations, the raw report graph."""

    conforms: bool
    violations: list[Violation]
    report_graph: Graph
    #: wall-clock seconds pySHACL took (shapes already loaded)
    seconds: float = 0.0

    def format(
        self,
        source_map: Mapping[Node | str, SourceLocation] | None = None,
        *,
        lang: str = "en",
        graph: Graph | None = None,
    ) -> str:
        """A readable report, one block per focus node, sorted so that diffs stay stable.

        *source_map* maps a focus node (IRI or its string) to ``(file, item key, line)``;
        items found in it are headed ``file:line: item 'key' (curie)`` so the coder can go
        straight to the YAML item; a value found in it (e.g. the duplicated reference slot)
        is located the same way. *lang* picks the message language (``en``, ``zh``).
        *graph* (optional) supplies prefixes to shorten IRIs to CURIEs.
        """
        nm = (graph if graph is not None else bind_prefixes(Graph())).namespace_manager
        if self.conforms and not self.violations:
            return "Conforms: the data satisfies every shape.\n"
        source_map = source_map or {}
        lines: list[str] = []
        n_viol = sum(1 for v in self.violations if v.severity == SH.Violation)
        head = "Does not conform" if not self.conforms else "Conforms (with warnings)"
        lines.append(f"{head}: {n_viol} violation(s), {len(self.violations)} result(s) in all.")
        by_focus: dict[Node, list[Violation]] = {}
        for v in self.violations:
            by_focus.setdefault(v.focus, []).append(v)
        for focus in sorted(by_focus, key=lambda n: (_where(n, source_map), str(n))):
            lines.append("")
            loc = _lookup(focus, source_map)
            if loc is not None:
                file, key, line = loc
                where = f"{_display_path(file)}:{line}" if line else _display_path(file)
                lines.append(f"{where}: item '{key}' ({_short(focus, nm)})")
            else:
                lines.append(f"{_short(focus, nm)}")
            for v in sorted(by_focus[focus], key=_sort_key):
                what = _short(v.path, nm) if v.path is not None else "(the item as a whole)"
                lines.append(f"  {v.severity_name}: {what} [{v.component_name.removesuffix('ConstraintComponent')}]")
                lines.append(f"    {v.message_in(lang)}")
                if v.value is not None and v.value != v.focus:
                    value_loc = _lookup(v.value, source_map) if isinstance(v.value, URIRef) else None
                    at = ""
                    if value_loc is not None:
                        vfile, vkey, vline = value_loc
                        vfile = _display_path(vfile)
                        at = f" (item '{vkey}' at {vfile}:{vline})" if vline else f" (item '{vkey}' in {vfile})"
                    lines.append(f"    value: {_show_value(v.value, nm)}{at}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        return json.dumps(
            {
                "conforms": self.conforms,
                "violations": [v.as_dict() for v in sorted(self.violations, key=_sort_key)],
            },
            ensure_ascii=False,
            indent=2,
        )




def violations_from_report(report: Graph) -> list[Violation]:
    """Every ``sh:ValidationResult`` of *report*, sorted (focus, severity, path ...)."""
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        messages: dict[str, str] = {}
        for m in sorted(report.objects(result, SH.resultMessage)):
            lang = m.language if isinstance(m, Literal) and m.language else _guess_lang(str(m))
            messages.setdefault(lang, str(m))
        message = messages.get("en") or messages.get("") or next(iter(messages.values()), "")
        path = report.value(result, SH.resultPath)
        if isinstance(path, BNode):  # a complex path (SHACL §2.3.1), as SPARQL path text
            path = Literal(_path_text(report, path))
        out.append(
            Violation(
                focus=report.value(result, SH.focusNode),
                path=path,
                value=report.value(result, SH.value),
                message=message,
                severity=report.value(result, SH.resultSeverity) or SH.Violation,
                component=report.value(result, SH.sourceConstraintComponent),
                shape=report.value(result, SH.sourceShape),
                messages=messages,
            )
        )
    out.sort(key=_sort_key)
    return out


def _guess_lang(text: str) -> str:
    # pySHACL drops the language tag of a SPARQL constraint's message when it fills in
    # {?var}; our messages are English or Chinese, so Han characters tell them apart.
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


def _path_text(g: Graph, node: Node) -> str:
    """A SHACL property path in SPARQL property-path syntax, IRIs written ``<...>``."""
    if isinstance(node, URIRef):
        return f"<{node}>"
    if (node, RDF.first, None) in g:  # a sequence path
        return "/".join(_path_text(g, item) for item in Collection(g, node))
    for predicate, template in _PATH_FORMS.items():
        inner = g.value(node, predicate)
        if inner is None:
            continue
        if predicate == SH.alternativePath:
            return "(" + "|".join(_path_text(g, item) for item in Collection(g, inner)) + ")"
        return template.format(_path_text(g, inner))
    return str(node)


_PATH_FORMS = {
    SH.alternativePath: None,
    SH.inversePath: "^{}",
    SH.zeroOrMorePath: "({})*",
    SH.oneOrMorePath: "({})+",
    SH.zeroOrOnePath: "({})?",
}


def _sort_key(v: Violation):
    return (
        str(v.focus),
        _SEVERITY_ORDER.get(v.severity, 9),
        str(v.path or ""),
        str(v.component),
        str(v.value or ""),
        str(v.shape),
    )


def _local_name(iri: Node | None) -> str:
    s = str(iri or "")
    return s.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _term_str(node: Node | None) -> str | None:
    if node is None:
        return None
    return str(node) if not isinstance(node, Literal) else node.n3()


def _short(node: Node | None, nm) -> str:
    if node is None:
        return ""
    if isinstance(node, URIRef):
        try:
            return nm.normalizeUri(node)
        except Exception:  # rdflib cannot shorten some IRIs; show them whole
            return f"<{node}>"
    if isinstance(node, Literal) and "<" in node:  # a complex path: shorten its IRIs
        return re.sub(r"<([^>]*)>", lambda m: _short(URIRef(m.group(1)), nm), str(node))
    return str(node)


def _show_value(node: Node, nm) -> str:
    if isinstance(node, Literal):
        return node.n3(nm)
    return _short(node, nm)


def _display_path(file) -> str:
    """A source file as the user knows it: relative to the working directory if inside it."""
    path = Path(file)
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            pass
    return str(file)


def _lookup(focus: Node, source_map: Mapping) -> SourceLocation | None:
    loc = source_map.get(focus)
    if loc is None:
        loc = source_map.get(str(focus))
    return loc


def _where(focus: Node, source_map: Mapping) -> tuple:
    loc = _lookup(focus, source_map)
    if loc is None:
        return ("~",)  # unmapped nodes last
    file, key, line = loc
    return (str(file), line or 0, str(key))

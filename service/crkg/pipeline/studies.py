"""Coded studies (``data/studies/<key>/``) → one RDF graph per study.

The source format is YAML-LD (https://json-ld.github.io/yaml-ld/): every YAML file of a
study folder is a JSON-LD document once the ONE shared context ``data/context.jsonld``
is applied. The mapping of field names to properties, language maps, datatypes and the
meaning of bare codebook names (``usesMode: TrustScopeExpansion``) all live in that
context; rdflib's JSON-LD parser does the mapping. This module only adds what JSON-LD
cannot say (documented in ``data/README.md``):

* the file sections (``communities:``, ``interventions:`` …) say the kind of their items;
  an item's ``key`` becomes the IRI ``id/{kind}/{study}/{key}`` (real-world kinds such as
  ``city`` are not scoped by the study: ``id/city/{key}``) and the section's class;
* links between items are written ``kind:key`` (``performedBy: [actor:W]``): compact
  IRIs whose prefixes the study's own small context declares;
* strictness, because nothing may be lost silently: YAML errors, duplicate keys, a field
  the context does not define, a value that names no item or codebook term, all raise
  :class:`~crkg.errors.CrkgError` naming the file, line and item key.

BibTeX (``*.bib``) is converted by :mod:`crkg.pipeline.bibtex`.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rdflib import Graph, URIRef

from crkg.errors import CrkgError
from crkg.namespaces import CRKG, ID, bind_prefixes, study_graph

#: File section → (IRI kind, class term, scoped by the study?, gets crkg:inStudy?).
#: The one table of the format that is not in the JSON-LD context: a context maps
#: fields to properties, it cannot mint IRIs from keys.
SECTIONS: dict[str, tuple[str, str, bool, bool]] = {
    "communities": ("community", "Community", True, False),
    "subdistricts": ("subdistrict", "Subdistrict", True, False),
    "districts": ("district", "District", False, False),
    "cities": ("city", "City", False, False),
    "countries": ("country", "Country", False, False),
    "hazard_events": ("hazard-event", "HazardEvent", False, False),
    "cases": ("case", "Case", True, True),
    "actors": ("actor", "Actor", True, False),
    "target_groups": ("target-group", "TargetGroup", True, True),
    "mechanisms": ("mechanism", "Mechanism", True, False),
    "interventions": ("intervention", "Intervention", True, False),
    "quotes": ("quote", "Quote", True, True),
    "observations": ("observation", "Observation", True, True),
    "quantities": ("quantity", "Quantity", True, True),
    "strategies": ("strategy", "Strategy", True, True),
    "references": ("reference", "Reference", True, True),
    "claims": ("claim", "Claim", True, True),
}
#: The study record: ``study:`` (one mapping) in ``study.yaml``.
STUDY_SECTION = "study"

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_ABSOLUTE_RE = re.compile(r"^https?://")


@dataclass
class StudyGraph:
    """One converted study."""

    key: str
    graph: Graph
    graph_iri: URIRef
    #: IRI of every item → (file, item key, line) for error messages.
    source_map: dict[URIRef, tuple[Path, str, int]] = field(default_factory=dict)
    #: Every file read (for up-to-date checks).
    sources: list[Path] = field(default_factory=list)


def discover_studies(data_dir: Path) -> list[Path]:
    """Study folders under *data_dir* (folders holding a ``study.yaml``), sorted by name."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return []
    return sorted(p for p in data_dir.iterdir() if p.is_dir() and (p / "study.yaml").is_file())


def context_file_for(folder: Path) -> Path:
    """The shared context: ``<data>/context.jsonld`` for ``<data>/studies/<key>/``."""
    return Path(folder).resolve().parent.parent / "context.jsonld"


def load_context(path: Path) -> dict:
    """The JSON-LD context object (``{"@context": {...}}`` in the file) → its ``@context``."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CrkgError(f"{path}: the shared JSON-LD context is missing") from None
    except ValueError as exc:
        raise CrkgError(f"{path}: not valid JSON: {exc}") from exc
    ctx = doc.get("@context") if isinstance(doc, dict) else None
    if not isinstance(ctx, dict):
        raise CrkgError(f"{path}: expected an object with an \"@context\" object")
    return ctx


# --------------------------------------------------------------------------- YAML with lines


class _Map(dict):
    """A YAML mapping that remembers its line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict


# libyaml's C parser where PyYAML was built with it: the same documents and marks,
# a third less conversion time at 1e5 triples (bench/FINDINGS.md).
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise CrkgError(
                f"{loader.name}:{key_node.start_mark.line + 1}: duplicate field {key!r} "
                f"(first at line {result.key_lines[key]})"
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


def read_yaml(path: Path):
    """Parse one YAML file, keeping line numbers; errors name the file and line."""
    text = Path(path).read_text(encoding="utf-8")
    loader = _Loader(text)
    loader.name = str(path)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise CrkgError(f"{where}: YAML syntax error: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise CrkgError(f"{path}: YAML error: {exc}") from exc
    finally:
        loader.dispose()


# --------------------------------------------------------------------------- conversion


@dataclass
class _Item:
    section: str
    kind: str
    key: str
    iri: str
    data: _Map
    path: Path


class _Converter:
    def __init__(self, folder: Path, context: dict):
        self.folder = folder
        self.key = folder.name
        self.context = context
        self.items: list[_Item] = []
        self.index: dict[tuple[str, str], _Item] = {}
        self.works: set[str] = set()
        # Prefixes for study-scoped kinds: "community" → id/community/{study}/.
        self.kind_prefixes = {}
        for kind, _cls, scoped, _ in SECTIONS.values():
            base = f"{kind}/{self.key}/" if scoped else f"{kind}/"
            self.kind_prefixes[kind] = str(ID[base])
        self.kind_prefixes["work"] = str(ID["work/"])
        self.kind_prefixes["study"] = str(ID["study/"])

    # --- helpers -----------------------------------------------------------

    def term(self, name: str):
        return self.context.get(name)

    def is_field(self, name: str) -> bool:
        d = self.context.get(name)
        if d == "@type":
            return True
        return isinstance(d, dict) and "@id" in d

    def err(self, item: _Item | None, path: Path, line: int, msg: str) -> CrkgError:
        who = f" (item {item.section}/{item.key})" if item else ""
        return CrkgError(f"{path}:{line}{who}: {msg}")

    # --- pass 1: collect items --------------------------------------------

    def collect(self, path: Path, doc) -> None:
        if doc is None:
            return
        if not isinstance(doc, _Map):
            raise CrkgError(f"{path}:1: expected sections such as 'communities:' at the top level")
        for section, value in doc.items():
            line = doc.key_lines[section]
            if section == STUDY_SECTION:
                if not isinstance(value, _Map):
                    raise CrkgError(f"{path}:{line}: 'study:' must be one mapping of fields")
                given = value.get("key", self.key)
                if given != self.key:
                    raise CrkgError(
                        f"{path}:{value.key_lines['key']}: study key {given!r} differs from "
                        f"its folder name {self.key!r}"
                    )
                self._add(_Item("study", "study", self.key, str(ID[f"study/{self.key}"]), value, path))
                continue
            if section not in SECTIONS:
                known = ", ".join(["study", *SECTIONS])
                raise CrkgError(f"{path}:{line}: unknown section {section!r} (known: {known})")
            if not isinstance(value, list):
                raise CrkgError(f"{path}:{line}: section {section!r} must be a list of items ('- key: ...')")
            kind = SECTIONS[section][0]
            for entry in value:
                if not isinstance(entry, _Map):
                    raise CrkgError(f"{path}:{line}: every item of {section!r} must be a mapping with a 'key'")
                key = entry.get("key")
                if not isinstance(key, str) or not KEY_RE.match(key):
                    raise CrkgError(
                        f"{path}:{entry.line}: item of {section!r} needs a 'key' of letters, digits, "
                        f"'.', '_' or '-' (got {key!r})"
                    )
                self._add(_Item(section, kind, key, self.kind_prefixes[kind] + key, entry, path))

    def _add(self, item: _Item) -> None:
        slot = (item.kind, item.key)
        if slot in self.index:
            first = self.index[slot]
            raise CrkgError(
                f"{item.path}:{item.data.line}: duplicate key {item.key!r} in {item.section} "
                f"(first defined at {first.path}:{first.data.line})"
            )
        self.index[slot] = item
        self.items.append(item)

    # --- pass 2: check and build JSON-LD nodes ----------------------------

    def node(self, item: _Item) -> dict:
        out: dict = {"@id": item.iri}
        types: list[str] = []
        if item.kind != "study":
            _kind, cls, _scoped, in_study = SECTIONS[item.section]
            types.append(cls)
            if in_study:
                out["crkg:inStudy"] = {"@id": str(ID[f"study/{self.key}"])}
        elif item.kind == "study":
            types.append("Study")
        for name, value in item.data.items():
            line = item.data.key_lines[name]
            if name == "key":
                continue
            if not self.is_field(name):
                raise self.err(item, item.path, line,
                               f"unknown field {name!r}: not defined in data/context.jsonld "
                               "(see data/README.md for the fields)")
            definition = self.context[name]
            if definition == "@type":
                values = value if isinstance(value, list) else [value]
                for v in values:
                    self.check_link(item, line, name, v, vocab=True)
                types += values
                continue
            out[name] = self.value(item, line, name, definition, value)
        if types:
            out["@type"] = types
        return out

    def value(self, item: _Item, line: int, name: str, definition: dict, value):
        container = definition.get("@container")
        dtype = definition.get("@type")
        if container == "@language":
            if not isinstance(value, dict):
                raise self.err(item, item.path, line,
                               f"field {name!r} needs a language map such as {{en: ..., zh: ...}}")
            for lang, text in value.items():
                if not isinstance(lang, str) or not _LANG_RE.match(lang):
                    raise self.err(item, item.path, line, f"field {name!r}: {lang!r} is not a language tag")
                texts = text if isinstance(text, list) else [text]
                if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
                    raise self.err(item, item.path, line,
                                   f"field {name!r}: the {lang!r} value must be non-empty text")
            return dict(value)
        values = value if isinstance(value, list) else [value]
        if not values:
            raise self.err(item, item.path, line, f"field {name!r} is empty")
        if dtype in ("@id", "@vocab"):
            for v in values:
                self.check_link(item, line, name, v, vocab=dtype == "@vocab")
            return value
        checked = [self.scalar(item, line, name, dtype, v) for v in values]
        return checked if isinstance(value, list) else checked[0]

    def scalar(self, item: _Item, line: int, name: str, dtype, v):
        def bad(expected):
            return self.err(item, item.path, line, f"field {name!r}: expected {expected}, got {v!r}")

        if dtype == "xsd:integer":
            if isinstance(v, bool) or not isinstance(v, int):
                raise bad("a whole number")
            return v
        if dtype == "xsd:positiveInteger":
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise bad("a positive whole number")
            return v
        if dtype == "xsd:boolean":
            if not isinstance(v, bool):
                raise bad("true or false")
            return v
        if dtype == "xsd:date":
            if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
                return v.isoformat()
            if isinstance(v, str):
                try:
                    return _dt.date.fromisoformat(v).isoformat()
                except ValueError:
                    pass
            raise bad("a date YYYY-MM-DD (write only dates whose day is printed)")
        if not isinstance(v, str) or not v.strip():
            raise bad("text (quote it if it looks like a number or date)")
        return v

    def check_link(self, item: _Item, line: int, name: str, v, vocab: bool) -> None:
        if not isinstance(v, str):
            raise self.err(item, item.path, line, f"field {name!r}: expected a name like 'kind:key', got {v!r}")
        if vocab and v in self.context and not self.is_field(v) and v[:1].isupper():
            return  # a codebook term of the context, e.g. TrustScopeExpansion
        if _ABSOLUTE_RE.match(v):
            return
        prefix, sep, key = v.partition(":")
        if sep and prefix in self.kind_prefixes:
            if prefix == "work":
                if key not in self.works:
                    raise self.err(item, item.path, line,
                                   f"field {name!r}: {v!r} names no entry of the study's .bib files")
                return
            if prefix == "study":
                if key != self.key:
                    raise self.err(item, item.path, line, f"field {name!r}: {v!r} is not this study")
                return
            if (prefix, key) not in self.index:
                raise self.err(item, item.path, line,
                               f"field {name!r}: {v!r} names no item of this study "
                               f"(no {prefix} with key {key!r})")
            return
        if sep and isinstance(self.context.get(prefix), str) and prefix not in self.kind_prefixes:
            return  # a compact IRI with a namespace prefix, e.g. crkg:Foo or wd:Q8686
        raise self.err(item, item.path, line,
                       f"field {name!r}: {v!r} is neither a codebook term of the context nor "
                       "'kind:key' of an item (kinds: " + ", ".join(sorted(self.kind_prefixes)) + ")")


def load_study(folder: Path, context_file: Path | None = None) -> StudyGraph:
    """Convert one study folder (YAML-LD + BibTeX) into its graph; see the module docstring."""
    from crkg.pipeline.bibtex import bibtex_to_graph, read_bibtex

    folder = Path(folder)
    context_file = Path(context_file) if context_file else context_file_for(folder)
    context = load_context(context_file)
    conv = _Converter(folder, context)
    sources = [context_file]

    yaml_files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not (folder / "study.yaml").is_file():
        raise CrkgError(f"{folder}: a study folder needs a study.yaml")
    bib_files = sorted(folder.glob("*.bib"))
    entries = []
    for path in bib_files:
        sources.append(path)
        for entry in read_bibtex(path):
            if entry.key in conv.works:
                raise CrkgError(f"{path}:{entry.line}: duplicate BibTeX key {entry.key!r}")
            conv.works.add(entry.key)
            entries.append(entry)

    for path in yaml_files:
        sources.append(path)
        conv.collect(path, read_yaml(path))
    if not any(i.kind == "study" for i in conv.items):
        raise CrkgError(f"{folder / 'study.yaml'}: needs a 'study:' section")

    nodes = [conv.node(item) for item in conv.items]
    study_ctx = {k: v for k, v in conv.kind_prefixes.items()}
    doc = {"@context": [context, study_ctx], "@graph": nodes}

    graph = bind_prefixes(Graph())
    try:
        with warnings.catch_warnings():
            # rdflib 7's JSON-LD parser wraps its sink in a ConjunctiveGraph internally.
            warnings.filterwarnings("ignore", message="ConjunctiveGraph is deprecated",
                                    category=DeprecationWarning)
            graph.parse(data=json.dumps(doc, ensure_ascii=False), format="json-ld",
                        base=str(ID[f"study/{conv.key}/"]))
    except Exception as exc:  # rdflib's JSON-LD parser raises assorted types
        raise CrkgError(f"{folder}: JSON-LD conversion failed: {exc}") from exc
    bibtex_to_graph(entries, graph, study_iri=URIRef(ID[f"study/{conv.key}"]),
                    cited={_work_key(o) for o in graph.objects(None, CRKG.refersTo)})

    source_map = {URIRef(i.iri): (i.path, i.key, i.data.line) for i in conv.items}
    for e in entries:
        source_map[URIRef(ID[f"work/{e.key}"])] = (e.path, e.key, e.line)
    return StudyGraph(conv.key, graph, study_graph(conv.key), source_map, sources)


def _work_key(iri) -> str:
    return str(iri)[len(str(ID["work/"])):] if str(iri).startswith(str(ID["work/"])) else ""

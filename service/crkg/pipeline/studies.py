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

What the converter verifies against the study's source documents (``sources:``;
:mod:`crkg.pipeline.sources`): their SHA-256 digests, each passage's selectors
(``oa:exact`` equals the stored text at ``[start, end)``), and that a section locator
names a section the study's text prints. ``mapping.csv`` (:mod:`crkg.pipeline.mapping`)
becomes SKOS matches from the study's codes to the shared frame.

Every problem of a study is reported at once (one :class:`~crkg.errors.CrkgError`
listing them all), and a name that is not known comes with the nearest known ones.
Data-type rules (whole numbers, dates, booleans, patterns) are the shapes' alone: the
converter only refuses what it cannot convert at all.

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
from crkg.pipeline.locators import parse_locator, structured_triples
from crkg.pipeline.mapping import PATH_SEPARATOR, nearest, resolve_mapping
from crkg.pipeline import sources as srcs

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
    # Studies from any source, in any language (VOCABULARY.md, "Additions").
    "hazard_types": ("hazard-type", "HazardType", False, False),
    "sources": ("source", "SourceDocument", True, True),
    "codes": ("code", "Code", True, False),
    "passages": ("evidence", "Evidence", True, True),
    # A study's own framework: individuals of the crkg classes, scoped by the study.
    "modes": ("mode", "ResilienceMode", True, True),
    "goals": ("goal", "ResilienceGoal", True, True),
    "levels": ("level", "ResilienceLevel", True, True),
    "dimensions": ("dimension", "SocialCapitalDimension", True, True),
    "phases": ("phase", "DisasterPhase", True, True),
}
#: The study record: ``study:`` (one mapping) in ``study.yaml``.
STUDY_SECTION = "study"
#: The study's own codebook: ``codebook:`` (one mapping) -> id/codebook/{study}.
CODEBOOK_SECTION = "codebook"
#: Fields the converter itself handles (not JSON-LD terms), by section.
SOURCE_FIELDS = ("file",)
#: A passage's anchor in a source document -> oa:hasSource and the two selectors.
ANCHOR_FIELDS = ("source", "start", "end", "prefix", "suffix")
ANCHORED_SECTIONS = ("passages", "quotes", "observations")
MAPPING_FILE = "mapping.csv"

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
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
    #: What the build must say although it is no error (a check skipped, and why).
    warnings: list[str] = field(default_factory=list)
    #: mapping.csv ``type`` rows, checked: (row, code IRI, concept IRI). The codes name an
    #: Intervention, Actor type, TargetGroup or Mechanism; deriving those is the importer's.
    code_types: list[tuple] = field(default_factory=list)


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
    """A YAML mapping that remembers its line and the line of each key (1-based), and
    the text of each plain scalar value as written (``key: 2`` is the key "2")."""

    line: int = 0
    key_lines: dict
    raw: dict


# libyaml's C parser where PyYAML was built with it: the same documents and marks,
# a third less conversion time at 1e5 triples (bench/FINDINGS.md).
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    result.raw = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in result:
            raise CrkgError(
                f"{loader.name}:{line}: duplicate field {key!r} (first at line {result.key_lines[key]})"
            )
        try:
            result[key] = loader.construct_object(value_node, deep=True)
        except ValueError as exc:
            # YAML reads 2024-02-30 or 2020-13-01 as a date and cannot build it.
            raise CrkgError(
                f"{loader.name}:{value_node.start_mark.line + 1}: field {key!r}: "
                f"{getattr(value_node, 'value', '')!r} is not a real date ({exc}); write a day that "
                "exists as YYYY-MM-DD, or only `year`/`month` when no day is printed"
            ) from None
        result.key_lines[key] = line
        if isinstance(value_node, yaml.ScalarNode):
            result.raw[key] = value_node.value
        elif isinstance(value_node, yaml.SequenceNode) and all(
                isinstance(n, yaml.ScalarNode) for n in value_node.value):
            result.raw[key] = [n.value for n in value_node.value]
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
        #: Every problem found, each naming its file and line; reported together.
        self.problems: list[str] = []
        self.warnings: list[str] = []
        #: Source documents whose text is in the folder: key -> SourceText.
        self.texts: dict[str, srcs.SourceText] = {}
        # Prefixes for study-scoped kinds: "community" → id/community/{study}/.
        self.kind_prefixes = {}
        for kind, _cls, scoped, _ in SECTIONS.values():
            base = f"{kind}/{self.key}/" if scoped else f"{kind}/"
            self.kind_prefixes[kind] = str(ID[base])
        self.kind_prefixes["work"] = str(ID["work/"])
        self.kind_prefixes["study"] = str(ID["study/"])
        self.study_iri = str(ID[f"study/{self.key}"])
        self.codebook_iri = str(ID[f"codebook/{self.key}"])

    # --- helpers -----------------------------------------------------------

    def is_field(self, name: str) -> bool:
        d = self.context.get(name)
        if d == "@type":
            return True
        return isinstance(d, dict) and "@id" in d

    def fields(self) -> list[str]:
        return [name for name in self.context if self.is_field(name)]

    def codebook_terms(self) -> list[str]:
        return [n for n, v in self.context.items() if isinstance(v, str) and n[:1].isupper()]

    def problem(self, item: _Item | None, path: Path, line: int, msg: str) -> None:
        who = f" (item {item.section}/{item.key})" if item else ""
        self.problems.append(f"{path}:{line}{who}: {msg}")

    @property
    def language(self) -> str | None:
        study = self.index.get(("study", self.key))
        lang = study.data.get("language") if study else None
        return lang if isinstance(lang, str) else None

    # --- pass 1: collect items --------------------------------------------

    def collect(self, path: Path, doc) -> None:
        if doc is None:
            return
        if not isinstance(doc, _Map):
            self.problems.append(f"{path}:1: expected sections such as 'communities:' at the top level")
            return
        for section, value in doc.items():
            line = doc.key_lines[section]
            if section in (STUDY_SECTION, CODEBOOK_SECTION):
                if not isinstance(value, _Map):
                    self.problems.append(f"{path}:{line}: '{section}:' must be one mapping of fields")
                    continue
                if section == STUDY_SECTION:
                    given = _plain(value, "key") if "key" in value else self.key
                    if given != self.key:
                        self.problems.append(f"{path}:{value.key_lines['key']}: study key {given!r} differs "
                                             f"from its folder name {self.key!r}")
                        continue
                    self._add(_Item("study", "study", self.key, self.study_iri, value, path))
                else:
                    self._add(_Item("codebook", "codebook", self.key, self.codebook_iri, value, path))
                continue
            if section not in SECTIONS:
                known = ["study", "codebook", *SECTIONS]
                self.problems.append(f"{path}:{line}: unknown section {section!r} (known: {', '.join(known)})"
                                     + nearest(section, known))
                continue
            if not isinstance(value, list):
                self.problems.append(f"{path}:{line}: section {section!r} must be a list of items ('- key: ...')")
                continue
            kind = SECTIONS[section][0]
            for entry in value:
                if not isinstance(entry, _Map):
                    self.problems.append(f"{path}:{line}: every item of {section!r} must be a mapping with a 'key'")
                    continue
                key = _plain(entry, "key")
                if not isinstance(key, str) or not KEY_RE.match(key):
                    self.problems.append(
                        f"{path}:{entry.line}: item of {section!r} needs a 'key' of letters, digits, "
                        f"'.', '_' or '-' (got {key!r})")
                    continue
                self._add(_Item(section, kind, key, self.kind_prefixes[kind] + key, entry, path))

    def _add(self, item: _Item) -> None:
        slot = (item.kind, item.key)
        if slot in self.index:
            first = self.index[slot]
            self.problems.append(
                f"{item.path}:{item.data.line}: duplicate key {item.key!r} in {item.section} "
                f"(first defined at {first.path}:{first.data.line})")
            return
        self.index[slot] = item
        self.items.append(item)

    # --- source documents -------------------------------------------------

    def read_sources(self) -> None:
        """Read the stored texts of ``sources:`` and check their digests."""
        for item in self.items:
            if item.section != "sources":
                continue
            data, line = item.data, item.data.line
            declared = data.get("sha256")
            if "file" not in data:
                self.warnings.append(srcs.withheld_notice(item.key))
                continue
            name = _plain(data, "file")
            path = (self.folder / str(name)).resolve()
            if not isinstance(name, str) or not path.is_relative_to(self.folder.resolve()):
                self.problem(item, item.path, data.key_lines["file"],
                             f"field 'file': {name!r} must be a path inside the study folder, "
                             "e.g. sources/interview-a1.txt")
                continue
            if not path.is_file():
                self.problem(item, item.path, data.key_lines["file"],
                             f"field 'file': {name} does not exist in the study folder; add the text, "
                             "or leave 'file' out and keep 'sha256' if it may not be redistributed")
                continue
            text, digest, problems = srcs.read_source_text(path)
            for message in problems:
                self.problem(item, item.path, data.key_lines["file"], message)
            if isinstance(declared, str) and declared.lower() != digest:
                self.problem(item, item.path, data.key_lines.get("sha256", line),
                             f"field 'sha256': {declared} is not the SHA-256 of {name} ({digest}); "
                             "the text changed since it was declared: correct the digest if the new "
                             "text is right")
            if text is not None:
                self.texts[item.key] = srcs.SourceText(item.key, path, text, digest)

    # --- pass 2: check and build JSON-LD nodes ----------------------------

    def node(self, item: _Item) -> dict:
        out: dict = {"@id": item.iri}
        types: list[str] = []
        if item.kind == "study":
            types.append("Study")
        elif item.kind == "codebook":
            types.append("StudyCodebook")
            out["crkg:inStudy"] = {"@id": self.study_iri}
        else:
            _kind, cls, _scoped, in_study = SECTIONS[item.section]
            types.append(cls)
            if in_study:
                out["crkg:inStudy"] = {"@id": self.study_iri}
            if item.section == "codes":
                if ("codebook", self.key) not in self.index:
                    self.problem(item, item.path, item.data.line,
                                 "codes belong to the study's codebook: add a 'codebook:' section "
                                 "(e.g. codebook: {label: {en: Codebook of ...}})")
                out["skos:inScheme"] = {"@id": self.codebook_iri}
        special = SOURCE_FIELDS if item.section == "sources" else (
            ANCHOR_FIELDS if item.section in ANCHORED_SECTIONS else ())
        for name, value in item.data.items():
            line = item.data.key_lines[name]
            if name == "key" or name in special:
                continue
            if not self.is_field(name):
                self.problem(item, item.path, line,
                             f"unknown field {name!r}: not defined in data/context.jsonld "
                             f"(see data/README.md for the fields){nearest(name, self.fields() + list(special))}")
                continue
            definition = self.context[name]
            if definition == "@type":
                values = value if isinstance(value, list) else [value]
                if all(self.check_link(item, line, name, v, vocab=True) for v in values):
                    types += values
                continue
            converted = self.value(item, line, name, definition, value)
            if converted is not None:
                out[name] = converted
        if item.section in ANCHORED_SECTIONS and any(f in item.data for f in ANCHOR_FIELDS):
            self.anchor(item, out, types)
        if types:
            out["@type"] = types
        return out

    def value(self, item: _Item, line: int, name: str, definition: dict, value):
        container = definition.get("@container")
        dtype = definition.get("@type")
        if container == "@language":
            if not isinstance(value, dict):
                self.problem(item, item.path, line,
                             f"field {name!r} needs a language map such as {{en: ..., zh: ...}}")
                return None
            ok = True
            for lang, text in value.items():
                if not isinstance(lang, str) or not LANG_RE.match(lang):
                    self.problem(item, item.path, line, f"field {name!r}: {lang!r} is not a language tag "
                                 "(BCP 47, e.g. en, zh, hu; quote text that contains a comma)")
                    ok = False
                    continue
                texts = text if isinstance(text, list) else [text]
                if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
                    self.problem(item, item.path, line,
                                 f"field {name!r}: the {lang!r} value must be non-empty text")
                    ok = False
            return dict(value) if ok else None
        values = value if isinstance(value, list) else [value]
        if not values:
            self.problem(item, item.path, line, f"field {name!r} is empty")
            return None
        if dtype in ("@id", "@vocab"):
            ok = all([self.check_link(item, line, name, v, vocab=dtype == "@vocab") for v in values])
            return value if ok else None
        raw = item.data.raw.get(name)
        raws = raw if isinstance(raw, list) else [raw] * len(values)
        checked = []
        for v, r in zip(values, raws):
            if isinstance(v, (dict, list)):
                self.problem(item, item.path, line, f"field {name!r}: expected one value, got {v!r}")
                return None
            if dtype is None and not isinstance(v, str) and isinstance(r, str):
                v = r  # plain text written bare: `locator: 2`, `key: 2.10` are the text as written
            elif isinstance(v, _dt.date):
                v = v.isoformat()  # JSON has no dates; the shapes check the xsd:date
            checked.append(v)
        return checked if isinstance(value, list) else checked[0]

    def check_link(self, item: _Item, line: int, name: str, v, vocab: bool) -> bool:
        if not isinstance(v, str):
            self.problem(item, item.path, line, f"field {name!r}: expected a name like 'kind:key', got {v!r}")
            return False
        if vocab and v in self.context and not self.is_field(v) and v[:1].isupper():
            return True  # a codebook term of the context, e.g. TrustScopeExpansion
        if _ABSOLUTE_RE.match(v):
            return True
        prefix, sep, key = v.partition(":")
        if sep and prefix in self.kind_prefixes:
            if prefix == "work":
                if key not in self.works:
                    self.problem(item, item.path, line, f"field {name!r}: {v!r} names no entry of the "
                                 f"study's .bib files{nearest(key, self.works)}")
                    return False
                return True
            if prefix == "study":
                if key != self.key:
                    self.problem(item, item.path, line, f"field {name!r}: {v!r} is not this study")
                    return False
                return True
            if (prefix, key) not in self.index:
                keys = [k for (kind, k) in self.index if kind == prefix]
                self.problem(item, item.path, line, f"field {name!r}: {v!r} names no item of this study "
                             f"(no {prefix} with key {key!r}){nearest(key, keys)}")
                return False
            return True
        if sep and isinstance(self.context.get(prefix), str) and prefix not in self.kind_prefixes:
            return True  # a compact IRI with a namespace prefix, e.g. crkg:Foo or wd:Q8686
        hint = nearest(v, self.codebook_terms()) if not sep else nearest(prefix, self.kind_prefixes)
        self.problem(item, item.path, line,
                     f"field {name!r}: {v!r} is neither a codebook term of the context nor "
                     "'kind:key' of an item (kinds: " + ", ".join(sorted(self.kind_prefixes)) + ")" + hint)
        return False

    # --- a passage's anchor in its source document ------------------------

    def anchor(self, item: _Item, out: dict, types: list[str]) -> None:
        """``source``/``start``/``end``/``prefix``/``suffix`` → oa:hasSource + two selectors.

        The selectors are hash IRIs of the passage (``…#position``, ``…#quote``), not blank
        nodes, so a study's graph is the same on every conversion.
        """
        data, path = item.data, item.path
        line = lambda f: data.key_lines.get(f, data.line)  # noqa: E731
        missing = [f for f in ("source", "start", "end") if f not in data]
        if missing:
            self.problem(item, path, data.line, "a passage anchored in a source document needs "
                         "'source', 'start' and 'end' (missing: " + ", ".join(missing) + ")")
            return
        source = data["source"]
        if not self.check_link(item, line("source"), "source", source, vocab=True):
            return
        if not (isinstance(source, str) and source.startswith("source:")):
            self.problem(item, path, line("source"), f"field 'source': {source!r} must name a source "
                         "document of the study, 'source:<key>'")
            return
        source_key = source.partition(":")[2]
        start, end = data["start"], data["end"]
        lang = self.language
        texts = data.get("text") if isinstance(data.get("text"), dict) else {}
        exact = texts.get(lang) if lang else None
        prefix, suffix = data.get("prefix"), data.get("suffix")
        stored = self.texts.get(source_key)
        whole = (isinstance(start, int) and isinstance(end, int)
                 and not isinstance(start, bool) and not isinstance(end, bool))
        if stored is not None and whole and isinstance(exact, str):
            for message in srcs.check_selector(stored.text, start, end, exact,
                                               prefix if isinstance(prefix, str) else None,
                                               suffix if isinstance(suffix, str) else None):
                self.problem(item, path, line("start"), f"selector into {source}: {message}")
            computed = srcs.context_of(stored.text, start, end)
            prefix = prefix if prefix is not None else computed[0]
            suffix = suffix if suffix is not None else computed[1]
        out["oa:hasSource"] = {"@id": self.kind_prefixes["source"] + source_key}
        position = {"@id": f"{item.iri}#position", "@type": "oa:TextPositionSelector",
                    "oa:start": {"@value": str(start), "@type": "xsd:nonNegativeInteger"},
                    "oa:end": {"@value": str(end), "@type": "xsd:nonNegativeInteger"}}
        quote: dict = {"@id": f"{item.iri}#quote", "@type": "oa:TextQuoteSelector"}
        if isinstance(exact, str):
            quote["oa:exact"] = {"@value": exact, "@language": lang}
        for key, value in (("oa:prefix", prefix), ("oa:suffix", suffix)):
            if value:
                quote[key] = {"@value": str(value)}
        out["oa:hasSelector"] = [position, quote]
        types.append("oa:SpecificResource")

    # --- after conversion: locators and the mapping ------------------------

    def structure_locators(self, graph: Graph) -> None:
        """Add the structured form of every item's locator, where it has exactly one."""
        for item in self.items:
            subject = URIRef(item.iri)
            locators = list(graph.objects(subject, CRKG.locator))
            if len(locators) == 1:
                for triple in structured_triples(subject, str(locators[0])):
                    graph.add(triple)

    def verify_sections(self, graph: Graph) -> None:
        """A section or table locator names a section the study's text prints (issue 9)."""
        named = []  # (item, locator, part) for every section or table part of a locator
        for item in self.items:
            for value in graph.objects(URIRef(item.iri), CRKG.locator):
                loc = parse_locator(str(value))
                named += [(item, str(value), part) for part in ((loc.section, loc.table_or_figure) if loc else ())
                          if part]
        if not named:
            return
        printed: set[str] = set()
        for stored in self.texts.values():
            printed |= srcs.sections_of(stored.text)
        if not printed:
            why = ("no source text of the study prints numbered section headings" if self.texts
                   else "the study has no source text in its folder (`sources:` with `file:`)")
            self.warnings.append(f"section locators not verified: {why}")
            return
        where = ", ".join(sorted(str(s.path.relative_to(self.folder.resolve())) for s in self.texts.values()))
        for item, value, part in named:
            if part not in printed:
                self.problem(item, item.path, item.data.key_lines.get("locator", item.data.line),
                             f"locator {value!r}: {part!r} is no section, table or figure printed in "
                             f"{where}{nearest(part, printed)}")

    def apply_mapping(self, graph: Graph, path: Path):
        """mapping.csv → skos:*Match triples in *graph*; returns the file as resolved
        (``crkg.pipeline.mapping.ResolvedMapping``: its ``type`` rows, every row)."""
        resolved = resolve_mapping(path, self.code_names(), self.context, self.problems, self.warnings)
        for triple in resolved.triples:
            graph.add(triple)
        return resolved

    def sections(self) -> tuple[dict, dict[str, list]]:
        """(the ``study:`` mapping, every other section's items) as parsed, the shape
        ``crkg.importers.writer.read_sections`` reads from the files."""
        study: dict = {}
        sections: dict[str, list] = {}
        for item in self.items:
            if item.section == STUDY_SECTION:
                study = item.data
            elif item.section != CODEBOOK_SECTION:
                sections.setdefault(item.section, []).append(item.data)
        return study, sections

    def code_names(self) -> dict[str, str]:
        """Every way mapping.csv may name a code or framework item → its IRI."""
        names: dict[str, str] = {}
        codes = {i.key: i for i in self.items if i.section == "codes"}
        for item in self.items:
            if item.section in ("modes", "goals", "levels", "dimensions", "phases", "codes"):
                names[f"{item.kind}:{item.key}"] = item.iri
        for key, item in codes.items():
            names[key] = item.iri
            ident = item.data.get("identifier")
            if isinstance(ident, str):
                names[ident] = item.iri
            for path in self._paths(item, codes, set()):
                names.setdefault(path, item.iri)
        return names

    def _paths(self, item: _Item, codes: dict, seen: set) -> list[str]:
        labels = item.data.get("label") if isinstance(item.data.get("label"), dict) else {}
        own = [t for t in labels.values() if isinstance(t, str)]
        parent = item.data.get("broader")
        parent_key = parent.partition(":")[2] if isinstance(parent, str) and parent.startswith("code:") else None
        if parent_key in codes and parent_key not in seen:
            above = self._paths(codes[parent_key], codes, seen | {item.key})
            return [a + PATH_SEPARATOR + o for a in above for o in own]
        return own


def _plain(data: _Map, name: str):
    """A plain-text field as written: YAML reads `key: 2` as a number, the coder wrote "2"."""
    value = data.get(name)
    raw = getattr(data, "raw", {}).get(name)
    if not isinstance(value, str) and isinstance(raw, str) and not isinstance(value, (dict, list)):
        return raw
    return value


def load_study(folder: Path, context_file: Path | None = None) -> StudyGraph:
    """Convert one study folder (YAML-LD + BibTeX + mapping.csv); see the module docstring.

    Raises one :class:`CrkgError` listing every problem found (file and line each).
    """
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
        try:
            for entry in read_bibtex(path):
                if entry.key in conv.works:
                    conv.problems.append(f"{path}:{entry.line}: duplicate BibTeX key {entry.key!r}")
                    continue
                conv.works.add(entry.key)
                entries.append(entry)
        except CrkgError as exc:
            conv.problems.append(str(exc))

    for path in yaml_files:
        sources.append(path)
        try:
            conv.collect(path, read_yaml(path))
        except CrkgError as exc:
            conv.problems.append(str(exc))
    if not any(i.kind == "study" for i in conv.items):
        conv.problems.append(f"{folder / 'study.yaml'}: needs a 'study:' section")

    conv.read_sources()
    nodes = [conv.node(item) for item in conv.items]
    graph = bind_prefixes(Graph())
    if not conv.problems:
        study_ctx = {k: v for k, v in conv.kind_prefixes.items()}
        doc = {"@context": [context, study_ctx], "@graph": nodes}
        try:
            with warnings.catch_warnings():
                # rdflib 7's JSON-LD parser wraps its sink in a ConjunctiveGraph internally.
                warnings.filterwarnings("ignore", message="ConjunctiveGraph is deprecated",
                                        category=DeprecationWarning)
                graph.parse(data=json.dumps(doc, ensure_ascii=False), format="json-ld",
                            base=str(ID[f"study/{conv.key}/"]))
        except Exception as exc:  # rdflib's JSON-LD parser raises assorted types
            raise CrkgError(f"{folder}: JSON-LD conversion failed: {exc}") from exc
        bibtex_to_graph(entries, graph, study_iri=URIRef(conv.study_iri),
                        cited={_work_key(o) for o in graph.objects(None, CRKG.refersTo)})
        conv.structure_locators(graph)
        conv.verify_sections(graph)
    code_types: list[tuple] = []
    mapping = folder / MAPPING_FILE
    if mapping.is_file():
        sources.append(mapping)
        resolved = conv.apply_mapping(graph, mapping)
        code_types = resolved.type_rows
        if resolved.type_rows and not conv.problems:
            # Codes mapped ``type,Intervention`` become interventions by the co-coding rule
            # (data/README.md, "Importing from a QDA tool"); what they lack is a warning.
            # From what was parsed here: the YAML and mapping.csv are not read again.
            from crkg.importers.vocabulary import load_vocabulary
            from crkg.pipeline.derive import derive, study_from_sections

            derived = derive(study_from_sections(*conv.sections(), folder.name), resolved.rows,
                             load_vocabulary(), unmapped=resolved.unmapped)
            graph += derived.graph
            conv.warnings += derived.warnings + derived.coverage
    if conv.problems:
        count = len(conv.problems)
        raise CrkgError(f"study {conv.key!r}: {count} problem{'s' if count > 1 else ''}:\n"
                        + "\n".join(conv.problems))

    source_map = {URIRef(i.iri): (i.path, i.key, i.data.line) for i in conv.items}
    for i in conv.items:  # a selector's problems are the passage's: name its file and line
        if i.section in ANCHORED_SECTIONS and "start" in i.data:
            line = i.data.key_lines["start"]
            for part in ("position", "quote"):
                source_map[URIRef(f"{i.iri}#{part}")] = (i.path, i.key, line)
    for e in entries:
        source_map[URIRef(ID[f"work/{e.key}"])] = (e.path, e.key, e.line)
    return StudyGraph(conv.key, graph, study_graph(conv.key), source_map, sources,
                      warnings=conv.warnings, code_types=code_types)


def _work_key(iri) -> str:
    return str(iri)[len(str(ID["work/"])):] if str(iri).startswith(str(ID["work/"])) else ""


def load_studies(folders) -> list[StudyGraph]:
    """Convert every study folder; the problems of all of them in one CrkgError (issue 9:
    a run reports everything wrong at once, not only the first study's problems)."""
    studies, failures = [], []
    for folder in folders:
        try:
            studies.append(load_study(folder))
        except CrkgError as exc:
            failures.append(str(exc))
    if failures:
        raise CrkgError("\n\n".join(failures))
    return studies

"""``crkg import``: read a project, check it, write the study folder, say what happened.

Everything that can refuse the input (unreadable, hostile, unusable) happens before the
first byte is written, so exit code 2 always means "nothing written".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from crkg.errors import CrkgError
from crkg.importers import UnusableInput
from crkg.importers.model import Project
from crkg.importers.writer import Options, changes, plan_study, read_owned, write_study
from crkg.pipeline.studies import KEY_RE, LANG_RE  # the study format's own rules for keys and tags

_HOME_RE = re.compile(r"(/home/[^/\s\"']+|/Users/[^/\s\"']+|[A-Za-z]:\\\\?Users\\\\?[^\\\s\"']+)")


@dataclass
class ImportResult:
    folder: Path
    project: Project
    counts: dict
    changed: list[str] = field(default_factory=list)
    new: bool = True
    unchanged: bool = False
    derived: list[str] = field(default_factory=list)   # the co-coding rule's summary, once mapped


def detect(path: Path) -> str:
    """The reader for *path*: ``refi``, ``qde``, ``qualcoder`` or ``table``."""
    path = Path(path)
    if path.is_dir():
        if (path / "data.qda").is_file():
            return "qualcoder"
        raise UnusableInput(f"{path}: a folder, but not a QualCoder project (no data.qda in it)")
    if not path.is_file():
        raise UnusableInput(f"{path}: no such file")
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        magic = fh.read(16)
    if magic.startswith(b"SQLite format 3"):
        return "qualcoder"
    if suffix in (".csv", ".tsv", ".txt"):
        return "table"
    if suffix == ".qde":
        return "qde"
    if magic.startswith(b"PK"):
        return "table" if suffix in (".xlsx", ".xlsm") else "refi"
    raise UnusableInput(f"{path}: not a .qdpx/.qde (REFI-QDA), a QualCoder data.qda, nor a CSV/XLSX "
                        "table of coded segments")


def read_project(path: Path, sources_dir: Path | None = None) -> Project:
    kind = detect(path)
    if kind in ("refi", "qde"):
        from crkg.importers.refi import read_refi

        return read_refi(path, sources_dir)
    if kind == "qualcoder":
        from crkg.importers.qualcoder import read_qualcoder

        return read_qualcoder(path)
    from crkg.importers.table import read_table

    return read_table(path, sources_dir)


def import_project(path: Path, study_key: str, data_dir: Path, language: str | None = None,
                   keep_names: bool = False, force: bool = False,
                   sources_dir: Path | None = None) -> ImportResult:
    """Import *path* as study *study_key* under ``data_dir/studies/`` (see module docstring)."""
    if not KEY_RE.match(study_key):
        raise CrkgError(f"--study {study_key!r}: a key is letters, digits, '.', '_' or '-'")
    if language is not None and not LANG_RE.match(language):
        raise CrkgError(f"--language {language!r} is not a BCP 47 language tag (e.g. en, zh, hu)")
    folder = Path(data_dir) / "studies" / study_key
    project = read_project(Path(path), sources_dir)
    old = read_owned(folder) if folder.is_dir() else {"yaml": {}, "mapping": []}
    old_study = (old["yaml"].get("study.yaml") or {}).get("study") or {}
    if folder.is_dir() and (folder / "study.yaml").is_file() and not force:
        if not old_study.get("importedFrom"):
            raise CrkgError(f"{folder}: a study that was not imported (its study.yaml has no importedFrom); "
                            "crkg import would rewrite its files. Use another --study key, or --force")
        old_label = next(iter((old_study.get("label") or {}).values()), None)
        if old_label is not None and old_label != project.name:
            raise CrkgError(f"{folder}: holds the import of project {old_label!r}, not {project.name!r}; "
                            "use another --study key, or --force to replace it")
    lang = language or old_study.get("language") or "en"
    if language is None and lang == "en" and _looks_cjk(project):
        project.report.warn("the texts look Chinese or Japanese but the study language is 'en' "
                            "(the default); pass --language zh (or ja) to tag them correctly")
    if not project.sources and not project.codes:
        raise UnusableInput(f"{path}: nothing to import (no source and no code)")
    opts = Options(study_key=study_key, language=lang, keep_names=keep_names, force=force,
                   input_name=Path(path).name)
    plan = plan_study(project, opts, old)
    if not keep_names:
        _redact(plan, project)
    result = ImportResult(folder=folder, project=project, counts=plan.counts,
                          new=not (folder / "study.yaml").is_file())
    if not result.new:
        result.changed = changes(old, plan)
        result.unchanged = all((folder / rel).is_file() and (folder / rel).read_bytes() == data
                               for rel, data in plan.files.items()) and not plan.stale_sources
    write_study(folder, plan)
    if any((r.get("relation") or "").strip() for r in old["mapping"]):
        from crkg.pipeline.derive import derive_folder   # the mapping is filled: what it gives now

        d = derive_folder(folder)
        result.derived = d.coverage + [f"  {w}" for w in d.warnings]
    return result


def _looks_cjk(project: Project) -> bool:
    sample = "".join((s.text or "")[:2000] for s in project.sources) or "".join(
        (x.text or "") for x in project.selections[:50])
    letters = [c for c in sample if c.isalpha()]
    cjk = sum(1 for c in letters if 0x3040 <= ord(c) <= 0x9FFF or 0x20000 <= ord(c) <= 0x2FFFF)
    return bool(letters) and cjk * 3 > len(letters)


def _redact(plan, project: Project) -> None:
    """Privacy by default: no home directories, base or current paths in the YAML (source
    texts are the data and are not changed); memos that name a project user are flagged."""
    names = [n for n in project.user_names.values() if n and len(n) >= 3]
    paths = sorted({v.split("=", 1)[1] for v in project.private if "=" in v and len(v.split("=", 1)[1]) > 3},
                   key=len, reverse=True)
    for rel in list(plan.files):
        if rel.startswith("sources/"):
            continue
        text = plan.files[rel].decode("utf-8")
        new = text
        for path in paths:   # basePath, currentPath as the project gives them
            new = new.replace(path, "[path removed]")
        new = _HOME_RE.sub("[home folder removed]", new)
        if new != text:
            project.report.warn(f"{rel}: a path of the project's computer was removed (use --keep-names to keep it)")
            plan.files[rel] = new.encode("utf-8")
        for n in names:
            if re.search(r"\b" + re.escape(n) + r"\b", new):
                project.report.warn(f"{rel}: mentions the project user {n!r} (in a memo or name); "
                                    "review it before publishing")


def format_result(r: ImportResult, input_path: Path) -> str:
    p = r.project
    c = r.counts
    lines = [f"crkg import: {input_path.name} ({p.tool}; offsets: {p.dialect}) -> {r.folder}",
             f"  {c['sources']} sources ({c['texts']} with text), {c['codes']} codes, {c['cases']} cases, "
             f"{c['passages']} passages: {c['placed']} placed in and verified against their source texts, "
             f"{c['unplaced']} with text but no source text to place them in, {c['media']} media selections "
             "(no text quoted)"]
    if not r.new:
        if r.unchanged:
            lines.append("  unchanged: the folder already holds exactly this import")
        elif r.changed:
            lines.append("  changes since the last import:")
            lines += [f"    {line}" for line in r.changed]
    missing = [s for s in p.sources if s.text is None]
    for s in missing:
        lines.append(f"  warning: source {s.name!r}: no text stored: {s.missing}")
    for w in p.report.warnings:
        lines.append(f"  warning: {w}")
    for w in p.report.left_out:
        lines.append(f"  warning: {w}")
    if r.derived:
        lines.append("  with the filled mapping.csv (crkg.pipeline.derive, the co-coding rule):")
        lines += [f"    {line}" for line in r.derived]
    n = len(missing) + len(p.report.warnings) + len(p.report.left_out)
    lines.append(f"  {n} warning{'s' if n != 1 else ''}; {len(p.report.left_out)} selection(s) left out. "
                 f"Next: fill {r.folder / 'mapping.csv'} (relation, concept), then crkg build")
    return "\n".join(lines) + "\n"

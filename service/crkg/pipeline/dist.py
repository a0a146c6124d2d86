"""``dist/``: the release files of a build, written from the staged graphs, with SHA-256 sums.

N-Quads of the whole dataset (``crkg.nq``), Turtle and JSON-LD per graph
(``graphs/<stem>.ttl|jsonld``), the ontology release files and the shapes, and
``SHA256SUMS`` over all of them. Every serialisation is sorted, so the same sources give
the same bytes. The folder is written whole beside the old one and swapped in
(``<dist>.new`` → ``<dist>``), so a failed write leaves the old release as it was; and
:func:`dist_is_intact` checks every sum, so a damaged file makes the next build repair it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from crkg.namespaces import PREFIXES
from crkg.paths import SHAPES_DIR

SUMS_FILE = "SHA256SUMS"
DATASET_FILE = "crkg.nq"


def graph_file_stem(graph_iri: str) -> str:
    """``https://w3id.org/crkg/graph/study/k`` → ``study-k`` (dump file names)."""
    from crkg.namespaces import GRAPH

    return graph_iri.removeprefix(str(GRAPH)).replace("/", "-")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sums_digest(dist_dir: Path) -> str | None:
    """SHA-256 of the ``SHA256SUMS`` file (recorded in the build manifest), or None."""
    try:
        return hashlib.sha256((Path(dist_dir) / SUMS_FILE).read_bytes()).hexdigest()
    except OSError:
        return None


def dist_is_intact(dist_dir: Path, expected_sums: str | None = None) -> bool:
    """Every file ``SHA256SUMS`` lists exists with that digest (and, given
    *expected_sums*, ``SHA256SUMS`` is the one the build recorded)."""
    dist_dir = Path(dist_dir)
    if expected_sums is not None and sums_digest(dist_dir) != expected_sums:
        return False
    try:
        lines = (dist_dir / SUMS_FILE).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    if not lines:
        return False
    for line in lines:
        digest, sep, name = line.partition("  ")
        target = dist_dir / name
        if not sep or not target.is_file() or _file_sha256(target) != digest:
            return False
    return True


def write_dist(dist_dir: Path, graph_files: list[tuple[str, Path]]) -> list[Path]:
    """Write the release from (graph IRI, sorted N-Triples file) pairs, in that order.

    The pairs come sorted by graph IRI (as ``crkg.nq`` lists them). Returns the files
    written (their final paths).
    """
    import pyoxigraph as ox

    from crkg.pipeline.ontology import write_release

    dist_dir = Path(dist_dir)
    new = dist_dir.with_name(dist_dir.name + ".new")
    if new.exists():
        shutil.rmtree(new)
    new.mkdir(parents=True)
    try:
        written: list[Path] = []
        prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
        everything = new / DATASET_FILE
        with open(everything, "wb") as out:
            for iri, path in graph_files:
                suffix = f" <{iri}> .\n".encode()
                with open(path, "rb") as lines:
                    for line in lines:
                        # an N-Triples line "s p o .\n" becomes the N-Quads line "s p o <g> .\n"
                        out.write(line[: line.rindex(b" .")] + suffix)
        written.append(everything)
        graphs_dir = new / "graphs"
        graphs_dir.mkdir()
        for iri, path in graph_files:
            triples = list(ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES))
            stem = graph_file_stem(iri)
            for fmt, ext in ((ox.RdfFormat.TURTLE, "ttl"), (ox.RdfFormat.JSON_LD, "jsonld")):
                target = graphs_dir / f"{stem}.{ext}"
                kwargs = {"prefixes": prefixes} if fmt is ox.RdfFormat.TURTLE else {}
                target.write_bytes(ox.serialize(triples, format=fmt, **kwargs))
                written.append(target)
            del triples
        written += [Path(p) for p in write_release(new)]
        shapes_dir = new / "shapes"
        shapes_dir.mkdir(exist_ok=True)
        for shape_file in sorted(SHAPES_DIR.glob("*.ttl")):
            target = shapes_dir / shape_file.name
            target.write_bytes(shape_file.read_bytes())
            written.append(target)
        sums = sorted(f"{_file_sha256(p)}  {p.relative_to(new).as_posix()}" for p in written)
        (new / SUMS_FILE).write_text("\n".join(sums) + "\n", encoding="utf-8")
        _swap_in(new, dist_dir)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    return [dist_dir / p.relative_to(new) for p in written]


def _swap_in(new: Path, dist_dir: Path) -> None:
    old = dist_dir.with_name(dist_dir.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if dist_dir.exists():
        os.rename(dist_dir, old)
    os.rename(new, dist_dir)
    shutil.rmtree(old, ignore_errors=True)

"""The repository stands on its own: a user's clone has no ``shared/`` folder beside it.

The first study's text, the verified outside facts and the vocabulary contract live in the
repository (``data/studies/<key>/sources/``, ``data/facts/``, ``ontology/VOCABULARY.md``);
nothing in the package, the tests or the benchmarks may reach outside the checkout for them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crkg.paths import FACTS_DIR, REPO_ROOT, VOCABULARY_FILE, study_sources_dir

# Ways code has reached (or could reach) beside the checkout: a relative path up to the
# workplace's folder, a path built from the repository's parent, or that folder's absolute path.
OUTSIDE = re.compile(r"\.\./shared|/work/shared|REPO_ROOT\.parent|parents\[\d\]\s*/\s*[\"']shared[\"']"
                     r"|[\"']shared[\"']\s*/")


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True)
    files = [REPO_ROOT / name for name in out.stdout.decode("utf-8").split("\0") if name]
    assert len(files) > 100, "git ls-files listed the repository"
    return files


def test_no_code_reads_outside_the_checkout():
    this = Path(__file__).resolve()
    offenders = []
    for path in tracked_files():
        if path.suffix != ".py" or path.resolve() == this or not path.is_file():
            continue
        if path.relative_to(REPO_ROOT).parts[0] not in {"service", "tests", "bench"}:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_references_the_tests_need_are_tracked():
    tracked = {p.resolve() for p in tracked_files()}
    needed = [study_sources_dir("xu-chen-shanghai") / "study.zh.txt", FACTS_DIR / "works.tsv",
              FACTS_DIR / "identifiers.tsv", FACTS_DIR / "README.md", VOCABULARY_FILE]
    assert [str(p.relative_to(REPO_ROOT)) for p in needed if p.resolve() not in tracked] == []
    assert "## Additions" in VOCABULARY_FILE.read_text(encoding="utf-8"), "the whole contract, with its additions"


@pytest.mark.slow
def test_integrity_tests_pass_in_a_copy_with_nothing_beside_it(tmp_path):
    """Copies the tracked files alone into an empty folder (as a clone would have them, with
    no ``shared/`` beside) and runs there the tests that read the study text and the facts."""
    clone = tmp_path / "clone"
    for path in tracked_files():
        if path.is_file():
            target = clone / path.relative_to(REPO_ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    assert [p.name for p in clone.parent.iterdir()] == ["clone"], "nothing beside the copy"
    env = {k: v for k, v in os.environ.items() if k not in {"CRKG_HOME", "PYTHONPATH"}}
    env["PYTHONPATH"] = str(clone / "service")
    tests = ["tests/unit/test_coding_integrity.py", "tests/unit/test_links_data.py",
             "tests/unit/test_ontology_terms.py", "-m", "not jvm"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                         cwd=clone, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
    # the copy really tested itself, not the editable install of this checkout
    probe = subprocess.run([sys.executable, "-c", "import crkg, sys; print(crkg.__file__)"],
                           cwd=clone, env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.strip().startswith(str(clone))

"""``crkg validate``: exit codes 0 conforms / 1 does not / 2 unreadable, and what it prints.

In-process through ``crkg.cli.main`` (the real mapping of CrkgError to exit codes) inside
click's CliRunner isolation; once as a real ``crkg`` subprocess.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from crkg.cli import main
from crkg.errors import EXIT_ERROR, EXIT_NONCONFORMANT, EXIT_OK

PREFIXES = """\
@prefix crkg: <https://w3id.org/crkg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/> .
"""

STUDY = PREFIXES + """
ex:study a crkg:Study ; rdfs:label "Example study"@en ; <http://purl.org/dc/terms/language> "zh" .
ex:covid a crkg:HazardEvent ; rdfs:label "COVID-19 pandemic"@en .
ex:communityN a crkg:Community ; rdfs:label "N Community"@en ; crkg:locator "一" .
ex:caseN a crkg:Case ; rdfs:label "Case N"@en ; crkg:inStudy ex:study ;
    crkg:aboutCommunity ex:communityN ; crkg:respondsTo ex:covid ; crkg:locator "三.3.(1)" .
"""

ACTOR = PREFIXES + """
ex:socialWorkerW a crkg:SocialWorker ; rdfs:label "social worker W"@en ; crkg:locator "三.3.(1)" .
"""

INTERVENTION = PREFIXES + """
ex:maskDelivery a crkg:Intervention ;
    rdfs:label "door-to-door mask delivery"@en ;
    crkg:inCase ex:caseN ;
    crkg:usesMode crkg:VulnerableGroupFairness ;
    crkg:contributesTo crkg:PsychologicalResilience ;
    crkg:inPhase crkg:Response ;
    crkg:locator "三.1.(2)" .
"""

ACTOR_LINK = PREFIXES + "ex:maskDelivery crkg:performedBy ex:socialWorkerW .\n"

BROKEN = PREFIXES + """
ex:a ex:b ex:c .
ex:a ex:b "unterminated .
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args) -> tuple[int, str, str]:
    """Run ``crkg ARGS`` in-process; return (exit code, stdout, stderr)."""
    runner = CliRunner()
    with runner.isolation() as (out, err, _mixed):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8")


def test_conforming_files_exit_0(tmp_path):
    files = [
        _write(tmp_path, "study.ttl", STUDY),
        _write(tmp_path, "actor.ttl", ACTOR),
        _write(tmp_path, "intervention.ttl", INTERVENTION + ACTOR_LINK),
    ]
    code, out, err = run("validate", *files)
    assert code == EXIT_OK, out + err
    assert "Conforms" in out


def test_files_are_validated_as_one_graph(tmp_path):
    # the intervention's actor and case are defined in other files than the intervention
    files = [
        _write(tmp_path, "a.ttl", STUDY),
        _write(tmp_path, "b.nt", _as_ntriples(ACTOR)),
        _write(tmp_path, "c.jsonld", _as_jsonld(INTERVENTION + ACTOR_LINK)),
    ]
    code, out, err = run("validate", *files)
    assert code == EXIT_OK, out + err


def test_intervention_without_actor_exits_1_naming_the_missing_link(tmp_path):
    files = [_write(tmp_path, "study.ttl", STUDY), _write(tmp_path, "intervention.ttl", INTERVENTION)]
    code, out, err = run("validate", *files)
    assert code == EXIT_NONCONFORMANT, out + err
    assert "crkg:performedBy" in out and "actor" in out
    assert "intervention.ttl" in out and "maskDelivery" in out  # where it is
    assert "1 violation" in err


def test_json_report(tmp_path):
    files = [_write(tmp_path, "study.ttl", STUDY), _write(tmp_path, "intervention.ttl", INTERVENTION)]
    code, out, _err = run("validate", "--format", "json", *files)
    assert code == EXIT_NONCONFORMANT
    report = json.loads(out)
    assert report["conforms"] is False
    [violation] = report["violations"]
    assert violation["focus"] == "http://example.org/maskDelivery"
    assert violation["path"] == "https://w3id.org/crkg/ontology#performedBy"
    assert violation["component"] == "http://www.w3.org/ns/shacl#MinCountConstraintComponent"
    assert "performedBy" in violation["messages"]["en"] and violation["messages"]["zh"]


def test_chinese_messages(tmp_path):
    files = [_write(tmp_path, "study.ttl", STUDY), _write(tmp_path, "intervention.ttl", INTERVENTION)]
    code, out, _err = run("validate", "--lang", "zh", *files)
    assert code == EXIT_NONCONFORMANT
    assert "干预至少需要一个实施它的行动者" in out


def test_broken_turtle_exits_2_with_the_line_number(tmp_path):
    broken = _write(tmp_path, "broken.ttl", BROKEN)
    code, out, err = run("validate", broken)
    assert code == EXIT_ERROR
    assert f"{broken}:6:" in err and "line 6" in err
    assert out == ""


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("broken.nt", "<http://a> <http://b> <http://c> .\n<http://a> <http://b> c .\n", 2),
        ("broken.nq", "<http://a> <http://b> <http://c> <http://g> .\n\n<http://a> <http://b> c <http://g> .\n", 3),
        ("broken.jsonld", '{"@id": "http://a",\n "http://b": \n}\n', 3),
        ("broken.rdf", '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
                       '<rdf:Description rdf:about="http://a">\n</rdf:RDF>\n', 4),
        ("broken.trig", PREFIXES + "ex:g { ex:a ex:b ex:c .\nex:a ex:b ; }\n", 5),
    ],
)
def test_other_broken_formats_exit_2_with_the_line_number(tmp_path, name, text, line):
    path = _write(tmp_path, name, text)
    code, _out, err = run("validate", path)
    assert code == EXIT_ERROR
    assert f"{path}:{line}:" in err and f"line {line}" in err


def test_missing_file_exits_2(tmp_path):
    code, _out, err = run("validate", tmp_path / "nowhere.ttl")
    assert code == EXIT_ERROR
    assert "nowhere.ttl" in err and "No such file" in err


def test_non_rdf_file_exits_2(tmp_path):
    path = _write(tmp_path, "study.yaml", "study:\n  key: x\n")
    code, _out, err = run("validate", path)
    assert code == EXIT_ERROR
    assert "crkg build" in err


def test_no_file_is_a_usage_error():
    code, _out, err = run("validate")
    assert code == EXIT_ERROR
    assert "FILE" in err


def test_custom_shapes_file(tmp_path):
    shapes = _write(tmp_path, "shapes.ttl", """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix crkg: <https://w3id.org/crkg/ontology#> .
<http://example.org/shapes#S> a sh:NodeShape ; sh:targetClass crkg:Community ;
    sh:property [ sh:path crkg:pseudonym ; sh:minCount 1 ; sh:message "needs a pseudonym"@en ] .
""")
    study = _write(tmp_path, "study.ttl", STUDY)
    code, out, _err = run("validate", "--shapes", shapes, study)
    assert code == EXIT_NONCONFORMANT
    assert "needs a pseudonym" in out


def test_unparsable_shapes_file_exits_2(tmp_path):
    shapes = _write(tmp_path, "shapes.ttl", BROKEN)
    study = _write(tmp_path, "study.ttl", STUDY)
    code, _out, err = run("validate", "--shapes", shapes, study)
    assert code == EXIT_ERROR
    assert "shapes.ttl" in err and "line 6" in err


def test_as_a_subprocess(tmp_path):
    crkg = shutil.which("crkg")
    assert crkg, "the crkg console script is not installed (pip install -e .)"
    broken = _write(tmp_path, "broken.ttl", BROKEN)
    done = subprocess.run([crkg, "validate", str(broken)], capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_ERROR
    assert "line 6" in done.stderr
    files = [_write(tmp_path, "study.ttl", STUDY), _write(tmp_path, "intervention.ttl", INTERVENTION)]
    done = subprocess.run([crkg, "validate", *map(str, files)], capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_NONCONFORMANT
    assert "crkg:performedBy" in done.stdout


def _as_ntriples(turtle: str) -> str:
    from rdflib import Graph

    return Graph().parse(data=turtle, format="turtle").serialize(format="nt")


def _as_jsonld(turtle: str) -> str:
    from rdflib import Graph

    return Graph().parse(data=turtle, format="turtle").serialize(format="json-ld")


def test_ontology_option(tmp_path):
    # Without the ontology, a SocialWorker is not known to be an Actor, so it is not checked.
    unlabelled = _write(tmp_path, "actor.ttl", PREFIXES + 'ex:w a crkg:SocialWorker ; crkg:locator "一" .\n')
    empty = _write(tmp_path, "empty.ttl", PREFIXES)
    assert run("validate", unlabelled)[0] == EXIT_NONCONFORMANT
    assert run("validate", "--ontology", empty, unlabelled)[0] == EXIT_OK
    broken = _write(tmp_path, "broken-ontology.ttl", BROKEN)
    code, _out, err = run("validate", "--ontology", broken, unlabelled)
    assert code == EXIT_ERROR and "line 6" in err

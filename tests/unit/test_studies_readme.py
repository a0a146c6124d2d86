"""The worked example of data/README.md is a real, valid second study.

The README promises a scholar that copying its example gives a study that converts and
validates; this test copies it (from the README itself) into a temporary data folder.
"""

from __future__ import annotations

import re
import shutil

import pytest
from rdflib import URIRef

from crkg.pipeline.studies import discover_studies, load_study
from crkg.errors import CrkgError
from crkg.namespaces import CRKG, ID
from crkg.paths import DATA_DIR

README = DATA_DIR / "README.md"


def example_files() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Worked example"):]
    section = section[:section.index("\n## ", 1)] if "\n## " in section[1:] else section
    files = dict(re.findall(r"^`([\w.-]+\.yaml)`\n```yaml\n(.*?)^```", section, re.M | re.S))
    assert set(files) == {"study.yaml", "places.yaml", "coding.yaml"}, files.keys()
    return files


@pytest.fixture
def example(tmp_path):
    data = tmp_path / "data"
    folder = data / "studies" / "li-wang-wuhan"
    folder.mkdir(parents=True)
    shutil.copy(DATA_DIR / "context.jsonld", data / "context.jsonld")
    for name, body in example_files().items():
        (folder / name).write_text(body, encoding="utf-8")
    return folder


def test_readme_example_converts_and_conforms(example):
    from crkg.pipeline.validate import validate

    assert discover_studies(example.parent) == [example]
    study = load_study(example)
    assert study.key == "li-wang-wuhan"
    g = study.graph
    sandbags = URIRef(ID["intervention/li-wang-wuhan/A-sandbags"])
    assert (sandbags, CRKG.inCase, URIRef(ID["case/li-wang-wuhan/A"])) in g
    assert (URIRef(ID["community/li-wang-wuhan/A"]), CRKG.withinArea, URIRef(ID["city/wuhan"])) in g
    result = validate(g)
    assert result.conforms, result.format(source_map=study.source_map)


def test_readme_error_message_is_the_real_one(example):
    coding = example / "coding.yaml"
    coding.write_text(coding.read_text().replace("performedBy: [actor:committee-staff]",
                                                 "performedBy: [actor:committee]"))
    with pytest.raises(CrkgError) as info:
        load_study(example)
    shown = re.search(r"\(item interventions/A-sandbags\):\n\s+(field 'performedBy'.*)",
                      README.read_text(encoding="utf-8")).group(1)
    line = re.search(r"li-wang-wuhan/coding\.yaml:(\d+) \(item", README.read_text(encoding="utf-8")).group(1)
    assert f"coding.yaml:{line} (item interventions/A-sandbags)" in str(info.value)
    assert shown in str(info.value)

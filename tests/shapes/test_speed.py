"""How long validating one study of ordinary size takes (shapes and ontology loaded).

The target is < 100 ms; pySHACL evaluates every property shape once per focus node
(~5,500 evaluations for the first study), and one study of ~2,100-2,500 triples takes
~0.15 s of CPU here (measured as process time, so that other work on a shared machine
does not count). The bound asserted is
generous but catches the mistakes that cost an order of magnitude or more: RDFS
inference or pySHACL's own ontology mixing (both ran for minutes on the real study),
re-parsing the shapes on every call, a SPARQL constraint run once per reference.
"""

from __future__ import annotations

import time

from crkg.pipeline.validate import load_shapes, validate
from synthetic import synthetic_study

BOUND_SECONDS = 1.5


def test_one_ordinary_study_validates_quickly(ontology, record_property):
    study = synthetic_study()
    load_shapes()
    validate(study, ontology=ontology)  # warm: shapes parsed, pySHACL imported
    timings = []
    for _ in range(3):
        started = time.process_time()
        result = validate(study, ontology=ontology)
        timings.append(time.process_time() - started)
    assert result.conforms, result.format()
    best = min(timings)
    record_property("validate_seconds", round(best, 4))
    record_property("triples", len(study))
    assert best < BOUND_SECONDS, f"validating {len(study)} triples took {best:.3f} s of CPU"


def test_validation_does_not_change_the_data(ontology):
    study = synthetic_study()
    before = len(study)
    validate(study, ontology=ontology)
    assert len(study) == before

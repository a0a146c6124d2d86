"""What the crkg codebook offers a study's codes to be mapped onto (``mapping.csv``).

Read from the ontology (``ontology/crkg.ttl``), never listed here: the concepts a code can
``exactMatch`` (modes, goals, phases, levels, dimensions, mechanisms, participation modes,
community types), each with the fact it gives an intervention (:data:`FACT_PROPERTY`), and
the classes a code can name with ``type`` (Intervention, the actor classes, TargetGroup,
Mechanism). Used for the suggestions in ``mapping.csv`` and by
:mod:`crkg.pipeline.derive`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from crkg.namespaces import CRKG
from crkg.paths import ONTOLOGY_FILE

#: Class of a codebook concept -> the property an intervention gets to it by co-coding.
FACT_PROPERTY = {
    CRKG.ResilienceMode: CRKG.usesMode,
    CRKG.ResilienceGoal: CRKG.contributesToAsStated,
    CRKG.DisasterPhase: CRKG.inPhase,
    CRKG.Mechanism: CRKG.usesMechanism,
    CRKG.ParticipationMode: CRKG.hasParticipationMode,
}
#: Concept classes a code may be aligned to although they give an intervention no fact.
OTHER_CONCEPT_CLASSES = (CRKG.ResilienceLevel, CRKG.SocialCapitalDimension, CRKG.CommunityType)


@dataclass
class Vocabulary:
    concepts: dict[URIRef, URIRef] = field(default_factory=dict)   # concept -> its class
    type_classes: set[URIRef] = field(default_factory=set)         # classes usable with `type`
    actor_classes: set[URIRef] = field(default_factory=set)
    labels: dict[str, list[URIRef]] = field(default_factory=dict)  # normalised label -> terms

    def resolve(self, name: str) -> URIRef | None:
        """A term named as in mapping.csv: local name, ``crkg:Name`` or a full IRI."""
        name = name.strip()
        if not name:
            return None
        if name.startswith(("http://", "https://")):
            iri = URIRef(name)
        elif name.startswith("crkg:"):
            iri = CRKG[name[5:]]
        else:
            iri = CRKG[name]
        return iri if (iri in self.concepts or iri in self.type_classes) else None

    def suggest(self, label: str) -> list[URIRef]:
        return self.labels.get(normalise(label), [])


def normalise(text: str) -> str:
    """Lower case, no accents, punctuation and case-splitting as spaces (for matching labels)."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[\s\-_./,;:()'\"“”‘’（）、，。]+", " ", text)
    return text.strip()


def _subclasses(g: Graph, root: URIRef) -> set[URIRef]:
    out, todo = {root}, [root]
    while todo:
        c = todo.pop()
        for s in g.subjects(RDFS.subClassOf, c):
            if isinstance(s, URIRef) and s not in out:
                out.add(s)
                todo.append(s)
    return out


def vocabulary_from_graph(g: Graph) -> Vocabulary:
    v = Vocabulary()
    for cls in (*FACT_PROPERTY, *OTHER_CONCEPT_CLASSES):
        for s in g.subjects(RDF.type, cls):
            if isinstance(s, URIRef) and str(s).startswith(str(CRKG)):
                v.concepts[s] = cls
    v.actor_classes = {c for c in _subclasses(g, CRKG.Actor) if (c, RDF.type, OWL.Class) in g}
    v.type_classes = v.actor_classes | {CRKG.Intervention, CRKG.TargetGroup, CRKG.Mechanism}
    for term in [*v.concepts, *v.type_classes]:
        names = {str(term)[len(str(CRKG)):]}
        for p in (RDFS.label, SKOS.altLabel, SKOS.prefLabel):
            names |= {str(o) for o in g.objects(term, p)}
        for n in names:
            key = normalise(n)
            if key and term not in v.labels.setdefault(key, []):
                v.labels[key].append(term)
    return v


@lru_cache(maxsize=4)
def load_vocabulary(ontology_file: Path = ONTOLOGY_FILE) -> Vocabulary:
    """The vocabulary of the ontology file (parsed once per process)."""
    g = Graph()
    g.parse(str(ontology_file), format="turtle")
    return vocabulary_from_graph(g)


def curie(iri: URIRef) -> str:
    s = str(iri)
    return "crkg:" + s[len(str(CRKG)):] if s.startswith(str(CRKG)) else s

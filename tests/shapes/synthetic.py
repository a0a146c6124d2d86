"""A synthetic, conforming study of ordinary size, for timing the validator.

Sized like the first study (xu-chen-shanghai) as issue 3 describes it: ten communities
with a case each, a few dozen interventions each with evidence, 44 reference slots with
claims, quantities. Every item is made to satisfy the shapes, so a run over it measures
the cost of checking, not of reporting.
"""

from __future__ import annotations

from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from crkg.namespaces import CRKG, ID


def synthetic_study(key: str = "synthetic", *, communities: int = 10, interventions: int = 60,
                    references: int = 44) -> Graph:
    g = Graph()
    study = ID[f"study/{key}"]

    def label(node, en, zh=None):
        g.add((node, RDFS.label, Literal(en, lang="en")))
        if zh:
            g.add((node, RDFS.label, Literal(zh, lang="zh")))

    g.add((study, RDF.type, CRKG.Study))
    label(study, "Synthetic study", "合成研究")
    g.add((study, DCTERMS.language, Literal("zh")))
    event = ID["hazard-event/synthetic-event"]
    g.add((event, RDF.type, CRKG.HazardEvent))
    label(event, "synthetic event")
    city = ID[f"city/{key}-city"]
    g.add((city, RDF.type, CRKG.City))
    label(city, "City", "市")
    actors = []
    for cls in (CRKG.SocialWorker, CRKG.Volunteer, CRKG.ResidentsCommittee, CRKG.Resident):
        actor = ID[f"actor/{key}/{cls.split('#')[1]}"]
        g.add((actor, RDF.type, cls))
        label(actor, cls.split("#")[1], "行动者")
        g.add((actor, CRKG.locator, Literal("一")))
        actors.append(actor)
    cases = []
    for c in range(communities):
        community = ID[f"community/{key}/C{c}"]
        g.add((community, RDF.type, CRKG.Community))
        label(community, f"Community C{c}", f"C{c}社区")
        g.add((community, CRKG.pseudonym, Literal(f"C{c}")))
        g.add((community, CRKG.withinArea, city))
        g.add((community, CRKG.locator, Literal("一")))
        case = ID[f"case/{key}/C{c}"]
        g.add((case, RDF.type, CRKG.Case))
        label(case, f"Case C{c}")
        g.add((case, CRKG.inStudy, study))
        g.add((case, CRKG.aboutCommunity, community))
        g.add((case, CRKG.respondsTo, event))
        g.add((case, CRKG.locator, Literal("三")))
        cases.append(case)
    for i in range(interventions):
        iv = ID[f"intervention/{key}/i{i}"]
        g.add((iv, RDF.type, CRKG.Intervention))
        label(iv, f"intervention {i}", f"干预{i}")
        g.add((iv, CRKG.inCase, cases[i % len(cases)]))
        g.add((iv, CRKG.performedBy, actors[i % len(actors)]))
        g.add((iv, CRKG.usesMode, CRKG.TrustScopeExpansion))
        g.add((iv, CRKG.contributesTo, CRKG.PsychologicalResilience))
        g.add((iv, CRKG.inPhase, CRKG.Response))
        g.add((iv, CRKG.locator, Literal("三.1.(2)")))
        for kind, cls in (("quote", CRKG.Quote), ("observation", CRKG.Observation)):
            ev = ID[f"{kind}/{key}/i{i}"]
            g.add((ev, RDF.type, cls))
            label(ev, f"{kind} {i}")
            g.add((ev, CRKG.inStudy, study))
            g.add((ev, CRKG.text, Literal(f"证据文本{i}", lang="zh")))
            g.add((ev, CRKG.text, Literal(f"evidence text {i}", lang="en")))
            g.add((ev, CRKG.locator, Literal("三.1.(2)")))
            if cls == CRKG.Quote:
                g.add((ev, CRKG.saidBy, actors[i % len(actors)]))
            g.add((iv, CRKG.hasEvidence, ev))
    for n in range(1, references + 1):
        ref = ID[f"reference/{key}/{n}"]
        g.add((ref, RDF.type, CRKG.Reference))
        label(ref, f"reference [{n}]")
        g.add((ref, CRKG.inStudy, study))
        g.add((ref, CRKG.referenceNumber, Literal(n, datatype=XSD.positiveInteger)))
        g.add((ref, CRKG.authorAsCited, Literal(f"Author{n}")))
        claim = ID[f"claim/{key}/{n}"]
        g.add((claim, RDF.type, CRKG.Claim))
        label(claim, f"claim {n}")
        g.add((claim, CRKG.inStudy, study))
        g.add((claim, CRKG.attributedTo, ref))
        g.add((claim, CRKG.text, Literal(f"观点{n}", lang="zh")))
        g.add((claim, CRKG.locator, Literal("二.2")))
    for q in range(10):
        qty = ID[f"quantity/{key}/q{q}"]
        g.add((qty, RDF.type, CRKG.Quantity))
        label(qty, f"quantity {q}")
        g.add((qty, CRKG.quantityValue, Literal(q * 100, datatype=XSD.integer)))
        g.add((qty, CRKG.isLowerBound, Literal(True)))
        g.add((qty, CRKG.unit, Literal("户", lang="zh")))
        g.add((qty, CRKG.locator, Literal("四.2")))
        g.add((study, CRKG.reportsQuantity, qty))
    return g

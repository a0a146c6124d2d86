"""Synthetic coded studies, shaped like the real ones, at any size (issue 6 item 1).

    python -m bench.generate OUT --triples 1e5 [--seed 1]

writes ``OUT/context.jsonld`` (the project's own context) and ``OUT/studies/<key>/``
folders in the project's study format (data/README.md: YAML-LD, one ``study.yaml`` plus
section files), so ``crkg build --data OUT`` takes it like ``data/``.

What a study holds is what the coded study holds: a study with bilingual labels, method,
informants and community types; subdistricts in districts in a city; communities of the
three codebook types with cases responding to a hazard event; actors of the actor
subclasses (social-work organisations with a participation mode); target groups and
mechanisms; interventions with performers, modes (the three modes and the six
sub-mechanisms), goals, phases, targets, mechanisms, evidence and locators; quotes with
speakers and observations, 60-300 Chinese characters each; quantities; a numbered
reference list with claims attributed to it; Table-1 strategies. Labels are ``en`` and
``zh``. Texts are drawn from a fixed list of common characters (no study text is copied).

Size: ``--triples`` is the approximate number of asserted study triples (the ontology
and inferred triples come on top). It is reached by scaling the number of studies
(about sqrt(triples/1000)), and within each study the number of communities, with a
fixed number of interventions per community. Output is deterministic for a seed: each
study draws from its own ``random.Random(seed, study number)``.

The YAML is written as text line by line (strings as JSON strings, which are YAML
double-quoted scalars), never as a giant Python structure, so 1e6-1e7 triples are
written at disk speed.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# --------------------------------------------------------------------------- vocabulary

#: Common characters of social-science prose, for evidence texts (not study text).
CHARS = (
    "社区居民服务组织工作志愿者党员物业家庭老人儿童邻里关系信任资源网络参与合作协调沟通"
    "帮助支持需求问题困难防控疫情应对恢复准备心理情绪安全健康生活物资配送团购核酸检测隔离"
    "封控楼组楼长群聊线上线下活动项目专业社会工作者机构街道政府部门企业医生护士分享经验"
    "我们他们大家自己时候开始后来已经然后因为所以但是如果就是这个那个一些很多非常比较还是"
    "觉得知道发现希望认为需要可以能够应该没有不是一起每天每个通过进行提供开展建立形成加强"
    "发挥作用力量能力意识文化传统习惯变化过程方式方法机制制度规则责任义务权利公平公正弱势"
    "群体独居残疾困境外来人口租户业主委员会居委书记骨干积极主动热情认真及时有效持续长期"
)
PUNCT = "，，，、；。"


def chinese_text(rng: random.Random, low: int = 60, high: int = 300) -> str:
    """A passage of *low*..*high* characters with clause punctuation, ending in 。."""
    n = rng.randint(low, high)
    out, clause = [], rng.randint(6, 18)
    for i in range(n - 1):
        if clause == 0:
            out.append(rng.choice(PUNCT))
            clause = rng.randint(6, 18)
        else:
            out.append(rng.choice(CHARS))
            clause -= 1
    out.append("。")
    return "".join(out)


#: (YAML type name, en, zh) of the actor subclasses (conventions: actor classes).
ACTOR_TYPES = [
    ("SocialWorker", "social worker", "社会工作者"),
    ("Volunteer", "volunteer", "志愿者"),
    ("Resident", "resident", "居民"),
    ("ResidentActivist", "resident activist", "居民骨干"),
    ("CommunityPartySecretary", "community party secretary", "社区书记"),
    ("CommunityWorker", "community worker", "社区工作人员"),
    ("CommunityPartyOrganization", "community party organization", "社区党组织"),
    ("ResidentsCommittee", "residents' committee", "居委会"),
    ("SocialOrganization", "social organization", "社会组织"),
    ("SocialWorkOrganization", "social-work organization", "社会工作机构"),
    ("CommunitySelfOrganization", "community self-organization", "社区自组织"),
    ("PropertyManagement", "property management", "物业"),
    ("Enterprise", "enterprise", "企业"),
    ("MedicalWorker", "medical worker", "医务工作者"),
    ("Psychologist", "psychologist", "心理学家"),
    ("GovernmentAgency", "government agency", "政府部门"),
    ("ProfessionalAssociation", "professional association", "行业协会"),
    ("PartyMember", "party member", "社区党员"),
]
#: speakers of quotes: individuals
SPEAKER_TYPES = ["SocialWorker", "Volunteer", "Resident", "ResidentActivist",
                 "CommunityPartySecretary", "CommunityWorker", "MedicalWorker", "Psychologist",
                 "PartyMember"]
PARTICIPATION_MODES = ["SeamlessIntegration", "ProfessionalLinkage", "ProfessionalSectorSupport"]
MODES = ["TrustScopeExpansion", "ResourceNetworkIntegration", "SocialRelationReconstruction"]
SUB_MODES = {
    "TrustScopeExpansion": ["CivicAwarenessTrustClimate", "VulnerableGroupFairness"],
    "ResourceNetworkIntegration": ["CommunityEndogenousResources", "NetworkEmpowerment"],
    "SocialRelationReconstruction": ["AcquaintanceRelations", "EmotionalCommunity"],
}
MODE_LOCATOR = {"TrustScopeExpansion": "三.1", "ResourceNetworkIntegration": "三.2",
                "SocialRelationReconstruction": "三.3"}
GOALS = ["PsychologicalResilience", "OrganizationalResilience", "CulturalResilience"]
PHASES = ["Preparedness", "Response", "Recovery"]
COMMUNITY_TYPES = ["CommodityHousingCommunity", "OldPublicHousingCommunity", "MixedCommunity"]
MECHANISMS = ["ThreeSocialLinkage", "BuildingGroupResponsibility", "GridManagement"]
TARGET_GROUPS = [
    ("elderly-alone", "elderly people living alone", "独居老人"),
    ("hardship", "residents in special hardship", "特殊困难居民"),
    ("migrants", "migrant households", "外来人口家庭"),
    ("disabled", "residents with disabilities", "残疾居民"),
    ("children", "children and families", "儿童及家庭"),
    ("tenants", "tenants", "租户"),
]
ACTIVITIES = [
    ("group buying of supplies", "组织团购物资"),
    ("door-to-door checks on the elderly", "上门探访独居老人"),
    ("online emotional support", "线上心理疏导"),
    ("volunteer recruitment", "招募志愿者"),
    ("building-group chat coordination", "楼组群聊协调"),
    ("testing-site organisation", "组织核酸检测"),
    ("neighbourhood mutual aid", "邻里互助"),
    ("resource linking with enterprises", "链接企业资源"),
    ("community cultural activities", "社区文化活动"),
    ("training of resident activists", "培训居民骨干"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
HAZARDS = [("epidemic", "epidemic", "疫情"), ("flood", "flood", "洪水"),
           ("typhoon", "typhoon", "台风"), ("earthquake", "earthquake", "地震")]
NUMERALS = "一二三四五六七八九"

#: Per-study shape. Triples per community and the fixed part were measured on the
#: converter's output (see ``calibrate``); the generator aims studies at a triple budget.
INTERVENTIONS_PER_COMMUNITY = 8
TRIPLES_PER_COMMUNITY = 233
TRIPLES_FIXED = 580


def q(text: str) -> str:
    """A YAML scalar: a JSON string is a YAML double-quoted scalar."""
    return json.dumps(text, ensure_ascii=False)


def lang_map(en: str, zh: str | None = None) -> str:
    return "{en: " + q(en) + (", zh: " + q(zh) if zh else "") + "}"


def flow(values) -> str:
    return "[" + ", ".join(values) + "]"


# --------------------------------------------------------------------------- plan


@dataclass
class Plan:
    triples: int
    seed: int
    studies: int
    communities: list[int] = field(default_factory=list)

    @property
    def study_keys(self) -> list[str]:
        return [study_key(i) for i in range(self.studies)]


def study_key(i: int) -> str:
    return f"synth-{i:05d}"


def plan(triples: float, seed: int = 1) -> Plan:
    """How many studies and communities make about *triples* asserted triples."""
    triples = int(triples)
    if triples < 500:
        raise ValueError("the smallest study has about 500 triples; ask for at least 500")
    studies = max(1, round(math.sqrt(triples / 1000)))
    per_study = triples / studies
    communities = max(1, round((per_study - TRIPLES_FIXED) / TRIPLES_PER_COMMUNITY))
    return Plan(triples, seed, studies, [communities] * studies)


# --------------------------------------------------------------------------- writing


class _Writer:
    """Lines of one YAML file, flushed in blocks."""

    def __init__(self, path: Path):
        self.f = open(path, "w", encoding="utf-8", newline="\n")
        self.buf: list[str] = []

    def __call__(self, line: str) -> None:
        self.buf.append(line)
        if len(self.buf) >= 4096:
            self.flush()

    def flush(self):
        self.f.write("\n".join(self.buf) + "\n")
        self.buf.clear()

    def close(self):
        if self.buf:
            self.flush()
        self.f.close()


def write_study(folder: Path, index: int, n_communities: int, seed: int) -> dict:
    """One study folder; returns a few IRIs of it (for lookups in the benchmark)."""
    rng = random.Random(f"{seed}/{index}")
    key = folder.name
    folder.mkdir(parents=True, exist_ok=True)
    city = f"synth-city-{index % 50}"
    district = f"synth-district-{index % 200}"
    country = "synth-country"
    hazard_key, hazard_en, hazard_zh = HAZARDS[index % len(HAZARDS)]
    hazard = f"synth-{hazard_key}"
    n_sub = max(1, min(6, n_communities // 4 + 1))
    types_covered = sorted({COMMUNITY_TYPES[c % 3] for c in range(n_communities)})

    # actors: collectives per type and individual informants
    actors: list[tuple[str, str, str, str]] = []  # key, type, en, zh
    for t, en, zh in ACTOR_TYPES:
        actors.append((f"{t}-1", t, f"{en} 1 of study {index}", f"{zh}甲"))
    for k in range(12):
        t = SPEAKER_TYPES[k % len(SPEAKER_TYPES)]
        en, zh = next((e, z) for tt, e, z in ACTOR_TYPES if tt == t)
        letter = chr(ord("A") + k)
        actors.append((f"W{letter}", t, f"informant {letter} ({en})", f"受访者{letter}（{zh}）"))
    speakers = [a[0] for a in actors if a[0].startswith("W")]
    performers = [a[0] for a in actors]
    n_refs = 30
    n_claims = 15

    w = _Writer(folder / "study.yaml")
    w("# Synthetic study generated by bench/generate.py (not real data).")
    w("study:")
    w("  language: zh")
    w(f"  label: {lang_map(f'Synthetic study {index}', f'合成研究{index}')}")
    w(f"  title: {lang_map(f'Synthetic study {index} of community resilience', f'社区韧性合成研究{index}')}")
    w(f"  method: {lang_map('semi-structured interviews and participant observation', '半结构式访谈与参与观察')}")
    w(f"  interviewed: {flow('actor:' + s for s in speakers)}")
    w(f"  communityTypeCovered: {flow(types_covered)}")
    w("  attributionStatus: \"unverified\"")
    w(f"  year: {2020 + index % 5}")
    w("countries:")
    w(f"  - key: {country}")
    w(f"    label: {lang_map('Synthetic country', '合成国家')}")
    w("cities:")
    w(f"  - key: {city}")
    w(f"    label: {lang_map(f'Synthetic city {index % 50}', f'合成市{index % 50}')}")
    w(f"    locatedIn: country:{country}")
    w("districts:")
    w(f"  - key: {district}")
    w(f"    label: {lang_map(f'Synthetic district {index % 200}', f'合成区{index % 200}')}")
    w(f"    locatedIn: city:{city}")
    w("subdistricts:")
    for s in range(n_sub):
        w(f"  - key: S{s}")
        w(f"    label: {lang_map(f'Subdistrict S{s}', f'S{s}街道')}")
        w(f"    pseudonym: \"S{s}\"")
        w(f"    locatedIn: district:{district}")
        w("    locator: \"二\"")
    w("hazard_events:")
    w(f"  - key: {hazard}")
    w(f"    label: {lang_map(f'Synthetic {hazard_en}', f'合成{hazard_zh}')}")
    w("actors:")
    for akey, t, en, zh in actors:
        w(f"  - key: {akey}")
        w(f"    type: {t}")
        w(f"    label: {lang_map(en, zh)}")
        w(f"    locator: \"{'二' if akey.startswith('W') else '四.2'}\"")
        if t == "SocialWorkOrganization":
            w(f"    hasParticipationMode: {PARTICIPATION_MODES[index % 3]}")
    w("target_groups:")
    for tkey, en, zh in TARGET_GROUPS:
        w(f"  - key: {tkey}")
        w(f"    label: {lang_map(en, zh)}")
        w("    locator: \"三.1.(2)\"")
    w("mechanisms:")
    w("  - key: night-patrol")
    w(f"    label: {lang_map('night patrol rota', '夜间巡逻轮值')}")
    w("    locator: \"四.1\"")
    w("references:")
    for r in range(1, n_refs + 1):
        author = rng.choice(SURNAMES) + rng.choice(CHARS) + rng.choice(CHARS)
        w(f"  - key: R{r}")
        w(f"    label: {lang_map(f'Reference [{r}] of study {index}', f'参考文献[{r}]')}")
        w(f"    referenceNumber: {r}")
        w(f"    authorAsCited: {q(author)}")
    w("claims:")
    for c in range(1, n_claims + 1):
        w(f"  - key: K{c}")
        w(f"    label: {lang_map(f'Claim {c} from the literature', f'文献观点{c}')}")
        w(f"    text: {{zh: {q(chinese_text(rng, 40, 160))}}}")
        w(f"    attributedTo: {flow(f'reference:R{r}' for r in sorted(rng.sample(range(1, n_refs + 1), 2)))}")
        w(f"    locator: \"{rng.choice(['一', '二', '五'])}\"")
    w("strategies:")
    for g, goal in enumerate(GOALS):
        for p, phase in enumerate(PHASES):
            w(f"  - key: T{g + 1}-{p + 1}")
            w(f"    label: {lang_map(f'Strategy for {goal} in {phase}', f'策略{g + 1}-{p + 1}')}")
            w(f"    forGoal: {goal}")
            w(f"    inPhase: {phase}")
            w("    locator: \"表1\"")
    w.close()

    samples = {"study": key, "communities": [], "interventions": [], "quotes": [], "actors": []}
    wc = _Writer(folder / "communities.yaml")
    wi = _Writer(folder / "interventions.yaml")
    we = _Writer(folder / "evidence.yaml")
    wc("communities:")
    cases, quantities = [], []
    for c in range(n_communities):
        ckey = f"C{c}"
        ctype = COMMUNITY_TYPES[c % 3]
        wc(f"  - key: {ckey}")
        wc(f"    label: {lang_map(f'Community {ckey}', f'{ckey}社区')}")
        wc(f"    pseudonym: \"{ckey}\"")
        wc(f"    locatedIn: subdistrict:S{c % n_sub}")
        wc(f"    hasCommunityType: {ctype}")
        wc(f"    locator: \"二.{c % 9 + 1}\"")
        cases.append(c)
        quantities += [(c, 0), (c, 1)]
    wc("cases:")
    for c in cases:
        wc(f"  - key: case-C{c}")
        wc(f"    label: {lang_map(f'Case of community C{c}', f'C{c}社区案例')}")
        wc(f"    aboutCommunity: community:C{c}")
        wc(f"    respondsTo: hazard-event:{hazard}")
        wc(f"    locator: \"二.{c % 9 + 1}\"")
    wc("quantities:")
    for c, k in quantities:
        wc(f"  - key: N-C{c}-{k}")
        wc(f"    label: {lang_map(f'households reached in C{c} ({k})', f'C{c}社区服务户数{k}')}")
        wc(f"    quantityValue: {rng.randint(10, 3000)}")
        wc(f"    isLowerBound: {'true' if rng.random() < 0.4 else 'false'}")
        wc(f"    unit: {lang_map('households', '户')}")
        wc(f"    locator: \"三.{rng.randint(1, 3)}\"")
    wc.close()

    wi("interventions:")
    we("quotes:")
    wo = _Writer(folder / "observations.yaml")
    wo("observations:")
    for c in range(n_communities):
        for j in range(INTERVENTIONS_PER_COMMUNITY):
            ikey = f"I-C{c}-{j}"
            mode = MODES[(c + j) % 3]
            sub = SUB_MODES[mode][j % 2]
            act_en, act_zh = ACTIVITIES[(c * 7 + j) % len(ACTIVITIES)]
            goal = GOALS[(c + 2 * j) % 3] if rng.random() < 0.85 else GOALS[rng.randrange(3)]
            goals = [goal] if rng.random() < 0.7 else sorted({goal, GOALS[(GOALS.index(goal) + 1) % 3]})
            phase = PHASES[1] if rng.random() < 0.6 else rng.choice(PHASES)
            perf = sorted(set(rng.sample(performers, rng.randint(1, 3))))
            qkey, okey = f"Q-C{c}-{j}", f"O-C{c}-{j}"
            evidence = [f"quote:{qkey}"] + ([f"observation:{okey}"] if j % 2 == 0 else [])
            locator = f"{MODE_LOCATOR[mode]}.({(j % 2) + 1})"
            wi(f"  - key: {ikey}")
            wi(f"    label: {lang_map(f'{act_en} in community C{c} ({j})', f'C{c}社区{act_zh}{j}')}")
            wi(f"    inCase: case:case-C{c}")
            wi(f"    performedBy: {flow('actor:' + p for p in perf)}")
            wi(f"    usesMode: {flow([mode, sub])}")
            wi(f"    contributesTo: {flow(goals)}")
            wi(f"    inPhase: {phase}")
            wi(f"    respondsTo: hazard-event:{hazard}")
            wi(f"    targets: target-group:{TARGET_GROUPS[(c + j) % len(TARGET_GROUPS)][0]}")
            if j % 3 == 0:
                mech = MECHANISMS[(c + j) % 3] if j % 2 == 0 else "mechanism:night-patrol"
                wi(f"    usesMechanism: {mech}")
            wi(f"    hasEvidence: {flow(evidence)}")
            wi(f"    locator: \"{locator}\"")
            if c % 5 == 0 and j == 0:
                wi(f"    reportsQuantity: quantity:N-C{c}-0")
            speaker = rng.choice(speakers)
            we(f"  - key: {qkey}")
            we(f"    label: {lang_map(f'Quote on {act_en} in C{c} ({j})', f'关于C{c}社区{act_zh}的引语{j}')}")
            we(f"    text: {{zh: {q(chinese_text(rng))}}}")
            we(f"    saidBy: actor:{speaker}")
            we(f"    locator: \"{locator}\"")
            if j % 2 == 0:
                wo(f"  - key: {okey}")
                wo(f"    label: {lang_map(f'Observation on {act_en} in C{c} ({j})', f'关于C{c}社区{act_zh}的观察{j}')}")
                wo(f"    text: {{zh: {q(chinese_text(rng))}}}")
                wo(f"    locator: \"{locator}\"")
            if len(samples["interventions"]) < 50 and rng.random() < 0.5:
                samples["interventions"].append(f"intervention/{key}/{ikey}")
                samples["quotes"].append(f"quote/{key}/{qkey}")
        if len(samples["communities"]) < 10:
            samples["communities"].append(f"community/{key}/C{c}")
    wi.close()
    we.close()
    wo.close()
    samples["actors"] = [f"actor/{key}/{a}" for a in speakers[:5]]
    return samples


def generate(out: Path, triples: float, seed: int = 1, progress=None,
             with_shipped: bool = False) -> dict:
    """Write the studies for about *triples* triples into *out*; returns the manifest.

    The manifest (also written to ``out/bench-manifest.json``) records the plan and a
    sample of IRIs (paths under ``/id/``) for lookups and Linked Data page requests.
    *with_shipped* also copies the repository's own studies and linksets (``data/``), so
    the competency questions, which ask about the shipped study, have answers in a graph
    of the given size.
    """
    from crkg.pipeline.studies import discover_studies
    from crkg.paths import DATA_DIR, LINKS_DIR, STUDIES_DIR

    out = Path(out)
    p = plan(triples, seed)
    manifest_file = out / "bench-manifest.json"
    wanted = {"triples": p.triples, "seed": seed, "studies": p.studies,
              "communities": p.communities, "generator": GENERATOR_REVISION,
              "with_shipped": with_shipped}
    if manifest_file.is_file():
        old = json.loads(manifest_file.read_text(encoding="utf-8"))
        if {k: old.get(k) for k in wanted} == wanted:
            return old  # same plan already on disk
    if out.exists():
        shutil.rmtree(out)
    (out / "studies").mkdir(parents=True)
    shutil.copyfile(DATA_DIR / "context.jsonld", out / "context.jsonld")
    if with_shipped:
        for folder in discover_studies(STUDIES_DIR):
            shutil.copytree(folder, out / "studies" / folder.name)
        if LINKS_DIR.is_dir():
            shutil.copytree(LINKS_DIR, out / "links")
    start = time.perf_counter()
    samples: dict[str, list] = {"communities": [], "interventions": [], "quotes": [], "actors": []}
    for i, n in enumerate(p.communities):
        s = write_study(out / "studies" / study_key(i), i, n, seed)
        for k in samples:
            if len(samples[k]) < 400:
                samples[k] += s[k]
        if progress and (i + 1) % 10 == 0:
            progress(f"generated {i + 1}/{p.studies} studies")
    manifest = dict(wanted, seconds=time.perf_counter() - start, samples=samples)
    manifest_file.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest


#: Bump when the output for the same plan changes, so cached data is regenerated.
GENERATOR_REVISION = 3  # 3: study language (the model's format)


def count_triples(out: Path) -> int:
    """Asserted triples of the generated studies, by the project's own converter."""
    from crkg.pipeline.studies import discover_studies, load_study

    return sum(len(load_study(f).graph) for f in discover_studies(Path(out) / "studies"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Generate synthetic studies in crkg's study format.")
    parser.add_argument("out", type=Path, help="output folder (laid out like data/)")
    parser.add_argument("--triples", type=float, default=1e4, help="approximate asserted triples")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--with-shipped", action="store_true",
                        help="also copy the repository's own studies and linksets")
    parser.add_argument("--count", action="store_true", help="convert the output and print its triple count")
    args = parser.parse_args(argv)
    m = generate(args.out, args.triples, args.seed, progress=lambda s: print(s, file=sys.stderr),
                 with_shipped=args.with_shipped)
    print(f"{m['studies']} studies x {m['communities'][0]} communities x "
          f"{INTERVENTIONS_PER_COMMUNITY} interventions in {args.out} ({m['seconds']:.1f} s)")
    if args.count:
        print(f"{count_triples(args.out)} triples")
    return 0


if __name__ == "__main__":
    sys.exit(main())

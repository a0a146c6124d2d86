"""RESULTS.md from ``results.json``: ratios first, then the raw numbers.

The hand-written analysis (profiles, causes, proposed fixes) lives in
``bench/FINDINGS.md`` and is appended as it is, so re-rendering never loses it.
"""

from __future__ import annotations

import statistics
from pathlib import Path

FINDINGS = Path(__file__).with_name("FINDINGS.md")
#: Sections recorded by bench/soak.py and bench/fixed_cost.py, kept across re-renders.
SERVING = Path(__file__).with_name("SERVING.md")


def record_serving(result: dict, json_path: Path, text: str, append: bool) -> None:
    """Write a serving run's *result* to *json_path*, print its section *text* and, if
    *append*, add it to RESULTS.md now and to SERVING.md (appended at every re-render)."""
    import json

    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(text)
    if append:
        for path in (Path(__file__).with_name("RESULTS.md"), SERVING):
            with open(path, "a", encoding="utf-8") as f:
                f.write(text)
SYSTEMS = ("oxigraph", "crkg", "virtuoso", "rdflib")
NAMES = {"oxigraph": "pyoxigraph in-process", "crkg": "crkg /sparql", "virtuoso": "Virtuoso",
         "rdflib": "rdflib in-memory endpoint"}

# Targets of issue 6 item 3
T_OX, T_VIRT, T_RDFLIB, T_RSS, T_START, T_VALIDATE = 1.25, 1.0, 25.0, 600.0, 1.5, 0.100
# Targets of issue 14 item 4: full build at 1e6 with reasoning (s, MB), one study added (s),
# full build at 1e5 over pyoxigraph's bulk load of the same N-Quads
T_BUILD_1E6_S, T_BUILD_1E6_MB, T_ADD_ONE_S, T_BULK_RATIO = 180.0, 1000.0, 10.0, 10.0
# Targets of issue 14 item 5: a request's fixed cost over the bare gunicorn + WSGI + pyoxigraph
# app; the aggregates the pages need (matrices, per-study counts, VoID), seconds
T_FIXED_COST, T_VIEWS = 1.5, 0.050


def ms(x) -> str:
    return "–" if x is None else (f"{x * 1000:.1f}" if x < 10 else f"{x * 1000:.0f}")


def ratio(a, b) -> str:
    if a is None or b is None or b == 0:
        return "–"
    r = a / b
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.4f}×"


def _median_runs(runs: list[dict], step: str):
    xs = [r["timings"][step] for r in runs if r.get("status") == "ok" and step in r.get("timings", {})]
    return statistics.median(xs) if xs else None


def render(results: dict) -> str:
    out: list[str] = ["# crkg benchmark results", ""]
    out.append("Produced by (in this order, into one `bench/out/results.json`):")
    out.append("")
    out += [f"    {c}" for c in results.get("commands", [])]
    out.append("")
    out.append(f"Runs from {results.get('started', '?')} to {results.get('finished', 'still running')}, "
               "one after another on this one machine, which other sessions were using at the "
               "same time (the machine load is noted per system). Every system of a serve run is "
               "measured in that run on the same store and dump, one system at a time, so the "
               "ratios compare like with like; absolute times are only meaningful on this machine.")
    out.append("")
    m = results.get("machine", {})
    out.append("| machine | |")
    out.append("|---|---|")
    for k, v in m.items():
        out.append(f"| {k} | {v} |")
    out.append("")
    out += _targets(results)
    out += _build(results)
    out += _serve(results)
    for prev in results.get("serve_previous", []):
        out += _serve({"serve": prev}, earlier=True)
    out += _validate_start(results)
    out += _views(results)
    if results.get("fixed_cost"):
        from bench.fixed_cost import markdown

        out.append(markdown(results["fixed_cost"], title="## Request fixed cost (issue 14 item 5), this run").strip())
        out.append("")
    if results.get("errors"):
        out.append("## Stages that failed")
        out.append("")
        for k, v in results["errors"].items():
            out.append(f"- **{k}**:")
            out.append("")
            out.append("```")
            out.append(v.strip()[-1500:])
            out.append("```")
        out.append("")
    search = _search_section()
    if search:
        out.append(search)
        out.append("")
    if FINDINGS.is_file():
        out.append(FINDINGS.read_text(encoding="utf-8").strip())
        out.append("")
    if SERVING.is_file():  # the soak and fixed-cost runs (bench/soak.py, bench/fixed_cost.py)
        out.append(SERVING.read_text(encoding="utf-8").strip())
        out.append("")
    return "\n".join(out)


def _search_section() -> str | None:
    """The full-text search section ``python -m bench.search`` wrote (kept on re-render)."""
    from bench.search import END, RESULTS, START

    if not RESULTS.is_file():
        return None
    text = RESULTS.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return None
    return START + text.split(START, 1)[1].split(END, 1)[0] + END


# --------------------------------------------------------------------------- sections


def _lat(results, system, label):
    s = results.get("serve", {}).get("systems", {}).get(system, {})
    v = s.get("latency", {}).get(label, {})
    return v.get("median")


def _targets(results: dict) -> list[str]:
    out = ["## Targets (issue 6 item 3, issue 14 items 4 and 5)", "",
           "Each miss is explained, with the profile and a measured fix, in the findings at the "
           "end (numbers in the last column).", "",
           "| target | measured | met? | findings |", "|---|---|---|---|"]
    serve = results.get("serve", {})
    queries = serve.get("queries", [])
    label = serve.get("label", "?")

    def worst(a, b, limit):
        rs = []
        for q in queries:
            x, y = _lat(results, a, q), _lat(results, b, q)
            if x is not None and y:
                rs.append((x / y, q))
        if not rs:
            return None
        rs.sort()
        med = statistics.median(r for r, _ in rs)
        over = [q for r, q in rs if r > limit]
        return rs, med, over

    w = worst("crkg", "oxigraph", T_OX)
    if w:
        rs, med, over = w
        out.append(f"| /sparql latency ≤ {T_OX}× in-process pyoxigraph ({label}) | median ratio "
                   f"{med:.2f}×, worst {rs[-1][0]:.2f}× ({rs[-1][1]}) | "
                   f"{'yes' if not over else f'no: {len(over)} of {len(rs)} queries over'} | 1, 2, 3 |")
    else:
        out.append(f"| /sparql latency ≤ {T_OX}× in-process pyoxigraph | not measured | – | |")
    w = worst("crkg", "virtuoso", T_VIRT)
    if w:
        rs, med, over = w
        out.append(f"| /sparql latency ≤ {T_VIRT}× Virtuoso ({label}) | median ratio {med:.2f}×, "
                   f"worst {rs[-1][0]:.2f}× ({rs[-1][1]}) | "
                   f"{'yes' if not over else f'no: {len(over)} of {len(rs)} queries over'} | 1, 3, 4, 13 |")
    else:
        out.append(f"| /sparql latency ≤ {T_VIRT}× Virtuoso | not measured | – | |")
    w = worst("rdflib", "crkg", 0)
    if w:
        rs, med, _ = w
        slow = [q for r, q in rs if r < T_RDFLIB]
        met = "yes" if not slow else f"no: {len(slow)} of {len(rs)} queries under {T_RDFLIB:g}×"
        out.append(f"| ≥ {T_RDFLIB:g}× faster than rdflib in memory ({label}) | median {med:.1f}×, "
                   f"least {rs[0][0]:.4f}× ({rs[0][1]}) | {met} | 1, 5, 13 |")
    else:
        out.append(f"| ≥ {T_RDFLIB:g}× faster than rdflib in memory | not measured | – | |")
    crkg = serve.get("systems", {}).get("crkg", {})
    if crkg.get("peak_rss_mib"):
        rss = crkg["peak_rss_mib"]
        out.append(f"| serving {label} triples in ≤ {T_RSS:g} MB RSS | {rss:.0f} MiB peak (sum over "
                   f"the process tree) | {'yes' if rss * 1.048576 <= T_RSS else 'no'} | 2 |")
    else:
        out.append(f"| serving in ≤ {T_RSS:g} MB RSS | not measured | – | |")
    runs = results.get("start", {}).get("runs", [])
    if runs:
        s = statistics.median(r["first_query_s"] for r in runs)
        out.append(f"| first query within {T_START} s of `crkg serve` start (shipped data) | "
                   f"{s:.2f} s (median of {len(runs)}) | {'yes' if s <= T_START else 'no'} | 12 |")
    else:
        out.append(f"| first query within {T_START} s of start | not measured | – | |")
    val = results.get("validate", {})
    if val:
        parts, met = [], True

        def took(v):  # the build's own pass where measured (issue 14 item 3), else pySHACL
            return v.get("sparql_median_s", v["median_s"])

        for name, v in val.items():
            how = "SPARQL pass" if "sparql_median_s" in v else "pySHACL"
            parts.append(f"{name} ({v['triples']} triples): {took(v) * 1000:.0f} ms ({how})")
            met = met and took(v) < T_VALIDATE
        worst = max(took(v) for v in val.values())
        refs = "10, 17" if any("sparql_median_s" in v for v in val.values()) else "10"
        out.append(f"| validating one new study < {T_VALIDATE * 1000:.0f} ms | {'; '.join(parts)} | "
                   f"{'yes' if met else f'no: {worst / T_VALIDATE:.1f}× the limit'} | {refs} |")
    else:
        out.append(f"| validating one new study < {T_VALIDATE * 1000:.0f} ms | not measured | – | |")
    out += _build_targets(results)
    out.append(_fixed_cost_target(results))
    out.append(_views_target(results))
    out.append("")
    return out


def _views_target(results: dict) -> str:
    entry = results.get("views")
    head = f"| the aggregates the pages need (matrices, per-study counts, VoID) ≤ {T_VIEWS * 1000:.0f} ms"
    if not entry:
        return head + " | not measured | – | |"
    counted = [r for r in entry["rows"] if r["target"]]
    worst = max(counted, key=lambda r: r["median_ms"])
    ok = all(r["status"] == 200 for r in counted) and worst["median_ms"] <= T_VIEWS * 1000
    how = "from the build's tables" if entry.get("tables") else "asked live (no tables)"
    return (f"{head} ({entry.get('label', '?')} store) | {len(counted)} answers {how}: slowest "
            f"{worst['median_ms']:.1f} ms ({worst['label']}) | {'yes' if ok else 'no'} | 21 |")


def _views(results: dict) -> list[str]:
    entry = results.get("views")
    if not entry:
        return []
    out = [f"## Evidence views at {entry.get('label', '?')} (issue 14 item 5)", "",
           "`bench.views` on the serving store: each answer of the app (Flask test client: the "
           "request's own code, without the HTTP server) once to warm, then median of the runs; "
           "CPU time of the web process. *target*: counted in the ≤ 50 ms target.", "",
           "| answer | status | median ms | CPU ms (web) | bytes | target |", "|---|---|---|---|---|---|"]
    for r in entry["rows"]:
        out.append(f"| {r['label']} | {r['status']} | {r['median_ms']} | {r['cpu_ms']} | {r['bytes']:,} | "
                   f"{'yes' if r['target'] else ''} |")
    out.append("")
    return out


def _fixed_cost_target(results: dict) -> str:
    """crkg over the bare gunicorn app, both over new connections (gunicorn's sync worker
    has no keep-alive): the worst of the queries, wall median and server CPU."""
    entry = results.get("fixed_cost")
    head = f"| request fixed cost ≤ {T_FIXED_COST}× the bare gunicorn + WSGI + pyoxigraph app"
    if not entry:
        return head + " | not measured | – | |"
    rows = {(r["query"], r["connection"], r["server"]): r for r in entry["rows"]}
    parts, worst = [], 0.0
    for (query, connection, server), r in rows.items():
        bare = rows.get((query, "new", "bare-gunicorn"))
        if server != "crkg" or connection != "new" or not bare:
            continue
        wall = r["median_ms"] / bare["median_ms"]
        cpu = r["cpu_ms_per_request"] / bare["cpu_ms_per_request"] if bare["cpu_ms_per_request"] else None
        worst = max(worst, wall)
        parts.append(f"{query}: {wall:.2f}× ({r['median_ms']:.2f} vs {bare['median_ms']:.2f} ms; CPU "
                     + (f"{cpu:.2f}×" if cpu else "–") + ")")
    return (f"{head} ({entry.get('label', '?')} store) | {'; '.join(parts)} | "
            f"{'yes' if parts and worst <= T_FIXED_COST else 'no'} | 23 |")


def _ok_runs(entry: dict) -> list[dict]:
    return [r for r in entry.get("runs", []) if r.get("status") == "ok"]


def _spread(xs: list[float], unit: str = " s") -> str:
    """Median and range of every run (issue 14 item 6: all runs, not the last)."""
    if len(xs) == 1:
        return f"{xs[0]:.1f}{unit}"
    return f"{statistics.median(xs):.1f}{unit} (median of {len(xs)}; {min(xs):.1f}–{max(xs):.1f})"


def _build_targets(results: dict) -> list[str]:
    """Issue 14 item 4, from every measured build run."""
    out = []
    builds = results.get("build", {})
    big = builds.get("1e6")
    if big and _ok_runs(big) and big.get("mode") == "full":
        ok = _ok_runs(big)
        totals = [r["total"] for r in ok]
        rss = max(r["peak_rss_mib"] for r in ok)
        met = statistics.median(totals) <= T_BUILD_1E6_S and rss * 1.048576 <= T_BUILD_1E6_MB
        out.append(f"| full build at 1e6 with reasoning ≤ {T_BUILD_1E6_S:.0f} s, ≤ {T_BUILD_1E6_MB:.0f} MB | "
                   f"{_spread(totals)}, peak {rss:.0f} MiB | {'yes' if met else 'no'} | 15–18, 22 |")
    elif big:
        last = (big.get("runs") or [{}])[-1]
        out.append(f"| full build at 1e6 with reasoning ≤ {T_BUILD_1E6_S:.0f} s, ≤ {T_BUILD_1E6_MB:.0f} MB | "
                   f"{big.get('mode')}: {last.get('status', 'not run')} | no | 15–18 |")
    else:
        out.append(f"| full build at 1e6 with reasoning ≤ {T_BUILD_1E6_S:.0f} s | not measured | – | |")
    for label, entry in builds.items():
        add = entry.get("add_one")
        if add and add.get("status") == "ok":
            out.append(f"| one study added to the built {label} corpus ≤ {T_ADD_ONE_S:.0f} s (`crkg build`) | "
                       f"{add['wall']:.1f} s end to end ({add['total']:.1f} s in the build) | "
                       f"{'yes' if add['wall'] <= T_ADD_ONE_S else 'no'} | 16, 20, 22 |")
    e5 = builds.get("1e5")
    if e5 and _ok_runs(e5) and e5.get("bulk_load_nquads_s"):
        totals = [r["total"] for r in _ok_runs(e5)]
        r = statistics.median(totals) / e5["bulk_load_nquads_s"]
        out.append(f"| full build at 1e5 ≤ {T_BULK_RATIO:.0f}× pyoxigraph's bulk load of its N-Quads | "
                   f"{r:.1f}× ({_spread(totals)} vs {e5['bulk_load_nquads_s']:.1f} s) | "
                   f"{'yes' if r <= T_BULK_RATIO else 'no'} | 16, 18, 20, 22 |")
    return out


def _build(results: dict) -> list[str]:
    builds = results.get("build", {})
    if not builds:
        return []
    out = ["## (a) Build", "",
           "`crkg build` (`crkg.pipeline.build.build`, no `dist/`) in a child process on generated "
           "studies, each run from an empty store; seconds per step (`BuildResult.timings`; "
           "convert / SHACL validation / stage studies are the parts of the one streamed step "
           "over the studies; *other* = total − steps: the sources' digest, the graph statistics "
           "for the side artefacts, the manifest), median over the runs. With worker processes "
           "(`--jobs`) the wall time spent waiting for them is split between convert and SHACL "
           "validation in proportion to the workers' own seconds for each. Peak RSS: the build "
           "process's peak plus workers × the largest worker's peak (an upper bound), or the "
           "largest sampled sum over the process tree if higher.", ""]
    steps: list[str] = []
    for b in builds.values():
        for r in b["runs"]:
            for k in r.get("timings", {}):
                if k not in steps:
                    steps.append(k)
    head = ["size", "build", "studies × communities", "asserted + ontology + inferred triples", "runs"] + steps + \
           ["other", "total", "peak RSS MiB", "status"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for label, b in builds.items():
        runs = b["runs"]
        ok = [r for r in runs if r.get("status") == "ok"]
        triples = "–"
        if ok and ok[-1].get("graphs"):
            triples = f"{sum(ok[-1]['graphs'].values()):,}"
        mode = b.get("mode", "full") + (" + shipped data" if b.get("with_shipped") else "")
        row = [label, mode, f"{b['studies']} × {b['communities']}", triples, str(len(runs))]
        for st in steps:
            v = _median_runs(runs, st) if ok else (runs[-1]["timings"].get(st) if runs else None)
            row.append("–" if v is None else f"{v:.2f}")
        if ok:
            tot = statistics.median(r["total"] for r in ok)
            other = statistics.median(r["total"] - sum(r["timings"].values()) for r in ok)
            row += [f"{other:.2f}", f"{tot:.2f}", f"{max(r['peak_rss_mib'] for r in ok):.0f}", "ok"]
        else:
            last = runs[-1] if runs else {}
            row += ["–", f"> {last.get('wall', 0):.0f}", f"{last.get('peak_rss_mib', 0):.0f}",
                    last.get("status", "not run")]
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    for label, b in builds.items():
        prof = b.get("profile")
        if isinstance(prof, dict):
            out.append(f"cProfile of one more build at {label} ({prof['total']:.1f} s under the "
                       f"profiler; full listing in `bench/out/profile-build-{label}.txt`). crkg's "
                       "functions by cumulative time, then the functions with the most own time:")
            out.append("")
            out.append("| function | own s | cumulative s |")
            out.append("|---|---|---|")
            for f, tt, ct in prof["crkg"]:
                out.append(f"| `{f}` | {tt:.2f} | {ct:.2f} |")
            out.append("| *most own time:* | | |")
            for f, tt, ct in prof["own"]:
                out.append(f"| `{f}` | {tt:.2f} | {ct:.2f} |")
            out.append("")
    lo = results.get("load_only", {})
    for label, r in lo.items():
        out.append(f"Serving store at {label} for the earlier serve run, built load-only (convert + "
                   f"load, no SHACL, no reasoning): {r['status']}, {fmt(r.get('timings', {}))}.")
        out.append("")
    return out


def fmt(t: dict) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in t.items())


def _serve(results: dict, earlier: bool = False) -> list[str]:
    serve = results.get("serve")
    if not serve:
        return []
    systems = serve.get("systems", {})
    have = [s for s in SYSTEMS if s in systems]
    label = serve["label"]
    data = ("generated studies + the shipped study and linksets" if serve.get("with_shipped")
            else "generated studies only: the competency questions, which ask about the shipped "
                 "study, find (almost) nothing and measure the fixed cost of a query")
    h = "###" if earlier else "##"
    pre = "Earlier run: " if earlier else ""
    out = [f"{h} {pre}(b) Query latency at {label} ({serve['quads']:,} quads; store: {serve['store']}; "
           f"data: {data})", "",
           "Median milliseconds per query (sequential, one keep-alive client, after one warm-up; "
           "SELECT/ASK as SPARQL JSON, pages as Turtle; a system that needs the budget for one "
           "query is measured once), and the ratios the targets are about. `rows` is the size "
           "of crkg's answer; a `≠` marks a system whose answer had a different size.", ""]
    head = ["query", "rows"] + [NAMES[s] + " ms" for s in have] + \
           ["crkg / pyoxigraph", "crkg / Virtuoso", "rdflib / crkg"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    queries = serve["queries"]
    if earlier:
        cqs = [q for q in queries if q.startswith("cq/")]
        if cqs:
            meds = []
            for a, b_ in (("crkg", "oxigraph"), ("crkg", "virtuoso"), ("rdflib", "crkg")):
                rs = [(_lat(results, a, q) or 0) / _lat(results, b_, q) for q in cqs
                      if _lat(results, a, q) is not None and _lat(results, b_, q)]
                meds.append(f"{statistics.median(rs):.2f}×" if rs else "–")
            out.insert(len(out) - 2, f"The {len(cqs)} competency questions (rows left out here): median "
                       f"crkg / pyoxigraph {meds[0]}, crkg / Virtuoso {meds[1]}, rdflib / crkg {meds[2]}.")
            out.insert(len(out) - 2, "")
        queries = [q for q in queries if not q.startswith("cq/")]
    for q in queries:
        sizes = {s: systems[s].get("sizes", {}).get(q) for s in have}
        ref = sizes.get("crkg", next(iter(sizes.values()), None))
        row = [q.replace("|", "\\|"), "–" if ref is None else str(ref)]
        for s in have:
            lat = systems[s].get("latency", {}).get(q, {})
            if "error" in lat:
                row.append("error")
                continue
            cell = ms(lat.get("median"))
            if sizes[s] is not None and ref is not None and sizes[s] != ref:
                cell += f" ≠{sizes[s]}"
            row.append(cell)
        row += [ratio(_lat(results, "crkg", q), _lat(results, "oxigraph", q)),
                ratio(_lat(results, "crkg", q), _lat(results, "virtuoso", q)),
                ratio(_lat(results, "rdflib", q), _lat(results, "crkg", q))]
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    errors = [(s, q, v["error"]) for s in have for q, v in systems[s].get("latency", {}).items()
              if "error" in v]
    for s, q, e in errors[:12]:
        out.append(f"- {NAMES[s]}, {q}: `{e[:200]}`")
    if errors:
        out.append("")
    out += [f"{h} {pre}(c) Throughput, 8 concurrent clients, at {label}", "",
            "Requests per second over the run (each client its own keep-alive connection, cycling "
            "through 200 resources); p50/p95 latency in ms. Lookups: all properties of one "
            "resource, or its labels. Pages: `/id/...` as Turtle (for Virtuoso and the in-process "
            "floor, the equivalent CONSTRUCT). The load generator runs on the same 2 cores.", "",
            "| system | lookups req/s | p50 | p95 | pages req/s | p50 | p95 | errors |",
            "|---|---|---|---|---|---|---|---|"]
    for s in have:
        tp = systems[s].get("throughput", {})
        lk, pg = tp.get("lookups", {}), tp.get("pages", {})
        errs = (lk.get("errors") or 0) + (pg.get("errors") or 0)
        out.append(f"| {NAMES[s]} | {_rps(lk)} | {ms(lk.get('p50'))} | {ms(lk.get('p95'))} | "
                   f"{_rps(pg)} | {ms(pg.get('p50'))} | {ms(pg.get('p95'))} | {errs} |")
    out.append("")
    out += [f"{h} {pre}(d) Memory and start at {label}", "",
            "| system | peak RSS MiB (sum over its processes) | ready after s | machine load (1-min load average at start → end of its measurements) | notes |",
            "|---|---|---|---|---|"]
    for s in have:
        e = systems[s]
        if "error" in e:
            out.append(f"| {NAMES[s]} | – | – | – | failed: {e['error'][:300]} |")
            continue
        note = ""
        if s == "virtuoso":
            note = f"start {e.get('start_s', 0):.1f} s + bulk load {e.get('load_s', 0):.1f} s"
        elif s == "rdflib":
            note = "parses the N-Quads dump into memory at start"
        elif s == "oxigraph":
            note = "opens the store read-only in the benchmark process (no server)"
        elif s == "crkg":
            note = ("`crkg serve` defaults on the built store opened read-only: one waitress "
                    "process with 4 query worker processes (runs before issue 13: 2 gunicorn "
                    "workers, each with 2)")
        rss = e.get("peak_rss_mib")
        load = "–"
        if e.get("loadavg_at_start") is not None:
            load = f"{e['loadavg_at_start']:.1f} → {e.get('loadavg_at_end', 0):.1f}"
        out.append(f"| {NAMES[s]} | {'–' if rss is None else f'{rss:.0f}'} | {e.get('ready_s', 0):.2f} | {load} | {note} |")
    out.append("")
    return out


def _rps(d: dict) -> str:
    if "error" in d:
        return "error"
    if "rps" not in d:
        return "–"
    return f"{d['rps']:.1f}" if d["rps"] < 10 else f"{d['rps']:.0f}"


def _validate_start(results: dict) -> list[str]:
    out = []
    st = results.get("start")
    if st:
        out += ["## `crkg serve` start on the shipped data", ""]
        b = st.get("build", {})
        out.append(f"Shipped data built first ({b.get('status')}; {fmt(b.get('timings', {}))}).")
        runs = st.get("runs", [])
        if runs:
            out.append("Seconds from process start to the first answered `SELECT` over HTTP: "
                       + ", ".join(f"{r['first_query_s']:.2f}" for r in runs) + ".")
        if st.get("error"):
            out.append(f"Error: `{st['error'][:500]}`")
        out.append("")
    val = results.get("validate")
    if val:
        out += ["## Validating one study", "",
                "`crkg.pipeline.validate.validate(study_graph, ontology=...)`, median over the runs after "
                "one warm-up (shapes parsed once). The build validates each study on its own, so this "
                "does not grow with the rest of the graph.", "",
                "The build first runs the shapes compiled to SPARQL (`crkg.pipeline.shacl_sparql`, "
                "load of ontology + study into an in-memory store included) and pySHACL only when that "
                "finds something; both are timed here (wall clock; CPU seconds of the SPARQL pass too).", "",
                "| study | triples | pySHACL median ms | SPARQL pass median ms (CPU ms) | results | conforms |",
                "|---|---|---|---|---|---|"]
        for name, v in val.items():
            sp = (f"{v['sparql_median_s'] * 1000:.0f} ({v['sparql_cpu_s'] * 1000:.0f})"
                  if "sparql_median_s" in v else "–")
            out.append(f"| {name} | {v['triples']} | {v['median_s'] * 1000:.0f} | {sp} | "
                       f"{v.get('sparql_results', '–')} | {v['conforms']} |")
        out.append("")
    return out

"""The benchmark runner behind ``python -m bench`` (see bench/README.md).

Stages, each recorded in ``OUT/results.json`` (so stages can be run apart and the
report re-rendered) and rendered into RESULTS.md:

* ``build``: generate synthetic studies at each size and run the real build
  (``crkg.pipeline.build.build``) in a child process with a time limit, per-step times
  from ``BuildResult.timings``, repeated, medians; peak RSS of the build process;
* ``serve``: at the serving size, each system in turn (never two at once: the machine
  has few cores) answers the same requests: latency of the competency queries, the
  aggregations, a lookup and a page; throughput of 8 concurrent clients on lookups and on
  Linked Data pages; time to ready; peak RSS of the serving processes (sampled sum over
  the process tree, query workers included);
* ``start``: ``crkg serve`` on the shipped data (already built store): time from process
  start to the first answered query;
* ``validate``: validating one new study of ordinary size against the shapes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

from bench import measure, system
from bench.generate import generate
from bench.queries import latency_queries, lookup_requests, page_requests

REPO = Path(__file__).resolve().parent.parent
STEP_RE = re.compile(r"^\[(\d+)/(\d+)\] (.+): done in ([0-9.]+) s$")
STEP_START_RE = re.compile(r"^\[(\d+)/(\d+)\] (.+) \.\.\.$")


def size_label(n: float) -> str:
    n = float(n)
    exp = len(str(int(n))) - 1
    mant = n / 10 ** exp
    return f"1e{exp}" if mant == 1 else f"{mant:g}e{exp}"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- build


def step_name(name: str) -> str:
    """``convert 12 studies`` → ``convert``: the same column at every size."""
    return re.sub(r"^convert\b.*", "convert", name)


def empty_store(store: Path) -> None:
    """Remove a store and everything the build keeps beside it (generations, manifest,
    closure cache), so a measured build starts from nothing (issue 14 item 6: otherwise
    runs 2-3 of a size skip validation and reasoning and measure the skip path)."""
    if store.is_symlink() or store.is_file():
        store.unlink()
    elif store.is_dir():
        shutil.rmtree(store)
    for sibling in store.parent.glob(f".{store.name}.*"):
        shutil.rmtree(sibling, ignore_errors=True)
    for name in (f"{store.name}.manifest.json",):
        (store.parent / name).unlink(missing_ok=True)
    shutil.rmtree(store.parent / f"{store.name}.cache", ignore_errors=True)


def run_build(data: Path, store: Path, out_json: Path, *, timeout: float, mode: str = "full",
              profile: Path | None = None, log_file: Path | None = None, incremental: bool = False) -> dict:
    """One build in a child process; returns timings (partial when it was stopped).

    It starts from an empty store (:func:`empty_store`) unless *incremental* (then it is
    ``crkg build`` over the store as it is, as a user runs it after adding a study)."""
    cmd = [sys.executable, "-m", "bench.buildstep", "--data", str(data), "--store", str(store),
           "--json", str(out_json)]
    if mode == "load-only":
        cmd.append("--load-only")
    elif mode == "no-reason":
        cmd.append("--no-reason")
    if incremental:
        cmd.append("--incremental")
    else:
        empty_store(store)
    if profile:
        cmd += ["--profile", str(profile)]
    if out_json.exists():
        out_json.unlink()
    steps: dict[str, float] = {}
    current = [None]
    lines: list[str] = []
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    peak = [0.0]
    import threading

    def reader():
        for line in proc.stderr:
            line = line.rstrip("\n")
            lines.append(line)
            m = STEP_RE.match(line)
            if m:
                steps[step_name(m.group(3))] = float(m.group(4))
                current[0] = None
            elif STEP_START_RE.match(line):
                current[0] = STEP_START_RE.match(line).group(3)

    def sampler():
        while proc.poll() is None:
            peak[0] = max(peak[0], system.tree_rss_mib(proc.pid))
            time.sleep(0.25)

    threads = [threading.Thread(target=reader, daemon=True), threading.Thread(target=sampler, daemon=True)]
    for t in threads:
        t.start()
    try:
        proc.wait(timeout=timeout)
        status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        status = f"stopped after {timeout:.0f} s" + (f" in step '{current[0]}'" if current[0] else "")
    for t in threads:
        t.join(timeout=5)
    wall = time.perf_counter() - start
    if log_file:
        log_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = {"status": status, "wall": wall, "timings": steps, "peak_rss_mib": peak[0], "mode": mode,
              "loadavg": os.getloadavg()[0]}
    if status == "ok" and out_json.is_file():
        data_out = json.loads(out_json.read_text(encoding="utf-8"))
        result.update(timings={step_name(k): v for k, v in data_out["timings"].items()}, total=data_out["total"],
                      graphs=data_out["graphs"], peak_rss_mib=max(peak[0], data_out["peak_rss_mib"]),
                      # what the peak is made of (bench/buildstep.py): the processes besides the build's
                      **{k: data_out[k] for k in ("workers", "worker_peak_mib", "index_peak_mib") if k in data_out})
    elif status != "ok":
        result["error_tail"] = "\n".join(lines[-15:])
    return result


def stage_build(args, results: dict) -> None:
    out = args.out
    builds = results.setdefault("build", {})
    for size in args.sizes:
        label = size_label(size)
        data = out / f"data-{label}"
        log(f"build {label}: generating")
        shutil.rmtree(data / "studies" / ADDED_STUDY, ignore_errors=True)  # left by an earlier run
        manifest = generate(data, size, args.seed, with_shipped=args.with_shipped)
        repeats = args.build_repeats if size <= 1e4 else 1
        no_reason = args.no_reason or size > args.reason_up_to
        entry = {"size": size, "studies": manifest["studies"], "with_shipped": args.with_shipped,
                 "mode": "no-reason" if no_reason else "full",
                 "communities": manifest["communities"][0], "runs": []}
        builds[label] = entry
        for r in range(repeats):
            log(f"build {label}: run {r + 1}/{repeats} (time limit {args.build_timeout:.0f} s)")
            res = run_build(data, out / f"store-{label}", out / f"build-{label}.json",
                            timeout=args.build_timeout, log_file=out / f"build-{label}.log",
                            mode="no-reason" if no_reason else "full")
            entry["runs"].append(res)
            log(f"build {label}: {res['status']} in {res['wall']:.1f} s; steps {fmt_steps(res['timings'])}")
            save(args, results)
            if res["status"] != "ok":
                break
        if entry["runs"] and entry["runs"][-1]["status"] == "ok":
            measure_bulk_load(args, entry, out / f"store-{label}", label)
            measure_add_one(args, entry, data, out / f"store-{label}", label, no_reason)
            save(args, results)
        if size == args.profile_size and entry["runs"] and entry["runs"][-1]["status"] == "ok":
            log(f"build {label}: profiling one more run with cProfile")
            prof = out / f"build-{label}.prof"
            res = run_build(data, out / f"store-{label}-prof", out / f"build-{label}-prof.json",
                            timeout=args.build_timeout * 2, profile=prof,
                            mode="no-reason" if no_reason else "full")
            if prof.is_file():
                entry["profile"] = summarise_profile(prof, out / f"profile-build-{label}.txt")
            shutil.rmtree(out / f"store-{label}-prof", ignore_errors=True)
            save(args, results)


def measure_bulk_load(args, entry: dict, store: Path, label: str) -> None:
    """pyoxigraph's own bulk load of the same N-Quads into an empty store (flush and
    optimise included, as the build's store step does), in a child process: the peer the
    full build is compared with (issue 14 item 4: at 1e5, build ≤ 10× this)."""
    dump = args.out / f"dump-{label}.nq"
    dump_nquads(store, dump)
    target = args.out / f"bulk-{label}"
    shutil.rmtree(target, ignore_errors=True)
    code = ("import sys, time, pyoxigraph as ox; t = time.perf_counter(); s = ox.Store(sys.argv[1]); "
            "s.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_QUADS); s.flush(); s.optimize(); "
            "print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code, str(target), str(dump)], capture_output=True,
                          text=True, timeout=args.build_timeout)
    shutil.rmtree(target, ignore_errors=True)
    if done.returncode == 0:
        entry["bulk_load_nquads_s"] = float(done.stdout.strip())
        log(f"build {label}: pyoxigraph bulk load of the same N-Quads: {entry['bulk_load_nquads_s']:.1f} s")
    else:
        entry["bulk_load_error"] = done.stderr[-1500:]


#: The study measure_add_one copies into a built corpus.
ADDED_STUDY = "synth-added"


def measure_add_one(args, entry: dict, data: Path, store: Path, label: str, no_reason: bool) -> None:
    """Copy one ordinary study (the shipped study's size: 8 communities) into the built
    corpus and run `crkg build` as a user would (no --force): end to end, in a child."""
    from bench.generate import write_study

    folder = data / "studies" / ADDED_STUDY
    if folder.exists():
        raise RuntimeError(f"{folder} is already in the corpus: the measure would be of nothing")
    write_study(folder, 9999, 8, args.seed)
    res = run_build(data, store, args.out / f"build-{label}-add.json", timeout=args.build_timeout,
                    mode="no-reason" if no_reason else "full", incremental=True,
                    log_file=args.out / f"build-{label}-add.log")
    entry["add_one"] = res
    log(f"build {label}: adding one study: {res['status']} in {res['wall']:.1f} s; {fmt_steps(res['timings'])}")
    # the study stays: the store holds it, and serving must not find the store stale


def fmt_steps(timings: dict) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in timings.items())


def summarise_profile(prof: Path, text_out: Path, top: int = 12) -> dict:
    """crkg's own functions by cumulative time (where the build spends it), and the
    functions with the most own time (what is hot underneath)."""
    import io
    import pstats

    buf = io.StringIO()
    stats = pstats.Stats(str(prof), stream=buf)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(40)
    text_out.write_text(buf.getvalue(), encoding="utf-8")
    own, crkg = [], []
    for (file, line, func), (_cc, _nc, tt, ct, _callers) in stats.stats.items():
        name = f"{Path(file).parent.name}/{Path(file).name}:{line}({func})" if file != "~" else func
        own.append([name, round(tt, 2), round(ct, 2)])
        if "/service/" in file and func not in ("run", "<lambda>", "<listcomp>", "build", "main"):
            crkg.append([name, round(tt, 2), round(ct, 2)])
    own.sort(key=lambda r: -r[1])
    crkg.sort(key=lambda r: -r[2])
    return {"total": round(stats.total_tt, 2), "crkg": crkg[:top], "own": own[:top]}


# --------------------------------------------------------------------------- serve


def serving_store(args, results: dict, size: float) -> tuple[Path, str]:
    """A store at *size*: the full build's if it finished, else a load-only build."""
    label = size_label(size)
    runs = results.get("build", {}).get(label, {}).get("runs", [])
    store = args.out / f"store-{label}"
    if runs and runs[-1]["status"] == "ok" and store.is_dir():
        mode = runs[-1].get("mode", "full")
        return store, "`crkg build`" + (" --no-reason (no graph/inferred)" if mode == "no-reason" else "")
    data = args.out / f"data-{label}"
    generate(data, size, args.seed, with_shipped=args.with_shipped)
    store = args.out / f"store-{label}-loadonly"
    marker = args.out / f"store-{label}-loadonly.json"
    if not (store.is_dir() and marker.is_file()):
        log(f"serve {label}: the full build did not finish; building a load-only store")
        res = run_build(data, store, marker, timeout=args.build_timeout * 2, mode="load-only",
                        log_file=args.out / f"build-{label}-loadonly.log")
        results.setdefault("load_only", {})[label] = res
        if res["status"] != "ok":
            raise RuntimeError(f"load-only build at {label} failed: {res.get('error_tail')}")
    return store, "load-only (convert + load; no SHACL, no reasoning)"


def dump_nquads(store: Path, dump: Path) -> None:
    import pyoxigraph as ox

    if dump.is_file() and dump.stat().st_mtime > store.stat().st_mtime:
        return
    s = ox.Store.read_only(str(store))
    s.dump(str(dump), format=ox.RdfFormat.N_QUADS)
    del s


def result_size(body: bytes) -> int:
    """Rows of a SPARQL JSON result (1 for ASK), or triples of a Turtle document."""
    try:
        doc = json.loads(body)
        if "boolean" in doc:
            return 1
        return len(doc["results"]["bindings"])
    except (ValueError, KeyError, UnicodeDecodeError):
        import pyoxigraph as ox

        try:
            return sum(1 for _ in ox.parse(body, format=ox.RdfFormat.TURTLE))
        except (SyntaxError, ValueError):
            return -1


def crkg_serve_cmd(store: Path, port: int, workers: int | None = None) -> list[str]:
    cmd = [sys.executable, "-c", "import sys; from crkg.cli import main; sys.exit(main())",
           "serve", "--store", str(store),
           "--host", "127.0.0.1", "--port", str(port)]
    if workers:
        cmd += ["--workers", str(workers)]
    return cmd


def start_http(name: str, cmd: list[str], port: int, ready_path: str, timeout: float,
               log_path: Path, env: dict | None = None) -> tuple[subprocess.Popen, float, "system.RssSampler"]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, **(env or {})})
    sampler = system.RssSampler(proc.pid, interval=0.1).__enter__()
    try:
        system.wait_for_http(f"http://127.0.0.1:{port}{ready_path}", timeout=timeout, proc=proc)
    except Exception:
        stop_proc(proc)
        sampler.__exit__(None, None, None)
        raise RuntimeError(f"{name} did not start: see {log_path}:\n"
                           + log_path.read_text(errors="replace")[-2000:]) from None
    return proc, time.perf_counter() - t0, sampler


def stop_proc(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


ASK = "/sparql?query=ASK%7B%7D"


def measure_target(args, target: measure.Target, requests_latency, lookups, pages,
                   budget: float) -> dict:
    out: dict = {"latency": {}, "sizes": {}, "throughput": {}, "loadavg_at_start": os.getloadavg()[0]}
    for req in requests_latency:
        try:
            times, body = measure.latency(target, req, repeats=args.repeats, warmup=1, budget=budget)
            out["latency"][req.label] = {"median": statistics.median(times), "runs": len(times)}
            out["sizes"][req.label] = result_size(body)
        except Exception as exc:  # noqa: BLE001 - reported, the rest goes on
            out["latency"][req.label] = {"error": str(exc)[:300]}
        log(f"  {target.name}: {req.label}: {out['latency'][req.label]}")
    for name, reqs in (("lookups", lookups), ("pages", pages)):
        try:
            tp = measure.throughput(target, reqs, clients=args.clients, duration=args.duration)
            out["throughput"][name] = {"rps": tp.per_second, "p50": tp.p50, "p95": tp.p95,
                                       "errors": tp.errors, "requests": tp.requests,
                                       "first_error": tp.first_error}
        except Exception as exc:  # noqa: BLE001
            out["throughput"][name] = {"error": str(exc)[:300]}
        log(f"  {target.name}: throughput {name}: {out['throughput'][name]}")
    out["loadavg_at_end"] = os.getloadavg()[0]
    return out


def _hide_manifest(store: Path) -> None:
    from crkg.pipeline.build import manifest_path

    m = manifest_path(store)
    if m.is_file():
        m.rename(m.with_name(m.name + ".bench-aside"))


def _restore_manifest(store: Path) -> None:
    from crkg.pipeline.build import manifest_path

    m = manifest_path(store)
    aside = m.with_name(m.name + ".bench-aside")
    if aside.is_file():
        aside.rename(m)


def stage_serve(args, results: dict) -> None:
    from crkg.paths import QUERIES_DIR

    size = args.serve_size
    label = size_label(size)
    store, how = serving_store(args, results, size)
    dump = args.out / f"dump-{label}.nq"
    log(f"serve {label}: dumping N-Quads for the peers")
    dump_nquads(store, dump)
    manifest = json.loads((args.out / f"data-{label}" / "bench-manifest.json").read_text(encoding="utf-8"))
    samples = manifest["samples"]
    reqs = latency_queries(QUERIES_DIR, samples)
    lookups, pages = lookup_requests(samples), page_requests(samples)
    quads = sum(1 for _ in open(dump, "rb"))
    serve = {"size": size, "label": label, "store": how, "quads": quads, "systems": {},
             "queries": [r.label for r in reqs], "with_shipped": args.with_shipped}
    if results.get("serve"):
        results.setdefault("serve_previous", []).append(results["serve"])
    results["serve"] = serve
    save(args, results)

    for peer in args.peers:
        log(f"serve {label}: {peer}")
        try:
            if peer == "oxigraph":
                t0 = time.perf_counter()
                target = measure.inprocess_target(str(store))
                entry = {"ready_s": time.perf_counter() - t0, "peak_rss_mib": None}
                entry.update(measure_target(args, target, reqs, lookups, pages, args.budget))
                target.extra["store"] = None
            elif peer == "crkg":
                port = system.free_port()
                # `crkg serve` rebuilds a store older than its sources; colleagues editing
                # the ontology or shapes during the run must not turn this into a rebuild.
                _hide_manifest(store)
                proc, ready, sampler = start_http(
                    "crkg serve", crkg_serve_cmd(store, port, args.crkg_workers), port, ASK,
                    timeout=300, log_path=args.out / "crkg-serve.log")
                target = measure.Target("crkg", base=f"http://127.0.0.1:{port}", pid=proc.pid,
                                        has_pages=True)
                try:
                    entry = {"ready_s": ready}
                    entry.update(measure_target(args, target, reqs, lookups, pages, args.budget))
                finally:
                    stop_proc(proc)
                    sampler.__exit__(None, None, None)
                    _restore_manifest(store)
                entry["peak_rss_mib"] = sampler.peak
            elif peer == "rdflib":
                port = system.free_port()
                proc, ready, sampler = start_http(
                    "rdflib peer", [sys.executable, "-m", "bench.peers.rdflib_app", str(dump),
                                    "--port", str(port)], port, ASK,
                    timeout=args.build_timeout, log_path=args.out / "rdflib-peer.log")
                target = measure.Target("rdflib", base=f"http://127.0.0.1:{port}", pid=proc.pid,
                                        has_pages=True)
                try:
                    entry = {"ready_s": ready}
                    entry.update(measure_target(args, target, reqs, lookups, pages, args.rdflib_budget))
                finally:
                    stop_proc(proc)
                    sampler.__exit__(None, None, None)
                entry["peak_rss_mib"] = sampler.peak
            elif peer == "virtuoso":
                from bench.peers.virtuoso import Virtuoso

                v = Virtuoso(args.out / "virtuoso", progress=log)
                started = v.start()
                sampler = system.RssSampler(v.pid, interval=0.1).__enter__()
                try:
                    load = v.load_nquads(dump)
                    target = measure.Target("virtuoso", base=f"http://127.0.0.1:{v.http_port}",
                                            pid=v.pid)
                    entry = {"ready_s": started + load, "start_s": started, "load_s": load}
                    entry.update(measure_target(args, target, reqs, lookups, pages, args.budget))
                finally:
                    sampler.__exit__(None, None, None)
                    v.stop()
                entry["peak_rss_mib"] = sampler.peak
            else:
                raise ValueError(f"unknown peer {peer!r}")
        except Exception as exc:  # noqa: BLE001 - one peer failing must not lose the others
            log(f"serve {label}: {peer} failed: {exc}")
            entry = {"error": f"{type(exc).__name__}: {exc}"[:1500],
                     "trace": traceback.format_exc()[-1500:]}
        serve["systems"][peer] = entry
        save(args, results)


# --------------------------------------------------------------------------- start, validate


def stage_start(args, results: dict) -> None:
    """``crkg serve`` on the shipped data: seconds from start to the first answered query."""
    from crkg.paths import DATA_DIR

    store = args.out / "store-shipped"
    res = run_build(DATA_DIR, store, args.out / "build-shipped.json", timeout=args.build_timeout,
                    log_file=args.out / "build-shipped.log")
    entry = {"build": res, "runs": []}
    results["start"] = entry
    if res["status"] != "ok":
        save(args, results)
        return
    query = "/sparql?query=" + "SELECT%20%2A%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20LIMIT%201"
    for _ in range(args.start_repeats):
        port = system.free_port()
        try:
            proc, ready, sampler = start_http("crkg serve", crkg_serve_cmd(store, port, args.crkg_workers),
                                              port, query, timeout=120,
                                              log_path=args.out / "crkg-serve-start.log")
        except Exception as exc:  # noqa: BLE001
            entry["error"] = str(exc)[:1500]
            break
        stop_proc(proc)
        sampler.__exit__(None, None, None)
        entry["runs"].append({"first_query_s": ready, "peak_rss_mib": sampler.peak})
        log(f"start: first query after {ready:.2f} s")
    save(args, results)


def stage_validate(args, results: dict) -> None:
    """One new study of ordinary size validated against the shapes (the change, not the world)."""
    from crkg.pipeline.ontology import load_ontology
    from crkg.pipeline.studies import discover_studies, load_study
    from crkg.pipeline.validate import validate
    from crkg.paths import STUDIES_DIR

    ontology = load_ontology()
    cases = []
    shipped = discover_studies(STUDIES_DIR)
    if shipped:
        cases.append(("the shipped study " + shipped[0].name, load_study(shipped[0])))
    # one generated study of the shipped study's size (~2,500 triples: 8 communities)
    from bench.generate import write_study

    folder = args.out / "data-ordinary" / "studies" / "synth-ordinary"
    if folder.parent.parent.exists():
        shutil.rmtree(folder.parent.parent)
    folder.parent.mkdir(parents=True)
    shutil.copyfile(REPO / "data" / "context.jsonld", folder.parent.parent / "context.jsonld")
    write_study(folder, 0, 8, args.seed)
    cases.append(("a generated study (8 communities)", load_study(folder)))
    from crkg.namespaces import ONTOLOGY_GRAPH
    from crkg.pipeline.build import canonical_lines
    from crkg.pipeline.shacl_sparql import quick_results
    from crkg.pipeline.validate import load_shapes

    shapes = load_shapes()
    ontology_nt = b"".join(canonical_lines(ontology, str(ONTOLOGY_GRAPH)))
    entry = {}
    for name, study in cases:
        validate(study.graph, ontology=ontology)  # warm: shapes parsed and cached once
        times = []
        conforms = True
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            r = validate(study.graph, ontology=ontology)
            times.append(time.perf_counter() - t0)
            conforms = conforms and r.conforms
        # what the build runs for a study (crkg.pipeline.build._conforms_quickly): the shapes
        # compiled to SPARQL over ontology + study in an in-memory store, load included
        data_nt = b"".join(canonical_lines(study.graph, str(study.graph_iri)))
        quick_results(data_nt, ontology_nt, shapes)  # warm: shapes compiled once
        sparql, sparql_cpu, found = [], [], None
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            found = quick_results(data_nt, ontology_nt, shapes)
            sparql.append(time.perf_counter() - t0)
            sparql_cpu.append(time.process_time() - c0)
        entry[name] = {"triples": len(study.graph), "median_s": statistics.median(times),
                       "conforms": conforms, "sparql_median_s": statistics.median(sparql),
                       "sparql_cpu_s": statistics.median(sparql_cpu),
                       "sparql_results": None if found is None else len(found),
                       "loadavg": os.getloadavg()[0]}
        log(f"validate: {name}: {entry[name]}")
    results["validate"] = entry
    save(args, results)


def stage_fixed_cost(args, results: dict) -> None:
    """The fixed cost of a request (issue 14 item 5): ``crkg serve`` against the bare
    gunicorn + WSGI + pyoxigraph app over the serving store (``bench.fixed_cost``)."""
    from bench.fixed_cost import run as fixed_cost

    store, how = serving_store(args, results, args.serve_size)
    log(f"fixed cost: {store} ({how})")
    entry = fixed_cost(str(store.resolve()), args.fixed_cost_requests)
    entry["label"] = size_label(args.serve_size)
    entry["loadavg"] = os.getloadavg()[0]
    results["fixed_cost"] = entry
    for row in entry["rows"]:
        log(f"fixed cost: {row}")
    save(args, results)


def stage_views(args, results: dict) -> None:
    """The evidence views' answers on the serving store (issue 14 item 5: the aggregates
    the pages need ≤ 50 ms at 1e6), ``bench.views`` in a child process."""
    store, how = serving_store(args, results, args.serve_size)
    out = args.out / "views.json"
    log(f"views: {store} ({how})")
    subprocess.run([sys.executable, "-m", "bench.views", str(store.resolve()), "--repeats", str(args.repeats),
                    "--json", str(out)], cwd=REPO, check=True, timeout=args.build_timeout)
    entry = json.loads(out.read_text(encoding="utf-8"))
    entry["label"] = size_label(args.serve_size)
    results["views"] = entry
    for row in entry["rows"]:
        log(f"views: {row['status']} {row['median_ms']} ms  {row['label']}")
    save(args, results)


# --------------------------------------------------------------------------- main


def save(args, results: dict) -> None:
    (args.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False),
                                           encoding="utf-8")
    if args.results:
        from bench.report import render

        args.results.write_text(render(results), encoding="utf-8")


def run(args, argv: list[str]) -> dict:
    args.out.mkdir(parents=True, exist_ok=True)
    results_file = args.out / "results.json"
    results = json.loads(results_file.read_text(encoding="utf-8")) if (
        args.keep and results_file.is_file()) else {}
    commands = results.setdefault("commands", [])
    commands.append("python -m bench " + " ".join(argv))
    results["machine"] = system.machine()
    results["started"] = results.get("started") or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    stages = {"build": stage_build, "serve": stage_serve, "start": stage_start, "validate": stage_validate,
              "fixed-cost": stage_fixed_cost, "views": stage_views}
    for name in args.stages:
        log(f"stage {name}")
        try:
            stages[name](args, results)
        except Exception as exc:  # noqa: BLE001 - later stages still run; the report says what failed
            log(f"stage {name} failed: {exc}")
            results.setdefault("errors", {})[name] = traceback.format_exc()[-3000:]
        save(args, results)
    results["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    save(args, results)
    return results

"""The fixed cost of one request: ``crkg serve`` against a bare WSGI + pyoxigraph app.

    python -m bench.fixed_cost STORE [--n 600] [--append-results]

Issue 14 item 5: "the fixed cost per request within 1.5x of a bare gunicorn + WSGI +
pyoxigraph app in the same run". Three servers over the same store, started side by side:

* ``crkg serve`` with its default settings;
* the bare peer (``bench.peers.bare_wsgi``) under gunicorn (one sync worker), the issue's
  yardstick;
* the same bare peer under waitress, to tell the server's share from crkg's own.

Two queries whose engine time is (almost) nothing: ``ASK {}`` and the lookup of one
subject's triples. Each is sent sequentially by one client, over a new connection per
request (what urllib and SPARQLWrapper do) and over one keep-alive connection (gunicorn's
sync worker closes after each request, so it has no keep-alive row). The servers take
turns in rounds, so that the noise of a shared machine falls on all of them alike.
Reported per server: median and p90 wall time per request, and the CPU time the serving
processes (the server and its query workers, from ``/proc``) spent per request - the
fixed cost itself, which the other load on the machine does not inflate.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from bench import system
from bench.report import record_serving

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "import sys; from crkg.cli import main; sys.exit(main())"]
JSON = "application/sparql-results+json"


def _tree_cpu_seconds(pid: int) -> float:
    """utime + stime of *pid* and its descendants (Linux /proc), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in system.descendants(pid):  # pid itself included
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (after the comm field)
    return total / ticks


def _start(name: str, cmd: list[str], port: int, out: Path) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=open(out / f"{name}.log", "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    system.wait_for_http(f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", 120, proc)
    return proc


def _measure(port: int, path: str, n: int, keep_alive: bool) -> list[float]:
    times = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30) if keep_alive else None
    for _ in range(n):
        c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start = time.perf_counter()
        c.request("GET", path, headers={"Accept": JSON})
        response = c.getresponse()
        response.read()
        times.append(time.perf_counter() - start)
        if response.status != 200:
            raise RuntimeError(f"port {port}: {response.status} for {path}")
        if conn is None:
            c.close()
    if conn is not None:
        conn.close()
    return times


def run(store: str, n: int, rounds: int = 6) -> dict:
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    ports = {name: system.free_port() for name in ("crkg", "bare-gunicorn", "bare-waitress")}
    cmds = {
        "crkg": CLI + ["serve", "--store", store, "--port", str(ports["crkg"])],
        "bare-gunicorn": [sys.executable, "-m", "bench.peers.bare_wsgi", store, "--port",
                          str(ports["bare-gunicorn"]), "--server", "gunicorn"],
        "bare-waitress": [sys.executable, "-m", "bench.peers.bare_wsgi", store, "--port",
                          str(ports["bare-waitress"]), "--server", "waitress"],
    }
    procs = {}
    try:
        for name, cmd in cmds.items():
            procs[name] = _start(name, cmd, ports[name], out)
        conn = http.client.HTTPConnection("127.0.0.1", ports["crkg"], timeout=30)
        conn.request("GET", "/sparql?" + urllib.parse.urlencode(
            {"query": "SELECT ?s WHERE { ?s a ?t . FILTER(isIRI(?s)) } LIMIT 1"}), headers={"Accept": JSON})
        subject = json.loads(conn.getresponse().read())["results"]["bindings"][0]["s"]["value"]
        conn.close()
        queries = {"ASK {}": "ASK {}", "lookup": f"SELECT ?p ?o WHERE {{ <{subject}> ?p ?o }}"}
        rows = []
        for label, query in queries.items():
            path = "/sparql?" + urllib.parse.urlencode({"query": query})
            for keep_alive in (False, True):
                for name in procs:
                    if keep_alive and name == "bare-gunicorn":
                        continue
                    _measure(ports[name], path, 30, keep_alive)  # warm
                times: dict[str, list[float]] = {name: [] for name in procs}
                cpu: dict[str, float] = {name: 0.0 for name in procs}
                for _ in range(rounds):
                    for name in procs:
                        if keep_alive and name == "bare-gunicorn":
                            continue
                        before = _tree_cpu_seconds(procs[name].pid)
                        times[name] += _measure(ports[name], path, n // rounds, keep_alive)
                        cpu[name] += _tree_cpu_seconds(procs[name].pid) - before
                for name, ts in times.items():
                    if not ts:
                        continue
                    ts.sort()
                    rows.append({"query": label, "connection": "keep-alive" if keep_alive else "new",
                                 "server": name, "n": len(ts),
                                 "median_ms": round(1000 * statistics.median(ts), 3),
                                 "p90_ms": round(1000 * ts[int(0.9 * (len(ts) - 1))], 3),
                                 "cpu_ms_per_request": round(1000 * cpu[name] / len(ts), 3)})
    finally:
        for proc in procs.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(20)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
    return {"store": store, "machine": system.machine(), "rows": rows}


def markdown(result: dict, title: str | None = None) -> str:
    rows = result["rows"]
    base = {(r["query"], r["connection"]): r for r in rows if r["server"] == "bare-gunicorn"}
    title = title or (f"## Request fixed cost: crkg serve vs a bare WSGI + pyoxigraph app "
                      f"({time.strftime('%Y-%m-%d')}, `python -m bench.fixed_cost`)")
    lines = ["", title, "",
             "Sequential requests from one client, the servers taking turns; wall time per request "
             "and CPU time of the serving processes per request. Ratio: crkg over bare gunicorn "
             "(new connections; gunicorn's sync worker has no keep-alive).", "",
             "| query | connection | server | median ms | p90 ms | server CPU ms/request | ratio (median) | ratio (CPU) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ref = base.get((r["query"], "new"))
        ratio = f"{r['median_ms'] / ref['median_ms']:.2f}×" if ref else ""
        cpu_ratio = f"{r['cpu_ms_per_request'] / ref['cpu_ms_per_request']:.2f}×" if ref and ref["cpu_ms_per_request"] else ""
        lines.append(f"| {r['query']} | {r['connection']} | {r['server']} | {r['median_ms']} | {r['p90_ms']} | "
                     f"{r['cpu_ms_per_request']} | {ratio} | {cpu_ratio} |")
    lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fixed_cost")
    p.add_argument("store")
    p.add_argument("--n", type=int, default=600)
    p.add_argument("--append-results", action="store_true")
    args = p.parse_args(argv)
    result = run(str(Path(args.store).resolve()), args.n)
    record_serving(result, REPO / "bench" / "out" / "fixed_cost.json", markdown(result), args.append_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())

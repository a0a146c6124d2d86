"""Soak test of ``crkg serve`` under abuse (issue 13 item 5): not part of the timed suite.

    python -m bench.soak [--store DIR] [--seconds 60] [--append-results]

One ``crkg serve`` with its default settings, on 127.0.0.1, and at the same time:

* ``--clients`` (16) well-behaved clients, each from its own loopback address
  (127.0.1.x), sending mixed traffic for ``--seconds`` (60): small lookups and ASK (the
  "small queries" whose p50/p99 are reported), the competency questions of ``queries/cq``,
  Linked Data pages as HTML and the service description;
* ``--idle`` (32) sockets that connect and send nothing (127.0.2.1; reconnected when the
  server closes them);
* ``--slow`` (8) clients sending their request headers one byte a second (127.0.3.x;
  reconnected when closed);
* ``--runaways`` (8) clients each asking a cross-product query again and again
  (127.0.4.x).

Reported: requests and throughput of the well-behaved clients, p50/p99 of their small
queries, statuses by kind of client (for the abusive ones 429/503 are the expected
refusals), reconnects of the idle and slow sockets (the deadlines at work) and the RSS
of the serving processes (server and query workers) every 5 s. Loopback only; every
socket and thread is bounded by the run's duration. Linux (other loopback addresses).

Without ``--store`` the shipped data is built into a temporary folder first.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench import system
from bench.report import record_serving

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "import sys; from crkg.cli import main; sys.exit(main())"]
RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
           "?m ?n1 ?o . ?p ?q ?r }")
JSON = "application/sparql-results+json"
#: (status, start of the body) of every answer that was not a 200, for the report
_MESSAGES: collections.Counter = collections.Counter()


class Tally:
    """Thread-safe results: (who, kind) -> statuses and latencies."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.latency: dict[str, list[float]] = collections.defaultdict(list)
        self.reconnects = collections.Counter()

    def add(self, who: str, kind: str, status, seconds: float) -> None:
        with self.lock:
            self.statuses[who][str(status)] += 1
            if who == "client":
                self.latency[kind].append(seconds)


def _request(port: int, source: str, method: str, path: str, body: bytes | None = None,
             headers: dict | None = None, timeout: float = 60.0, who: str = "client"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    start = time.monotonic()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            text = body.decode("utf-8", "replace")
            if text.startswith("{"):  # the JSON error shape: its message
                text = json.loads(text).get("error", {}).get("message", text)
            else:
                text = text.split(": ", 1)[-1]
            _MESSAGES[(who, response.status, text[:60])] += 1
        return response.status, time.monotonic() - start
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__, time.monotonic() - start
    finally:
        conn.close()


def _sparql_get(query: str) -> str:
    return "/sparql?" + urllib.parse.urlencode({"query": query})


def _workload(port: int) -> dict[str, list]:
    """What the well-behaved clients ask: lookups of real subjects, the CQs, pages."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", _sparql_get("SELECT DISTINCT ?s WHERE { ?s a ?t . FILTER(isIRI(?s)) } LIMIT 300"),
                 headers={"Accept": JSON})
    rows = json.loads(conn.getresponse().read())["results"]["bindings"]
    conn.close()
    subjects = [r["s"]["value"] for r in rows]
    pages = ["/" + s.split("https://w3id.org/crkg/", 1)[1] for s in subjects
             if s.startswith("https://w3id.org/crkg/id/")][:100]
    cqs = [p.read_text(encoding="utf-8") for p in sorted((REPO / "queries" / "cq").glob("*.rq"))]
    return {
        "small": [_sparql_get(f"SELECT ?p ?o WHERE {{ <{s}> ?p ?o }}") for s in subjects]
                 + [_sparql_get("ASK { ?s ?p ?o }")],
        "cq": [_sparql_get(q) for q in cqs],
        "page": pages or ["/"],
        "description": ["/sparql"],
    }


def _client(port: int, source: str, work: dict, until: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    kinds = ["small"] * 6 + ["cq"] * 2 + ["page"] + ["description"]
    while time.monotonic() < until:
        kind = rng.choice(kinds)
        path = rng.choice(work[kind])
        accept = "text/html" if kind == "page" else ("text/turtle" if kind == "description" else JSON)
        status, seconds = _request(port, source, "GET", path, headers={"Accept": accept})
        tally.add("client", kind, status, seconds)


def _idle(port: int, source: str, count: int, until: float, tally: Tally) -> None:
    socks: list = [None] * count
    while time.monotonic() < until:
        for i, s in enumerate(socks):
            if s is None:
                try:
                    socks[i] = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
                    socks[i].setblocking(False)
                except OSError:
                    tally.reconnects["idle-failed"] += 1
                continue
            try:
                if s.recv(1024) == b"":  # closed by the server: the idle deadline
                    s.close()
                    socks[i] = None
                    tally.reconnects["idle"] += 1
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                socks[i] = None
                tally.reconnects["idle"] += 1
        time.sleep(0.5)
    for s in socks:
        if s is not None:
            s.close()


def _slow(port: int, source: str, until: float, tally: Tally) -> None:
    request = (b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\n"
               + b"X-Pad: " + b"a" * 400 + b"\r\n\r\n")
    while time.monotonic() < until:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
        except OSError:
            tally.reconnects["slow-failed"] += 1
            time.sleep(1)
            continue
        try:
            for byte in request:
                if time.monotonic() >= until:
                    break
                sock.send(bytes([byte]))
                time.sleep(1.0)
            else:
                tally.statuses["slow"]["sent-whole-request"] += 1
        except OSError:
            tally.reconnects["slow"] += 1  # closed by the server: the read deadline
        finally:
            sock.close()


def _runaway(port: int, source: str, until: float, tally: Tally) -> None:
    while time.monotonic() < until:
        status, seconds = _request(port, source, "GET", _sparql_get(RUNAWAY), headers={"Accept": JSON},
                                   timeout=max(1.0, until - time.monotonic() + 35), who="runaway")
        tally.add("runaway", "runaway", status, seconds)
        if status in (429, 503):
            time.sleep(1.0)  # as the Retry-After asks, roughly


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _build(tmp: Path) -> Path:
    store = tmp / "store"
    print("soak: building the shipped data into", store, file=sys.stderr, flush=True)
    subprocess.run(CLI + ["build", "--store", str(store), "--no-dist"], check=True, cwd=REPO)
    return store


def run(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="crkg-soak-"))
    store = Path(args.store) if args.store else _build(tmp)
    port = system.free_port()
    log_path = tmp / "serve.log"
    proc = subprocess.Popen(CLI + ["serve", "--store", str(store), "--port", str(port)], cwd=REPO,
                            stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    rss: list[tuple[float, float]] = []
    try:
        system.wait_for_http(f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", 120, proc)
        work = _workload(port)
        tally = Tally()
        start = time.monotonic()
        until = start + args.seconds
        threads = [threading.Thread(target=_idle, args=(port, "127.0.2.1", args.idle, until, tally))]
        threads += [threading.Thread(target=_slow, args=(port, f"127.0.3.{k + 1}", until, tally))
                    for k in range(args.slow)]
        threads += [threading.Thread(target=_runaway, args=(port, f"127.0.4.{k + 1}", until, tally))
                    for k in range(args.runaways)]
        for t in threads:
            t.daemon = True
            t.start()
        time.sleep(2.0)  # the abuse is in place before the measured traffic starts
        clients = [threading.Thread(target=_client, args=(port, f"127.0.1.{k + 1}", work, until, tally, k),
                                    daemon=True) for k in range(args.clients)]
        measured_from = time.monotonic()
        for t in clients:
            t.start()
        while time.monotonic() < until:
            rss.append((round(time.monotonic() - start, 1), round(system.tree_rss_mib(proc.pid), 1)))
            time.sleep(5.0)
        for t in clients:
            t.join(60)
        measured = time.monotonic() - measured_from
        for t in threads:
            t.join(45)
        rss.append((round(time.monotonic() - start, 1), round(system.tree_rss_mib(proc.pid), 1)))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    small = tally.latency["small"]
    everything = [x for v in tally.latency.values() for x in v]
    return {
        "settings": {"seconds": args.seconds, "clients": args.clients, "idle": args.idle,
                     "slow": args.slow, "runaways": args.runaways, "store": str(store)},
        "machine": system.machine(),
        "requests": len(everything),
        "throughput_per_s": round(len(everything) / measured, 1),
        "small": {"n": len(small), "p50_ms": round(1000 * _percentile(small, 0.5), 1),
                  "p99_ms": round(1000 * _percentile(small, 0.99), 1),
                  "max_ms": round(1000 * max(small), 1) if small else None},
        "by_kind_p50_ms": {k: round(1000 * statistics.median(v), 1) for k, v in sorted(tally.latency.items())},
        "by_kind_p99_ms": {k: round(1000 * _percentile(v, 0.99), 1) for k, v in sorted(tally.latency.items())},
        "statuses": {who: dict(c) for who, c in sorted(tally.statuses.items())},
        "reconnects": dict(tally.reconnects),
        "rss_mib": rss,
        "refusals": [[who, status, text, n] for (who, status, text), n in _MESSAGES.most_common(12)],
    }


def markdown(result: dict) -> str:
    s = result["settings"]
    m = result["machine"]
    small = result["small"]
    rss = result["rss_mib"]
    lines = [
        "",
        f"## Soak: `crkg serve` under abuse ({time.strftime('%Y-%m-%d')}, `python -m bench.soak`)",
        "",
        f"{s['clients']} well-behaved clients × {s['seconds']} s of mixed traffic (small lookups and ASK, "
        f"the competency questions, Linked Data pages, the service description), each from its own "
        f"loopback address, while {s['idle']} idle sockets, {s['slow']} clients sending headers one byte "
        f"a second and {s['runaways']} clients repeating a cross-product query ran at the same time. "
        f"`crkg serve` with its default settings (waitress front, 4 query workers, 4 long-query slots, preemption after 5 s). "
        f"Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores (shared with other work), "
        f"Python {m.get('python', '?')}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| requests of the well-behaved clients | {result['requests']} ({result['throughput_per_s']}/s) |",
        f"| small queries: n, p50, p99, max | {small['n']}, {small['p50_ms']} ms, {small['p99_ms']} ms, "
        f"{small['max_ms']} ms |",
        "| p50 / p99 by kind | " + ", ".join(f"{k} {v} / {result['by_kind_p99_ms'][k]} ms"
                                            for k, v in result["by_kind_p50_ms"].items()) + " |",
    ]
    for who, counts in result["statuses"].items():
        lines.append(f"| statuses, {who} | " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) + " |")
    lines.append("| sockets closed by the deadlines | " + ", ".join(
        f"{k}: {v}" for k, v in sorted(result["reconnects"].items())) + " |")
    lines.append("| RSS of server + query workers (MiB), every 5 s | "
                 + " ".join(f"{v:g}" for _, v in rss) + " |")
    lines.append("")
    if result.get("refusals"):
        lines.append("Answers other than 200, by message: " + "; ".join(
            f"{who} {status} \"{text.strip()}…\" ×{n}" for who, status, text, n in result["refusals"]) + ".")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--store", help="a built store (default: build the shipped data first)")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--idle", type=int, default=32)
    p.add_argument("--slow", type=int, default=8)
    p.add_argument("--runaways", type=int, default=8)
    p.add_argument("--out", default=str(REPO / "bench" / "out" / "soak.json"))
    p.add_argument("--append-results", action="store_true", help="append the table to bench/RESULTS.md (and bench/SERVING.md)")
    args = p.parse_args(argv)
    if not 1 <= args.seconds <= 600 or max(args.clients, args.idle, args.slow, args.runaways) > 64:
        p.error("bounded: at most 600 s and 64 sockets of each kind")
    result = run(args)
    record_serving(result, Path(args.out), markdown(result), args.append_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())

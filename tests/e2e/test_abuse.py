"""Issue 13 against a real ``crkg serve``: slow, idle and greedy clients, odd bodies.

Each test holds the abuse the issue measured (idle and slow-header sockets, runaway
queries, hang-ups, chunked and huge bodies) while a well-behaved client asks a small
query. Loopback only, bounded in count and time. Different clients are told apart by
their address, so the greedy ones connect from other loopback addresses (127.0.0.x,
which Linux routes to the loopback interface; elsewhere those tests are skipped).
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import Server, query_workers_of

pytestmark = pytest.mark.slow

RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
           "?m ?n1 ?o . ?p ?q ?r . ?s ?t ?u . ?v ?w ?x . ?y ?z ?aa }")
#: cheap, but not a lookup the web process answers itself: it needs a query worker
SMALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
TIMEOUT = 20.0  # long enough for a wave of runaways to settle on a loaded machine
FAST_WORKERS = 4  # the default


def _other_addresses_work() -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False


other_addresses = pytest.mark.skipif(not _other_addresses_work(),
                                     reason="needs 127.0.0.2.. on the loopback interface (Linux)")


@pytest.fixture(scope="module")
def abused(e2e_store, tmp_path_factory):
    store = tmp_path_factory.mktemp("abuse") / "store"
    store.symlink_to(e2e_store.resolve())  # its own path: its query processes can be counted
    srv = Server(store, env={"CRKG_QUERY_TIMEOUT": str(TIMEOUT), "CRKG_LONG_QUERIES": "4",
                             "CRKG_LONG_QUERY_PREEMPT_AFTER": "60",  # the counts below stay exact
                             "CRKG_REQUEST_READ_TIMEOUT": "5", "CRKG_QUERY_WORKERS": str(FAST_WORKERS)})
    srv.wait_ready()
    yield srv
    srv.stop()


def query(server, text: str, source: str = "127.0.0.1", timeout: float = 30.0):
    """(status, headers, body, seconds) of a GET query from *source*."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout, source_address=(source, 0))
    start = time.monotonic()
    try:
        conn.request("GET", "/sparql?" + urllib.parse.urlencode({"query": text}),
                     headers={"Accept": "application/sparql-results+json"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read(), time.monotonic() - start
    finally:
        conn.close()


def _wait_for(predicate, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _trickle(sock: socket.socket, stop: threading.Event) -> None:
    request = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100 + b"\r\n\r\n"
    for byte in request:
        if stop.wait(1.0):
            return
        try:
            sock.send(bytes([byte]))
        except OSError:
            return


def test_small_query_answers_while_idle_and_slow_header_sockets_are_open(abused):
    idle = [socket.create_connection(("127.0.0.1", abused.port)) for _ in range(32)]
    slow = [socket.create_connection(("127.0.0.1", abused.port)) for _ in range(8)]
    stop = threading.Event()
    threads = [threading.Thread(target=_trickle, args=(s, stop), daemon=True) for s in slow]
    try:
        for t in threads:
            t.start()
        time.sleep(1.5)  # every slow client has sent a byte or two
        for _ in range(5):
            status, _h, _b, seconds = query(abused, SMALL)
            assert status == 200 and seconds < 2.0, (status, seconds)
    finally:
        stop.set()
        for s in idle + slow:
            s.close()


def test_a_request_that_trickles_in_is_closed_at_the_read_deadline(abused):
    sock = socket.create_connection(("127.0.0.1", abused.port))
    stop = threading.Event()
    thread = threading.Thread(target=_trickle, args=(sock, stop), daemon=True)
    start = time.monotonic()
    thread.start()
    try:
        sock.settimeout(12)
        data = sock.recv(100)  # b"" when the server closes it (5 s + up to 1 s of checks)
        closed = time.monotonic() - start
        assert data == b"" and closed < 8.0, (data, closed)
    finally:
        stop.set()
        sock.close()


def test_a_fast_trickle_sees_the_close_not_a_reset(abused):
    # A client still sending when the read deadline passes: a plain close with its latest
    # bytes unread makes the kernel send a reset, which the client reads as an error. The
    # server shuts its write side first and drops what follows (crkg.web.front,
    # close_at_deadline). Three at once, 100 bytes a second each (without the half-close
    # about two in three saw ECONNRESET).
    head = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 5000 + b"\r\n\r\n"
    stop = threading.Event()

    def trickle(sock):
        for i in range(len(head)):
            if stop.wait(0.01):
                return
            try:
                sock.send(head[i:i + 1])
            except OSError:
                return

    socks = [socket.create_connection(("127.0.0.1", abused.port)) for _ in range(3)]
    threads = [threading.Thread(target=trickle, args=(s,), daemon=True) for s in socks]
    start = time.monotonic()
    for t in threads:
        t.start()
    seen = []
    try:
        for sock in socks:
            sock.settimeout(12)
            try:
                seen.append(sock.recv(100))
            except ConnectionResetError:
                seen.append("reset")
        assert seen == [b"", b"", b""] and time.monotonic() - start < 8.0, seen
    finally:
        stop.set()
        for sock in socks:
            sock.close()


@other_addresses
def test_small_query_answers_while_eight_runaways_run(abused):
    outcomes: list = []

    def runaway(k: int):
        outcomes.append(query(abused, RUNAWAY, source=f"127.0.0.{10 + k}"))

    threads = [threading.Thread(target=runaway, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    # during the wave (all eight in the fast lane or queued for it): answered, not refused
    status, _h, body, seconds = query(abused, SMALL)
    assert status == 200, (body, seconds)
    # the wave settles: four hold the long slots, four were refused a slot (503)
    assert _wait_for(lambda: len(outcomes) >= 4, TIMEOUT - 2), len(outcomes)
    assert len(outcomes) == 4, [(o[0], o[2][:70], round(o[3], 1)) for o in outcomes]
    for _ in range(5):  # while four runaways run on
        status, _h, _b, seconds = query(abused, SMALL)
        assert status == 200 and seconds < 2.0, (status, seconds)
    assert len(outcomes) == 4, "the long runaways stopped before the small queries were done"
    for t in threads:
        t.join(TIMEOUT + 10)
    statuses = sorted(o[0] for o in outcomes)
    assert len(statuses) == 8 and set(statuses) == {503}, statuses
    refused = [o for o in outcomes if b"slots for long queries" in o[2]]
    assert len(refused) == 4, [o[2][:80] for o in outcomes]
    assert all(o[1].get("Retry-After") for o in outcomes)


@other_addresses
def test_a_client_over_its_share_gets_429_with_retry_after(abused):
    outcomes: list = []
    threads = [threading.Thread(target=lambda: outcomes.append(query(abused, RUNAWAY, source="127.0.0.7")))
               for _ in range(5)]
    for t in threads:
        t.start()
    # one refused at once (4 at most), two refused a long slot (2 at most), two run on
    assert _wait_for(lambda: len(outcomes) >= 3, TIMEOUT - 1)
    # refused a long slot, that client cools down; a lookup is still answered, others too
    status, headers, _b, _s = query(abused, SMALL, source="127.0.0.7")
    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert query(abused, "ASK {}", source="127.0.0.7")[0] == 200
    assert query(abused, SMALL)[0] == 200
    for t in threads:
        t.join(TIMEOUT + 10)
    statuses = sorted(o[0] for o in outcomes)
    assert statuses == [429, 429, 429, 503, 503], [(o[0], o[2][:60]) for o in outcomes]
    assert all(o[1].get("Retry-After") for o in outcomes if o[0] == 429)


def _long_pids(server) -> set[int]:
    """The query processes running long queries: those reniced to yield the CPU (Linux)."""
    found = set()
    for pid in query_workers_of(server.process.pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[16]) > 0 and fields[0] not in ("Z", "X"):  # nice; not a zombie
            found.add(pid)
    return found


def test_a_hung_up_client_frees_its_worker_within_a_second(abused):
    assert _wait_for(lambda: not _long_pids(abused), 15)
    # the hung-up client cools down afterwards: from another address where there is one
    source = ("127.0.0.8", 0) if _other_addresses_work() else None
    sock = socket.create_connection(("127.0.0.1", abused.port), source_address=source)
    sock.sendall(b"GET /sparql?" + urllib.parse.urlencode({"query": RUNAWAY}).encode()
                 + b" HTTP/1.1\r\nHost: x\r\nAccept: application/sparql-results+json\r\n\r\n")
    assert _wait_for(lambda: len(_long_pids(abused)) == 1, TIMEOUT / 2), "the runaway did not become long"
    sock.close()
    start = time.monotonic()
    assert _wait_for(lambda: not _long_pids(abused), 1.0), "the query still runs after the hang-up"
    assert time.monotonic() - start <= 1.0
    assert query(abused, SMALL)[0] == 200


def _raw(server, head: bytes, body_parts=()) -> bytes:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n")[0]
    finally:
        sock.close()


CHUNKED_HEAD = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")


def test_a_chunked_body_over_the_cap_is_413_not_cut_and_run(abused):
    chunk = b"#" * 100_000 + b"\n"
    parts = [b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(11)]  # 1.1 MB > 1 MB
    # a valid query after the cap: cut at the cap, the prefix would run and answer 200
    tail = b"ASK {}"
    parts += [b"%x\r\n" % len(tail) + tail + b"\r\n", b"0\r\n\r\n"]
    assert _raw(abused, CHUNKED_HEAD, parts) == b"HTTP/1.1 413 Request Entity Too Large"


def test_a_malformed_chunk_is_400(abused):
    assert _raw(abused, CHUNKED_HEAD, [b"zz\r\nASK {}\r\n0\r\n\r\n"]) == b"HTTP/1.1 400 Bad Request"


def test_urllib_reads_the_413_of_a_64_mb_body(abused):
    body = b"#" * (64 * 1024 * 1024)
    request = urllib.request.Request(abused.endpoint, data=body,
                                     headers={"Content-Type": "application/sparql-query"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=60)
    error.value.close()
    assert error.value.code == 413
    assert query(abused, SMALL)[0] == 200


@other_addresses
def test_connections_per_client_address_are_limited(e2e_store):
    srv = Server(e2e_store, env={"CRKG_CONNECTIONS_PER_CLIENT": "4"})
    srv.wait_ready()
    held = [socket.create_connection(("127.0.0.1", srv.port), source_address=("127.0.0.5", 0))
            for _ in range(4)]
    try:
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", srv.port), source_address=("127.0.0.5", 0))
        extra.settimeout(5)
        answer = extra.recv(4096)
        extra.close()
        assert answer.startswith(b"HTTP/1.1 429 "), answer[:80]
        assert b"Retry-After:" in answer
        assert query(srv, SMALL, source="127.0.0.6")[0] == 200  # another address is served
    finally:
        for s in held:
            s.close()
        srv.stop()


def test_behind_a_trusted_proxy_the_client_is_the_forwarded_address():
    from crkg.web.config import Config
    from crkg.web.front import make_server

    seen = []

    def app(environ, start_response):
        seen.append(environ["REMOTE_ADDR"])
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    for proxy in ("", "127.0.0.1"):
        server = make_server(app, Config(TRUSTED_PROXY=proxy), "127.0.0.1", 0)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        conn = http.client.HTTPConnection("127.0.0.1", int(server.effective_port), timeout=10)
        conn.request("GET", "/", headers={"X-Forwarded-For": "203.0.113.7"})
        conn.getresponse().read()
        conn.close()
        time.sleep(0.2)  # the task has finished before the server closes
        server.task_dispatcher.shutdown()
        server.close()
    # not trusted: the header is the client's to invent; trusted: the proxy names the client
    assert seen == ["127.0.0.1", "203.0.113.7"]

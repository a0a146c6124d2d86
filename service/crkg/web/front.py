"""The front server of ``crkg serve``: waitress, with deadlines and per-address limits.

Why waitress (issue 13, issue 15): it runs on Linux, macOS and Windows (pure Python), and
it reads every request - line, headers and body - in one asynchronous I/O loop, handing a
request to a worker thread only once it has fully arrived. A client that sends one header
byte a second, or nothing at all, therefore costs a socket, never a thread: the threads
stay free for requests that have arrived. gunicorn's sync and gthread workers read the
request on the worker itself (gunicorn's documentation asks for a buffering proxy such as
nginx in front), and gunicorn does not run on Windows.

What this module adds to waitress (the settings are in ``crkg.web.config.Config``, block
"serving"):

* **read deadline**: a request must arrive whole within ``REQUEST_READ_TIMEOUT`` seconds of
  its first byte (waitress alone only closes a connection that is *silent* for
  ``channel_timeout``: a trickle of one byte a second would hold it for ever);
* **idle deadline**: a keep-alive connection with no request in flight is closed after
  ``IDLE_TIMEOUT`` seconds;
* **connections per client address** (``CONNECTIONS_PER_CLIENT``): one more is answered
  ``429 Too Many Requests`` with ``Retry-After`` and closed; all clients together are held
  to ``CONNECTION_LIMIT`` (waitress stops accepting above it, new ones wait in the backlog);
* **a 413 the client can read**: waitress answers a body over the cap (``Content-Length``
  or chunked) with 413 and a malformed chunk with 400, then closes the socket - with the
  rest of the body unread, which makes the kernel reset the connection, so a client still
  sending (``http.client``, ``urllib``, SPARQLWrapper: they send the whole body before
  reading) sees a broken pipe instead of the answer. Here the connection is half-closed
  after the response and what the client still sends is read and discarded, up to
  ``DISCARD_LIMIT_BYTES`` or ``REQUEST_READ_TIMEOUT``, before it is closed ("lingering
  close", as Apache and nginx do);
* **behind a reverse proxy** (``TRUSTED_PROXY``): its ``X-Forwarded-For`` names the client
  whose share of queries is counted (the connection limit then counts the proxy's own
  connections: raise ``CONNECTIONS_PER_CLIENT``);
* **client disconnect visible to the app**: ``environ["waitress.client_disconnected"]()``
  peeks at the socket (``_Channel.check_client_disconnected``), so a hang-up is seen
  while the request is served; ``crkg.store.admission`` uses it to cancel that client's
  query.
"""

from __future__ import annotations

import socket
import sys
import time

from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

#: How often the deadlines are checked, seconds (waitress's ``cleanup_interval``).
_MAINTENANCE_INTERVAL = 1


def _refusal(retry_after: int) -> bytes:
    body = (b"429 Too Many Requests: this client address has too many connections open; "
            b"close some and try again\n")
    return (b"HTTP/1.1 429 Too Many Requests\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n"
            b"Retry-After: " + str(retry_after).encode() + b"\r\n"
            b"Connection: close\r\n\r\n" + body)


class _Channel(HTTPChannel):
    """One client connection, with the deadlines and the lingering close."""

    def __init__(self, server, sock, addr, adj, map=None):
        self.request_started: float | None = None  # first byte of the request being read
        self.lingering = False  # response sent, write side shut, input discarded
        self.lingered = False  # the lingering is over: the next close is final
        self.linger_until = 0.0
        self.discarded = 0
        self.discard_wanted = False  # an errored request left a body unread
        super().__init__(server, sock, addr, adj, map)
        server.client_opened(self)

    # -- reading ------------------------------------------------------------------------

    def readable(self):
        if self.lingering:
            return True
        return super().readable()

    def writable(self):
        if self.lingering:
            return False
        return super().writable()

    def handle_read(self):
        if not self.lingering:
            return super().handle_read()
        try:
            data = self.recv(self.adj.recv_bytes)
        except OSError:
            data = b""
        self.discarded += len(data)
        if not data or self.discarded > self.server.discard_limit:
            self._close_now()

    def received(self, data):
        if self.discard_wanted:
            # after an error the rest of the input is not a request: count and drop it
            self.discarded += len(data)
            if self.discarded > self.server.discard_limit:
                self.will_close = True
            return True
        if self.request is None:
            self.request_started = time.monotonic()
        result = super().received(data)
        with self.requests_lock:
            if any(r.error is not None for r in self.requests):
                # waitress answers the error and closes; what follows it is no request
                self.discard_wanted = True
                self.request = None
            if self.request is None:
                self.request_started = None
        return result

    def check_client_disconnected(self):
        """Has the client hung up? (``environ["waitress.client_disconnected"]``)

        Waitress learns of a hang-up only by reading, which it does while a request is
        served only with ``channel_request_lookahead`` - measured at ~0.3 ms per request.
        Instead the socket is peeked at when the app asks (every 0.1 s while a query
        runs in a worker process): end of file is a hang-up. A client that half-closes
        after its request counts as gone too.
        """
        if not self.connected:
            return True
        try:
            return self.socket.recv(1, socket.MSG_PEEK) == b""  # the socket is non-blocking
        except BlockingIOError:
            return False
        except OSError:
            return True

    # -- closing ------------------------------------------------------------------------

    def handle_close(self):
        if self.discard_wanted and not self.lingering and not self.lingered and self.connected:
            # the response is flushed (waitress calls this once it is): half-close and
            # read on, so the client can finish sending and then read the error
            try:
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                return self._close_now()
            self.lingering = True
            self.will_close = False
            self.close_when_flushed = False
            self.linger_until = time.monotonic() + self.server.read_timeout
            return None
        return self._close_now()

    def close_at_deadline(self):
        """End a connection past its read deadline so that the client sees the end.

        Closed while the client is still sending (a trickling request's next byte), the
        kernel answers with a reset, which a client reads as an error, not as the server
        closing (the read-deadline test saw ``ECONNRESET`` about one time in three with a
        fast trickle). So, as for a refused body: the write side is shut (the client reads
        end of file), what still comes is read and dropped, and the socket is closed when
        the client closes its side, or at the latest one read deadline later, or past the
        discard limit (``handle_read``, ``FrontServer.maintenance``)."""
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            self.will_close = True
            return
        self.request = None
        self.request_started = None
        self.lingering = True
        self.linger_until = time.monotonic() + self.server.read_timeout

    def _close_now(self):
        self.lingering = False
        self.lingered = True
        return super().handle_close()

    def del_channel(self, map=None):
        self.server.client_closed(self)
        super().del_channel(map)


class FrontServer(TcpWSGIServer):
    """waitress's TCP server with per-address connection counts and request deadlines."""

    channel_class = _Channel

    def __init__(self, application, *, connections_per_client: int, read_timeout: float,
                 idle_timeout: float, discard_limit: int, retry_after: int, **kw):
        self.connections_per_client = connections_per_client
        self.read_timeout = read_timeout
        self.idle_timeout = idle_timeout
        self.discard_limit = discard_limit
        self.retry_after = retry_after
        self.per_address: dict[str, int] = {}
        self.refused = 0
        super().__init__(application, **kw)

    # -- per-address accounting (all on the I/O loop's thread) -------------------------

    def client_opened(self, channel) -> None:
        address = channel.addr[0] if isinstance(channel.addr, tuple) else str(channel.addr)
        channel.client_address = address
        self.per_address[address] = self.per_address.get(address, 0) + 1

    def client_closed(self, channel) -> None:
        address = getattr(channel, "client_address", None)
        if address is None or address not in self.per_address:
            return
        self.per_address[address] -= 1
        if self.per_address[address] <= 0:
            del self.per_address[address]
        channel.client_address = None  # counted once, however often del_channel runs

    def handle_accept(self):
        try:
            accepted = self.accept()
        except OSError:
            return
        if accepted is None:
            return
        conn, addr = accepted
        address = addr[0] if isinstance(addr, tuple) else str(addr)
        if self.per_address.get(address, 0) >= self.connections_per_client:
            self.refused += 1
            self._refuse(conn)
            return
        try:
            self.set_socket_options(conn)
        except OSError:
            conn.close()
            return
        self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)

    def _refuse(self, conn: socket.socket) -> None:
        """Answer 429 without a channel: best effort, never blocking the I/O loop."""
        try:
            conn.setblocking(False)
            conn.send(_refusal(self.retry_after))
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            conn.close()

    # -- deadlines ----------------------------------------------------------------------

    def maintenance(self, now):
        """Close connections past a deadline (waitress calls this every cleanup interval)."""
        mono = time.monotonic()
        for channel in list(self.active_channels.values()):
            if channel.lingering:
                if mono > channel.linger_until:  # closed by the I/O loop, next round
                    channel.lingering, channel.lingered, channel.will_close = False, True, True
                continue
            if channel.requests:
                continue  # being answered: the query's own time limit applies
            started = channel.request_started
            if started is not None and mono - started > self.read_timeout:
                channel.close_at_deadline()  # a request trickling in for too long
            elif started is None and now - channel.last_activity > self.idle_timeout:
                channel.will_close = True  # silent: nothing unread, a plain close is clean


def make_server(app, config, host: str, port: int) -> FrontServer:
    """The front server for *app* on *host*:*port*, configured from *config*."""
    kw = dict(
        host=host,
        port=port,
        threads=config.SERVER_THREADS,
        connection_limit=config.CONNECTION_LIMIT,
        # waitress refuses a body of max_request_body_size bytes or more; the cap allows it
        max_request_body_size=config.MAX_REQUEST_BYTES + 1,
        # the URL of a GET query may be up to the cap too (the app answers 414 above it)
        max_request_header_size=config.MAX_REQUEST_BYTES + 65536,
        channel_timeout=max(int(config.IDLE_TIMEOUT), int(config.REQUEST_READ_TIMEOUT)) + 1,
        cleanup_interval=_MAINTENANCE_INTERVAL,
        # poll() has no FD_SETSIZE limit; Windows has only select()
        asyncore_use_poll=sys.platform != "win32",
        ident="crkg",
        # the app reads no X-Forwarded-* header: no proxy-header middleware (a cost per
        # request) unless a proxy is trusted to name the client (REMOTE_ADDR from it)
        clear_untrusted_proxy_headers=bool(config.TRUSTED_PROXY),
        expose_tracebacks=False,
    )
    if config.TRUSTED_PROXY:
        kw.update(trusted_proxy=config.TRUSTED_PROXY, trusted_proxy_count=1,
                  trusted_proxy_headers={"x-forwarded-for"})
    # built as waitress.create_server does (it has no hook for the server class)
    from waitress.adjustments import Adjustments
    from waitress.task import ThreadedTaskDispatcher

    adj = Adjustments(**kw)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    if len(adj.listen) != 1:
        raise ValueError(f"one address to listen on, not {len(adj.listen)}")
    return FrontServer(
        app,
        connections_per_client=config.CONNECTIONS_PER_CLIENT,
        read_timeout=config.REQUEST_READ_TIMEOUT,
        idle_timeout=config.IDLE_TIMEOUT,
        discard_limit=config.DISCARD_LIMIT_BYTES,
        retry_after=config.RETRY_AFTER,
        map={},
        dispatcher=dispatcher,
        adj=adj,
        sockinfo=adj.listen[0],
    )

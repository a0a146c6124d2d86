"""``crkg serve``: the SPARQL endpoint and Linked Data pages, through waitress.

Builds the store first if it is missing or older than its sources
(``crkg.pipeline.build.ensure_built``), then serves it read-only from one process: the
front server (``crkg.web.front``, waitress: Linux, macOS and Windows alike) reads each
request whole in its I/O loop and hands it to one of ``SERVER_THREADS`` threads; queries
run in the store's pool of query processes (``crkg.store.embedded``), under the admission
rules of ``crkg.store.admission``. Ctrl-C or SIGTERM stops gracefully. ``--backend URL``
serves a remote SPARQL 1.1 endpoint instead of the embedded store.

Settings not on the command line come from ``CRKG_*`` environment variables
(``crkg.config.Config``), e.g. ``CRKG_QUERY_TIMEOUT=10``; the options' defaults are that
object's (``HOST``, ``PORT``, ``QUERY_WORKERS``, ``SERVER_THREADS``).

Why one process and not gunicorn's several: a query runs in a query process anyway (the
only way to stop it), so the web process only parses, negotiates and copies bytes; one
process means one pool of query processes and one set of per-client counts, the same on
every platform (gunicorn forks, which Windows cannot, and its workers read requests on
the worker itself, which is what let slow clients starve it).
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
from pathlib import Path

import click

from crkg.config import Config
from crkg.errors import CrkgError


@click.command("serve")
@click.option("--host", default=None, help=f"Interface to listen on (default: {Config.HOST}, or CRKG_HOST).")
@click.option("--port", default=None, type=click.IntRange(0, 65535),
              help=f"TCP port (default: {Config.PORT}, or CRKG_PORT).")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The embedded store (default: var/store, or CRKG_STORE_DIR).")
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help=f"Query worker processes of the fast lane (default: {Config.QUERY_WORKERS}, or CRKG_QUERY_WORKERS).")
@click.option("--threads", default=None, type=click.IntRange(1, 256),
              help=f"Threads answering requests (default: {Config.SERVER_THREADS}, or CRKG_SERVER_THREADS).")
@click.option("--backend", default=None, metavar="URL",
              help="Serve a remote SPARQL 1.1 query endpoint instead of the embedded store.")
def command(host, port, store_dir, workers, threads, backend):
    """Serve the SPARQL endpoint and Linked Data pages (builds the store if needed)."""
    serve(host=host, port=port, store_dir=store_dir, workers=workers, threads=threads, backend=backend)


def serve(*, host: str | None = None, port: int | None = None, store_dir: Path | None = None,
          workers: int | None = None, threads: int | None = None, backend: str | None = None) -> None:
    """Serve with the settings of ``Config.from_env()``; a given argument wins over it."""
    given = {"HOST": host, "PORT": port, "QUERY_WORKERS": workers, "SERVER_THREADS": threads,
             "BACKEND": backend or None, "STORE_DIR": None if store_dir is None else str(store_dir)}
    config = Config.from_env(**{k: v for k, v in given.items() if v is not None})
    host, port = config.HOST, config.PORT
    _check_port(host, port)
    checker = None if config.BACKEND else _start_store_check(Path(config.STORE_DIR))
    from crkg.web.app import create_app
    from crkg.web.front import make_server

    if checker is not None:
        status = checker.wait()
        if status != 0:
            raise SystemExit(status)  # the check printed why
    app = create_app(config)
    # "Task queue depth is N" is waitress's note that requests wait for a thread; with the
    # admission rules that is the expected state under load, not a warning each time
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = make_server(app, config, host, port)
    # the service description names the address served, not a client's Host header
    server.server_name = _shown_host(host)
    url = _url(host, server.effective_port)
    click.echo(f"crkg: serving {config.BACKEND or config.STORE_DIR} at {url}  "
               f"(SPARQL endpoint {url}sparql); Ctrl-C stops", err=True)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.run()  # returns after Ctrl-C / SIGTERM; waitress stops its threads
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        app.extensions["crkg.store"].close()


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def _start_store_check(store_dir: Path) -> subprocess.Popen:
    """Build the store if missing or stale, in a child process.

    Not in this process: a process that has opened a RocksDB store keeps RocksDB's
    background threads (measured: 4 threads stay after the store is closed), and the
    build's memory (rdflib graphs) is given back to the system only when its process ends.
    """
    return subprocess.Popen([sys.executable, "-c", "import sys; from crkg.commands.serve import "
                             "ensure_store_main; ensure_store_main(sys.argv[1])", str(store_dir)])


def ensure_store_main(store_dir: str) -> None:
    """Entry point of the store check: exit 0 when the store is ready to serve."""
    try:
        _ensure_store(Path(store_dir))
    except CrkgError as exc:  # reported as crkg.cli.main reports it
        click.echo(f"crkg: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


def _ensure_store(store_dir: Path) -> None:
    try:
        from crkg.pipeline.build import ensure_built
    except ImportError as exc:  # the build is not installed with this checkout
        if not store_dir.is_dir():
            raise CrkgError(f"no store at {store_dir} and the build is unavailable ({exc})") from exc
        return
    ensure_built(store_dir)
    if not store_dir.is_dir():
        raise CrkgError(f"no store at {store_dir}: `crkg build --store {store_dir}` makes one")


def _check_port(host: str, port: int) -> None:
    """Fail with a clear message (exit 2) before the build runs, not after it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if sys.platform != "win32":  # on Windows SO_REUSEADDR would bind a port in use
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CrkgError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def _shown_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def _url(host: str, port: int) -> str:
    shown = _shown_host(host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"

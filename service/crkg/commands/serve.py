"""``crkg serve``: the SPARQL endpoint and Linked Data pages, through gunicorn.

Builds the store first if it is missing or older than its sources
(``crkg.pipeline.build.ensure_built``), then serves it read-only with several gunicorn
worker processes (threads inside each, so a slow query does not block its neighbours);
each web worker opens the store with its own pool of query processes
(``crkg.store.embedded``). Ctrl-C or SIGTERM stops gracefully. ``--backend URL`` serves a
remote SPARQL 1.1 endpoint instead of the embedded store.

Settings not on the command line come from ``CRKG_*`` environment variables
(``crkg.config.Config``), e.g. ``CRKG_QUERY_TIMEOUT=10``; the options' defaults are that
object's (``HOST``, ``PORT``, ``WEB_WORKERS``, ``WEB_THREADS``).
"""

from __future__ import annotations

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
              help=f"Web worker processes (default: {Config.WEB_WORKERS}, or CRKG_WEB_WORKERS); "
                   "each has its own query processes, CRKG_QUERY_WORKERS.")
@click.option("--backend", default=None, metavar="URL",
              help="Serve a remote SPARQL 1.1 query endpoint instead of the embedded store.")
def command(host, port, store_dir, workers, backend):
    """Serve the SPARQL endpoint and Linked Data pages (builds the store if needed)."""
    serve(host=host, port=port, store_dir=store_dir, workers=workers, backend=backend)


def serve(*, host: str | None = None, port: int | None = None, store_dir: Path | None = None,
          workers: int | None = None, backend: str | None = None) -> None:
    """Serve with the settings of ``Config.from_env()``; a given argument wins over it."""
    given = {"HOST": host, "PORT": port, "WEB_WORKERS": workers, "BACKEND": backend or None,
             "STORE_DIR": None if store_dir is None else str(store_dir)}
    config = Config.from_env(**{k: v for k, v in given.items() if v is not None})
    host, port, workers = config.HOST, config.PORT, config.WEB_WORKERS
    _check_port(host, port)
    checker = None if config.BACKEND else _start_store_check(Path(config.STORE_DIR))
    _preload()  # meanwhile
    if checker is not None:
        status = checker.wait()
        if status != 0:
            raise SystemExit(status)  # the check printed why
    _Server(config, host, port, workers).run()


def _start_store_check(store_dir: Path) -> subprocess.Popen:
    """Build the store if missing or stale, in a child process.

    Not in this process: gunicorn forks its workers from it, and a process that has
    opened a RocksDB store keeps RocksDB's background threads (measured: 4 threads stay
    after the store is closed); workers forked from it crash (SIGSEGV) on exit.
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


def _preload() -> None:
    """Import the web modules once in gunicorn's master, so every forked worker has them.

    Only imports: the app and its store (and the store's query processes) are made in each
    worker after the fork. Measured on the shipped data: the first query is answered
    ~0.4 s sooner after start.
    """
    import importlib

    import crkg.web.app as web_app

    for spec in web_app.BLUEPRINTS:
        try:
            importlib.import_module(spec.split(":")[0])
        except ModuleNotFoundError:
            pass  # create_app skips a blueprint not written yet, and says nothing either
    import crkg.namespaces  # noqa: F401 - the prefixes the store serialises with
    import crkg.store.embedded  # noqa: F401


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
    """Fail with a clear message (exit 2) rather than gunicorn's retry loop."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CrkgError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _server_class():
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def __init__(self, config, host, port, workers):
            self.crkg_config = config
            self.options = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers,
                # threads: a web worker keeps answering while one of its requests waits
                # on a slow query (the query itself runs in a separate process)
                "worker_class": "gthread",
                "threads": config.WEB_THREADS,
                # gunicorn must not kill a worker that waits on a query the store will stop
                "timeout": int(config.QUERY_TIMEOUT) + 30,
                "graceful_timeout": 5,
                # GET queries can be long; the app answers 414 above MAX_REQUEST_BYTES
                "limit_request_line": 0,
                "proc_name": "crkg",
                "errorlog": "-",
                "loglevel": "warning",
                "when_ready": self._ready,
            }
            self.url = _url(host, port)
            super().__init__()

        def _ready(self, arbiter):
            backend = self.crkg_config.BACKEND or self.crkg_config.STORE_DIR
            click.echo(
                f"crkg: serving {backend} at {self.url}  (SPARQL endpoint {self.url}sparql); "
                "Ctrl-C stops",
                err=True,
            )

        def load_config(self):
            for key, value in self.options.items():
                self.cfg.set(key, value)

        def load(self):
            from crkg.web.app import create_app

            return create_app(self.crkg_config)

    return Server


def _Server(config, host, port, workers):  # noqa: N802 - reads like the class it builds
    return _server_class()(config, host, port, workers)

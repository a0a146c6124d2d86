"""``crkg query``: run one SPARQL query against the built store and print the results.

``QUERY`` is the query text, ``@FILE`` a file holding it, or ``-`` for standard input.
The same engine, guards and formats as the ``/sparql`` endpoint, without the row cap
unless ``--max-rows`` is given.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from crkg import formats
from crkg.errors import CrkgError

#: ``--format`` names: those of ``?format=`` at /sparql (``crkg.formats``)
FORMATS = formats.names(formats.RESULT_FORMATS + formats.RDF_FORMATS)
#: What a terminal reads best when no ``--format`` is given.
DEFAULT_RESULT = "text/csv"


@click.command("query")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The embedded store (default: var/store, or CRKG_STORE_DIR).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Result format (default: csv for SELECT/ASK, turtle for CONSTRUCT/DESCRIBE).")
@click.option("--timeout", type=float, default=None, help="Seconds before the query is stopped.")
@click.option("--max-rows", type=int, default=None, help="Cut the result after this many rows.")
@click.argument("query_text", metavar="QUERY|@FILE|-")
def command(store_dir, fmt, timeout, max_rows, query_text):
    """Run a SPARQL query against the built store."""
    body = run_query(read_query(query_text), store_dir=store_dir, fmt=fmt, timeout=timeout,
                     max_rows=max_rows)
    sys.stdout.buffer.write(body)
    if body and not body.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    sys.stdout.buffer.flush()


def read_query(text: str) -> str:
    if text == "-":
        return sys.stdin.read()
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CrkgError(f"cannot read the query file {path}: {exc}") from exc
    return text


def run_query(query: str, *, store_dir: Path | None = None, fmt: str | None = None,
              timeout: float | None = None, max_rows: int | None = None) -> bytes:
    from crkg.config import Config
    from crkg.store.base import QueryError
    from crkg.store.embedded import EmbeddedStore

    config = Config.for_command(store_dir)
    with EmbeddedStore.from_config(config, workers=1) as store:
        try:
            info = store.inspect(query)  # the guard, once: the store trusts this verdict
        except QueryError as exc:
            raise CrkgError(f"the query is not valid: {exc}") from exc
        graph = info.form in ("construct", "describe")
        offered = formats.RDF_FORMATS if graph else formats.RESULT_FORMATS
        if fmt:
            chosen = formats.by_name(fmt, offered)
            if chosen is None:
                kind = "CONSTRUCT/DESCRIBE" if graph else "SELECT/ASK"
                raise CrkgError(f"--format {fmt} does not fit a {kind} query")
            media_type = chosen.media_type
        else:
            media_type = formats.DEFAULT_GRAPH if graph else DEFAULT_RESULT
        try:
            result = store.query(query, media_type=media_type, info=info,
                                 timeout=timeout or config.QUERY_TIMEOUT, max_rows=max_rows)
        except QueryError as exc:
            raise CrkgError(f"the query is not valid: {exc}") from exc
    if result.truncated:
        click.echo(f"crkg: the result was cut at {max_rows} rows (--max-rows)", err=True)
    return result.body

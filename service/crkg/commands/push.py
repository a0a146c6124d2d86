"""``crkg push``: load every named graph of the built store into an external SPARQL 1.1 store."""

from __future__ import annotations

from pathlib import Path

import click

from crkg.config import Config
from crkg.errors import CrkgError
from crkg.namespaces import GRAPH


@click.command(name="push")
@click.option("--endpoint", required=True, metavar="URL",
              help="SPARQL 1.1 endpoint of the target; takes the updates unless --update-endpoint "
                   "is given (Virtuoso: http://HOST:8890/sparql-auth).")
@click.option("--update-endpoint", metavar="URL", help="SPARQL 1.1 Update endpoint, if not --endpoint "
              "(GraphDB: .../repositories/ID/statements).")
@click.option("--graph-store", metavar="URL", help="SPARQL 1.1 Graph Store Protocol endpoint: PUT one "
              "request per graph instead of SPARQL Update (Virtuoso: .../sparql-graph-crud-auth, "
              "Fuseki: .../DATASET/data).")
@click.option("--user", help="user name (HTTP Digest or Basic, whichever the target asks for)")
@click.option("--password", help="password (or the CRKG_PUSH_PASSWORD environment variable)",
              envvar="CRKG_PUSH_PASSWORD")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=None,
              help="the built store to push (default: var/store, or CRKG_STORE_DIR)")
@click.option("--batch-size", default=None, type=click.IntRange(1),
              help="triples per INSERT DATA request (Virtuoso: fastest near 100, refuses ~2000; "
                   f"default: {Config.PUSH_BATCH_SIZE}, or CRKG_PUSH_BATCH_SIZE)")
@click.option("--prune/--no-prune", default=True, show_default=True,
              help=f"drop graphs under {GRAPH} that the store no longer has")
@click.option("--timeout", default=None, type=float,
              help=f"seconds per request (default: {Config.PUSH_TIMEOUT:g}, or CRKG_PUSH_TIMEOUT)")
def command(endpoint, update_endpoint, graph_store, user, password, store_dir, batch_size, prune, timeout):
    """Load every named graph of the built store into an existing SPARQL 1.1 store.

    Each graph is replaced, so pushing twice never duplicates a triple; afterwards the
    triples of each graph are counted in the target and compared with the store.
    """
    from crkg.link.push import GraphWriter, graphs_of, push
    from crkg.store.embedded import EmbeddedStore

    config = Config.for_command(store_dir)
    if not Path(config.STORE_DIR).exists():
        raise CrkgError(f"no built store at {config.STORE_DIR}: run `crkg build` first")
    if password and not user:
        raise click.UsageError("--password needs --user")
    writer = GraphWriter(update_endpoint or endpoint, graph_store_url=graph_store,
                         query_url=endpoint, user=user, password=password,
                         timeout=config.PUSH_TIMEOUT if timeout is None else timeout,
                         batch_size=config.PUSH_BATCH_SIZE if batch_size is None else batch_size)
    store = EmbeddedStore.from_config(config, workers=1)
    try:
        push(graphs_of(store), writer, prune=prune, progress=lambda m: click.echo(m, err=True))
    finally:
        store.close()

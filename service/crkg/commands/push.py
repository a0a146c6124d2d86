"""``crkg push``: load every named graph of the built store into an external SPARQL 1.1 store."""

from __future__ import annotations

from pathlib import Path

import click

from crkg.errors import CrkgError
from crkg.paths import DEFAULT_STORE_DIR


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
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=DEFAULT_STORE_DIR,
              show_default=True, help="the built store to push")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1),
              help="triples per INSERT DATA request (Virtuoso: fastest near 100, refuses ~2000)")
@click.option("--prune/--no-prune", default=True, show_default=True,
              help="drop graphs under https://w3id.org/crkg/graph/ that the store no longer has")
@click.option("--timeout", default=300.0, show_default=True, help="seconds per request")
def command(endpoint, update_endpoint, graph_store, user, password, store_dir, batch_size, prune, timeout):
    """Load every named graph of the built store into an existing SPARQL 1.1 store.

    Each graph is replaced, so pushing twice never duplicates a triple; afterwards the
    triples of each graph are counted in the target and compared with the store.
    """
    from crkg.link.push import GraphWriter, graphs_of, push
    from crkg.store.embedded import EmbeddedStore

    if not Path(store_dir).exists():
        raise CrkgError(f"no built store at {store_dir}: run `crkg build` first")
    if password and not user:
        raise click.UsageError("--password needs --user")
    writer = GraphWriter(update_endpoint or endpoint, graph_store_url=graph_store,
                         query_url=endpoint, user=user, password=password,
                         timeout=timeout, batch_size=batch_size)
    store = EmbeddedStore(store_dir, workers=1)
    try:
        push(graphs_of(store), writer, prune=prune, progress=lambda m: click.echo(m, err=True))
    finally:
        store.close()

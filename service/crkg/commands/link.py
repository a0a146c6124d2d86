"""``crkg link``: propose links to another dataset for review; ``crkg link accept`` takes them in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import click

from crkg.config import Config
from crkg.errors import CrkgError
from crkg.link.propose import KINDS, WIKIDATA_SPARQL
from crkg.namespaces import WD
from crkg.paths import LINKS_DIR


class LinkGroup(click.Group):
    """``crkg link [OPTIONS]`` proposes; ``crkg link accept FILE`` accepts."""

    def parse_args(self, ctx, args):
        # `crkg link --rule ...` without a subcommand means `crkg link propose ...`.
        if not args or args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["propose", *args]
        return super().parse_args(ctx, args)


@click.group(name="link", cls=LinkGroup)
def command():
    """Propose links to Wikidata (or any SPARQL endpoint) for review, and accept reviewed ones.

    \b
    crkg link [propose] [--rule admin-code|label] [--endpoint URL] ...
    crkg link accept data/links/proposed/FILE.tsv
    """


@command.command(name="propose")
@click.option("--endpoint", default=None, metavar="URL",
              help=f"SPARQL endpoint to search (default: Wikidata, {WIKIDATA_SPARQL})")
@click.option("--rule", type=click.Choice(["admin-code", "label"]), default="admin-code", show_default=True,
              help="admin-code: crkg:adminDivisionCode = wdt:P442; label: exact rdfs:label in --lang")
@click.option("--lang", default="zh", show_default=True, help="label language (rule label)")
@click.option("--type", "item_type", metavar="QID|IRI", help="only items that are instances of this type "
              "(wdt:P31/wdt:P279*; rule label)")
@click.option("--kind", type=click.Choice(list(KINDS)), help="only crkg resources of this class")
@click.option("--uri-space", default=str(WD), show_default=True,
              help="IRIs of the target's items: a resource linked into it counts as linked")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=None,
              help="the built store whose resources are matched (default: var/store, or CRKG_STORE_DIR)")
@click.option("--data", "data_files", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="match resources from these RDF files instead of the built store (repeatable)")
@click.option("--out", type=click.Path(path_type=Path), help="review file to write "
              "(default: data/links/proposed/<endpoint host>-<rule>-<date>.tsv)")
@click.option("--timeout", default=None, type=float,
              help=f"seconds to wait for the endpoint (default: {Config.LINK_TIMEOUT:g}, or CRKG_LINK_TIMEOUT)")
def propose_command(endpoint, rule, lang, item_type, kind, uri_space, store_dir, data_files, out, timeout):
    """Write proposed links with their evidence to a review file; nothing enters the graph."""
    from crkg.link import propose

    endpoint = endpoint or propose.WIKIDATA_SPARQL
    config = Config.for_command(store_dir)
    timeout = config.LINK_TIMEOUT if timeout is None else timeout
    if data_files:
        local = propose.local_store_from_files(data_files)
        close = lambda: None  # noqa: E731 - an in-memory store has nothing to release
    else:
        if not Path(config.STORE_DIR).exists():
            raise CrkgError(f"no built store at {config.STORE_DIR}: run `crkg build`, or give --data FILE")
        from crkg.store.embedded import EmbeddedStore

        local = EmbeddedStore.from_config(config, workers=1)
        close = local.close
    try:
        if rule == "admin-code":
            run = propose.propose_by_code(local, endpoint, uri_space=uri_space, kind=kind, timeout=timeout)
        else:
            run = propose.propose_by_label(local, endpoint, lang=lang, uri_space=uri_space, kind=kind,
                                           item_type=item_type, timeout=timeout)
    except CrkgError as exc:
        raise CrkgError(f"{exc} (nothing was written)") from exc
    finally:
        close()
    host = (urlsplit(endpoint).hostname or "endpoint").replace(".", "-")
    out = out or LINKS_DIR / "proposed" / f"{host}-{rule}-{dt.date.today().isoformat()}.tsv"
    propose.write_review(run, out)
    click.echo(f"{len(run.proposals)} proposed links for {len({p.subject for p in run.proposals})} "
               f"resources, {len(run.unmatched)} without a candidate: review {out}, then "
               f"`crkg link accept {out}`", err=True)


@command.command(name="accept")
@click.argument("review", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--links-dir", type=click.Path(file_okay=False, path_type=Path), default=LINKS_DIR,
              show_default=True, help="where linkset files live")
@click.option("--name", help="linkset name (file name without .ttl; default: the review file's name)")
@click.option("--force", is_flag=True, help="overwrite an existing linkset file of that name")
def accept_command(review, links_dir, name, force):
    """Write the rows marked `accept` in REVIEW as a linkset file in data/links/."""
    from crkg.link import propose

    target = propose.accept(review, links_dir, name=name, force=force)
    click.echo(f"wrote {target}; check it and commit it, `crkg build` loads it", err=True)

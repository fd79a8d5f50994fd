"""`flask catalog import PATH [--dry-run]`: vendors and products from a CSV."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.catalog import importer
from portal.history.services import Actor

catalog_cli = AppGroup("catalog", help="The catalogue: products and vendors.")
CLI_ACTOR = Actor.system("cli:catalog")
SHOWN_PROBLEMS = 50  # a file wrong on every line would otherwise scroll its first problems away


def init_app(app) -> None:
    app.cli.add_command(catalog_cli)


def _progress(label: str):
    def wrap(items):
        with click.progressbar(items, label=label, show_pos=True) as bar:
            yield from bar

    return wrap


@catalog_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change; write nothing.")
def import_catalog(path: str, dry_run: bool) -> None:
    """Create or update vendors and products from a CSV with the header
    sku,title,kind,price,currency,tax_rate,hsn_sac,stock,vendor,deposit,active.

    Products are matched by SKU; price and deposit are rupees as typed (1,250.00), tax_rate a percentage (18),
    stock empty = unlimited, vendor a vendor's name (created when new; empty = the house), active yes/no
    (empty = yes). A bad row is reported with its line and column, and nothing of the file is written."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        plan = importer.plan_import(importer.read_csv(data), progress=_progress("Checking rows"))
    except importer.ImportRefused as refused:
        for problem in refused.problems[:SHOWN_PROBLEMS]:
            click.echo(str(problem), err=True)
        more = len(refused.problems) - SHOWN_PROBLEMS
        if more > 0:
            click.echo(f"… and {more} more", err=True)
        raise click.ClickException(f"{len(refused.problems)} problem(s) in {path}: nothing was written") from None
    if dry_run:
        click.echo(f"dry run: would create {plan.creates}, update {plan.updates} products; "
                   f"create {len(plan.new_vendors)} vendors; nothing written")  # fmt: skip
        return
    created, changed, vendors = importer.apply_plan(plan, actor=CLI_ACTOR, progress=_progress("Writing products"))
    unchanged = plan.updates - changed
    tail = f" ({unchanged} unchanged)" if unchanged else ""
    click.echo(f"created {created}, updated {changed} products; created {vendors} vendors{tail}")

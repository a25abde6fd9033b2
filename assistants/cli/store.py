"""``assistants store``: create, upgrade and inspect the cache and ledger databases."""

from __future__ import annotations

import json
from typing import Any

import click

from ._common import settings_for

__all__ = ["store"]


@click.group()
def store() -> None:
    """Create or inspect the databases of the response cache and the usage ledger.

    By default both are SQLite files in the data dir. A team shares one PostgreSQL database:
    set ASSISTANTS_STORE_URL=postgresql://user:password@host/db (needs the [postgres] extra),
    then run `assistants store init` once. The password is never shown.
    """


@store.command("init")
def store_init() -> None:
    """Create the schema (or bring an older one up to date) and write rows kept locally while
    the store could not be reached."""
    from ..llm.store import store_status

    _show(store_status(settings_for(), init=True))


@store.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def store_status_command(as_json: bool) -> None:
    """Show each store's backend, URL (password masked), schema version, row counts and the
    rows waiting in the local spool."""
    from ..llm.store import store_status

    rows = store_status(settings_for())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    _show(rows)


def _show(rows: list[dict[str, Any]]) -> None:
    from ..llm.db import SCHEMA_VERSION

    for row in rows:
        version = row["schema_version"]
        known = f"(this version of assistants: {SCHEMA_VERSION})"
        click.echo(f"{row['store']}: {row['backend']} {row['url']}")
        click.echo(f"  schema version: {version or 'not created yet'} {known}")
        counts = ", ".join(f"{name} {n:,}" for name, n in row["rows"].items())
        click.echo(f"  rows: {counts or '-'}")
        if row["spooled"]:
            click.echo(f"  spooled locally, not yet written: {row['spooled']} rows")

"""``assistants trust``: let a project's files choose the endpoint, key and prompt overrides."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["trust"]


@click.command()
@click.argument(
    "path",
    required=False,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option("--list", "list_", is_flag=True, help="List the trusted projects and stop.")
@click.option("--revoke", is_flag=True, help="Stop trusting the project at PATH.")
def trust(path: Path | None, list_: bool, revoke: bool) -> None:
    """Trust the project at PATH (default: here) to set the endpoint, key, prompt overrides,
    price file and data paths in its pyproject.toml and .env.

    Without trust those settings are ignored with a warning, so a repository you review
    cannot send your key elsewhere. The record holds the folder and a hash of its
    configuration: when the configuration changes, the project is untrusted again.
    """
    from .. import trust as store

    if list_:
        records = store.trusted_projects()
        if not records:
            click.echo("no trusted projects")
        for record in records:
            click.echo(f"{record.root}  (since {record.trusted_at})")
        return
    project = store.project_at(path)
    if revoke:
        if store.revoke(project):
            click.echo(f"no longer trusted: {project.root}")
        else:
            click.echo(f"was not trusted: {project.root}")
        return
    store.trust(project)
    files = [str(f) for f in (project.pyproject, project.dotenv) if f is not None]
    click.echo(f"trusted: {project.root} ({', '.join(files) or 'no config files yet'})")

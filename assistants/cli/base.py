"""The commands of the shared core: chat, config, usage, cache, prompts."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from ._common import console, emit, interactive, no_cache_option, settings_for


@click.command()
@click.argument("prompt", required=False)
@click.option("--system", "-s", default=None, help="System prompt.")
@click.option(
    "--task",
    type=click.Choice(["chat", "paper", "review", "math"]),
    default=None,
    help="Pick the model the way this task type does (math: reasoner, thinking on).",
)
@click.option("--profile", default=None, help="Profile to use: chat, coder or reasoner.")
@click.option("--think/--no-think", default=None, help="Turn thinking mode on or off.")
@click.option("--show-reasoning", is_flag=True, help="Print the reasoning (dimmed, stderr).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@no_cache_option
def chat(
    prompt: str | None,
    system: str | None,
    task: str | None,
    profile: str | None,
    think: bool | None,
    show_reasoning: bool,
    as_json: bool,
    no_cache: bool,
) -> None:
    """Ask the model once; the answer streams to stdout. PROMPT defaults to stdin."""
    from ..llm.chat import Conversation

    if prompt is None:
        if sys.stdin.isatty():
            raise click.UsageError("give a PROMPT or pipe one on stdin")
        prompt = sys.stdin.read()
    if not prompt.strip():
        raise click.UsageError("the prompt is empty: give a PROMPT or pipe one on stdin")
    settings = settings_for(no_cache=no_cache)
    conversation = Conversation(
        system,
        task=task,  # type: ignore[arg-type]
        profile=profile,
        thinking=think,
        settings=settings,
    )
    err = console(stderr=True)
    shown = {"reasoning": False, "content": False}

    def on_reasoning(text: str) -> None:
        # Model text, not rich markup: "[/]" in it must print as it is.
        err.print(text, style="dim", end="", markup=False, highlight=False)
        shown["reasoning"] = True

    def on_content(text: str) -> None:
        if shown["reasoning"] and not shown["content"]:
            err.print()  # the answer starts on a line of its own
        click.echo(text, nl=False)
        shown["content"] = True

    try:
        result = conversation.ask(
            prompt,
            on_content=None if as_json else on_content,
            on_reasoning=on_reasoning if show_reasoning else None,
        )
    except BaseException:
        if shown["content"] or shown["reasoning"]:
            err.print()  # the error line starts on a line of its own
        raise
    if as_json:
        click.echo(result.model_dump_json(indent=2))
    else:
        click.echo()
        if interactive():
            err.print(f"[dim]{result.usage.summary()}[/dim]")


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def config(ctx: click.Context, as_json: bool) -> None:
    """Show every effective setting and where it came from (the key is never shown).

    Sources, lowest first: defaults, your user config file (`assistants config path`),
    the project's [tool.assistants] and .env (endpoint, key, prompts and paths only when the
    project is trusted: `assistants trust`), the environment, the command's options.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..config import load_settings
    from ..llm.selector import effective_settings

    rows = effective_settings(load_settings())
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    from rich.table import Table

    table = Table("setting", "value", "source", box=None, pad_edge=False)
    for row in rows:
        table.add_row(row.name, row.value, row.source)
    console().print(table)


@config.command("path")
def config_path() -> None:
    """Print where your user config file is (TOML, the keys of [tool.assistants])."""
    from ..trust import user_config_file

    click.echo(str(user_config_file()))


@click.command()
@click.option(
    "--by",
    type=click.Choice(["day", "task", "model", "user", "project"]),
    default="day",
    show_default=True,
    help="Group the totals by this (user, project: who made the calls, for a shared ledger).",
)
@click.option(
    "--since",
    "since_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    metavar="YYYY-MM-DD",
    help="Only calls since this date.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table for reading; csv or json to export.",
)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON (same as --format json).")
def usage(by: str, since_date: datetime | None, fmt: str, as_json: bool) -> None:
    """Summarise recorded usage and cost (every model call is recorded: locally, or in the
    shared store of ASSISTANTS_STORE_URL).

    Figures marked ~ include calls whose server reported no usage: their tokens were counted
    with the tokenizer (in --json: "estimated_calls" and "estimated").
    """
    from ..llm.store import ledger_for
    from ..llm.usage import format_usd, usage_summary

    since = since_date.date().isoformat() if since_date else None
    settings = settings_for()
    rows = usage_summary(by, since=since, settings=settings)  # type: ignore[arg-type]
    if as_json or fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        columns = list(rows[0]) if rows else ["key", "calls", "cost_usd"]
        writer.writerow([by if c == "key" else c for c in columns])
        writer.writerows([row[c] for c in columns] for row in rows)
        return
    if not rows:
        when = f" since {since}" if since else " yet"
        click.echo(f"no usage recorded{when} ({ledger_for(settings).db.shown})")
        return
    from rich.table import Column, Table

    table = Table(
        Column(by, no_wrap=True),
        "calls",
        "cached",
        "input (hit/miss)",
        "output",
        "reasoning",
        "cost",
    )
    for row in rows:
        mark = "~" if row["estimated"] else ""  # some calls had no usage from the server
        table.add_row(
            str(row["key"]),
            str(row["calls"]),
            str(row["cached"]),
            f"{mark}{row['cache_hit_tokens']:,}/{row['cache_miss_tokens']:,}",
            f"{mark}{row['output_tokens']:,}",
            f"{mark}{row['reasoning_tokens']:,}",
            mark + format_usd(row["cost_usd"]),
        )
    total = sum(r["cost_usd"] for r in rows)
    estimated = sum(r["estimated_calls"] or 0 for r in rows)
    console().print(table)
    click.echo(f"total: {'~' if estimated else ''}{format_usd(total)}")
    if estimated:
        click.echo(
            f"~ estimated: the server reported no usage for {estimated} call(s); their tokens "
            "were counted with the tokenizer"
        )


@click.group()
def cache() -> None:
    """Inspect or clear the persistent response cache."""


@cache.command("info")
def cache_info() -> None:
    """Show where the cache is, how many replies it holds and its size."""
    from ..llm.store import cache_for

    settings = settings_for()
    info = cache_for(settings).info()
    state = "on" if settings.cache_enabled else "off"
    click.echo(f"cache: {state}\npath: {info['path']}\nentries: {info['entries']}")
    if info["bytes"] is not None:  # a SQLite file
        click.echo(f"size: {info['bytes']:,} bytes")


@cache.command("clear")
def cache_clear() -> None:
    """Delete every cached reply."""
    from ..llm.store import cache_for

    removed = cache_for(settings_for()).clear()
    click.echo(f"removed {removed} cached replies")


@click.group()
def prompts() -> None:
    """List, show or export the prompt templates (override them with ASSISTANTS_PROMPTS_DIR)."""


@prompts.command("list")
def prompts_list() -> None:
    """List every template and whether it is built in or overridden."""
    from ..prompts import list_prompts

    for name, origin in list_prompts(settings_for().prompts_dir):
        click.echo(f"{name}\t{origin}")


@prompts.command("show")
@click.argument("name")
def prompts_show(name: str) -> None:
    """Print the source of template NAME (e.g. review/system.j2)."""
    from ..prompts import prompt_source

    emit(prompt_source(name, settings_for().prompts_dir), None)


@prompts.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def prompts_export(directory: Path) -> None:
    """Copy the built-in templates to DIRECTORY to start an override folder."""
    from ..prompts import export_prompts

    written = export_prompts(directory)
    click.echo(f"exported {len(written)} templates to {directory}")
    click.echo(f"use them with: export ASSISTANTS_PROMPTS_DIR={directory}")

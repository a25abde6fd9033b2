"""docs/cli.md is the generated `--help` of every command, and nothing in the CLI is
undocumented: every command and option has help text, every argument is described."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import click
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gen_cli_docs.py"
DOC = ROOT / "docs" / "cli.md"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
COMMANDS = gen.commands()
PATHS = [" ".join(("assistants", *path)) for path, _, _ in COMMANDS]


def test_cli_md_is_up_to_date() -> None:
    assert DOC.exists(), "docs/cli.md is missing: run `python scripts/gen_cli_docs.py`"
    assert DOC.read_text("utf-8") == gen.render(), (
        "docs/cli.md is out of date: run `python scripts/gen_cli_docs.py`"
    )


def test_every_command_and_option_is_in_the_docs() -> None:
    doc = DOC.read_text("utf-8")
    assert {"assistants review", "assistants paper", "assistants math"} <= set(PATHS)
    for (_path, command, _ctx), title in zip(COMMANDS, PATHS, strict=True):
        assert f"\n## {title}\n" in doc, f"{title} has no section in docs/cli.md"
        section = doc.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                for opt in param.opts:
                    assert opt in section, f"{title} {opt} is not in docs/cli.md"


@pytest.mark.parametrize("title", PATHS)
def test_command_and_options_have_help(title: str) -> None:
    path, command, ctx = COMMANDS[PATHS.index(title)]
    missing = [p for p in gen.command_problems(path, command, ctx) if "argument" not in p]
    assert not missing, "\n".join(missing)
    assert command.get_help(ctx).startswith("Usage: ")


def test_every_argument_is_described() -> None:
    missing = [p for p in gen.problems() if "argument" in p]
    assert not missing, "\n".join(missing)


def test_the_checker_finds_missing_help() -> None:
    """The checks above can fail: a command, an option and an argument without help."""

    @click.group(help="A group with help.")
    def tool() -> None: ...

    @tool.command()
    @click.option("--quiet", is_flag=True)
    @click.option("--loud", is_flag=True, help="Shout.")
    @click.argument("target")
    def bare(quiet: bool, loud: bool, target: str) -> None:
        pass

    @tool.command(help="Frobnicate SOURCE.")
    @click.argument("source")
    def good(source: str) -> None:
        pass

    found = gen.problems(tool)
    assert found == [
        "assistants bare: the command has no help text",
        "assistants bare --quiet: the option has no help",
        "assistants bare TARGET: the argument is not described in the help",
    ]
    text = gen.render(tool)
    assert "## assistants good\n" in text and "Frobnicate SOURCE." in text


def test_check_mode_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "cli.md"
    stale.write_text("# CLI reference\n\nold\n", "utf-8")
    run = [sys.executable, str(SCRIPT), "--output", str(stale)]
    checked = subprocess.run([*run, "--check"], capture_output=True, text=True)
    assert checked.returncode == 1
    assert "out of date" in checked.stderr
    subprocess.run(run, capture_output=True, text=True)
    assert stale.read_text("utf-8") == gen.render()

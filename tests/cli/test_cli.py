"""The CLI skeleton: help everywhere, lazy imports, one-line errors, foundation commands."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner
from deepseek_server import Reply

from assistants import __version__
from assistants.cli import cli


def walk(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            sub = click.Context(command, info_name=name, parent=ctx)
            yield from walk(command, sub, (*prefix, name))


ALL_COMMANDS = list(walk(cli, click.Context(cli, info_name="assistants")))


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("path", [p for p, _ in ALL_COMMANDS], ids=" ".join)
def test_every_command_and_option_has_help(path: tuple[str, ...]) -> None:
    command = dict(ALL_COMMANDS)[path]
    assert (command.help or command.short_help or "").strip(), f"{path} has no help text"
    for param in command.params:
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"{' '.join(path)} {param.opts} has no help"
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from assistants.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('langchain_core', 'langchain_deepseek', 'openai', 'pypdf',"
        " 'rich', 'math_verify', 'jinja2') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout, out.stdout


def test_config_shows_sources_and_hides_key(monkeypatch) -> None:
    secret = "sk-this-must-not-appear-anywhere-42"
    monkeypatch.setenv("DEEPSEEK_API_KEY", secret)
    monkeypatch.setenv("ASSISTANTS_TIMEOUT", "17")
    result = CliRunner().invoke(cli, ["config", "--json"])
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["timeout"] == {"name": "timeout", "value": "17.0", "source": "environment"}
    assert rows["api_key"]["source"] == "environment"
    assert secret not in result.output and secret[-6:] not in result.output
    text = CliRunner().invoke(cli, ["config"]).output
    assert "timeout" in text and secret not in text


def test_missing_key_is_one_line_with_hint() -> None:
    result = CliRunner().invoke(cli, ["chat", "hello"])
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: no API key: DEEPSEEK_API_KEY is not set"
    assert "ASSISTANTS_BASE_URL" in lines[1] and len(lines) == 2


def test_chat_streams_and_records_usage(server) -> None:
    server.enqueue(Reply("Paris is the capital.", reasoning="recall"))
    result = CliRunner().invoke(cli, ["chat", "--task", "math", "--show-reasoning", "Capital?"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Paris is the capital."
    assert "recall" in result.stderr
    assert server.chat_requests[0].body["thinking"] == {"type": "enabled"}
    usage = CliRunner().invoke(cli, ["usage", "--by", "task", "--json"])
    rows = json.loads(usage.output)
    assert rows[0]["key"] == "chat" and rows[0]["calls"] == 1
    info = CliRunner().invoke(cli, ["cache", "info"])
    assert "entries: 1" in info.output
    cleared = CliRunner().invoke(cli, ["cache", "clear"])
    assert "removed 1" in cleared.output


def test_chat_json_and_stdin(server) -> None:
    server.enqueue(Reply("pong"))
    result = CliRunner().invoke(cli, ["chat", "--json", "--system", "terse"], input="ping")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["content"] == "pong" and data["usage"]["requests"] == 1
    assert server.chat_requests[0].body["messages"][0]["content"] == "terse"


def test_prompts_commands(tmp_path) -> None:
    listing = CliRunner().invoke(cli, ["prompts", "list"])
    assert "llm/repair.j2\tbuiltin" in listing.output
    shown = CliRunner().invoke(cli, ["prompts", "show", "llm/repair.j2"])
    assert "{{ problem }}" in shown.output
    missing = CliRunner().invoke(cli, ["prompts", "show", "nope.j2"])
    assert missing.exit_code == 3 and missing.stderr.startswith("error: prompt template")
    exported = CliRunner().invoke(cli, ["prompts", "export", str(tmp_path / "p")])
    assert exported.exit_code == 0 and (tmp_path / "p" / "llm" / "repair.j2").is_file()


def test_usage_empty() -> None:
    result = CliRunner().invoke(cli, ["usage"])
    assert result.exit_code == 0 and "no usage recorded yet" in result.output

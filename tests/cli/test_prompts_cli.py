"""assistants prompts: list, show, export; a missing override folder is an error."""

from __future__ import annotations

from pathlib import Path

from cli_runner import one_line_error, run
from click.testing import CliRunner

from assistants.cli import cli


def test_prompts_commands(tmp_path) -> None:
    listing = CliRunner().invoke(cli, ["prompts", "list"])
    assert "llm/repair.j2\tbuiltin" in listing.output
    shown = CliRunner().invoke(cli, ["prompts", "show", "llm/repair.j2"])
    assert "{{ problem }}" in shown.output
    missing = CliRunner().invoke(cli, ["prompts", "show", "nope.j2"])
    assert missing.exit_code == 3 and missing.stderr.startswith("error: prompt template")
    exported = CliRunner().invoke(cli, ["prompts", "export", str(tmp_path / "p")])
    assert exported.exit_code == 0 and (tmp_path / "p" / "llm" / "repair.j2").is_file()


def test_missing_prompts_folder_is_an_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANTS_PROMPTS_DIR", str(tmp_path / "typo"))
    result = run("prompts", "list")
    assert result.exit_code == 3
    assert "does not exist" in one_line_error(result)

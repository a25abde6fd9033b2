"""assistants config: every setting with its source, the key hidden, a broken file named."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import one_line_error, run
from click.testing import CliRunner

from assistants.cli import cli


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


def test_broken_pyproject_names_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.assistants]\ntimeout = \n")
    result = run("config")
    assert result.exit_code == 3
    line = one_line_error(result)
    assert str(tmp_path / "pyproject.toml") in line and "line 2" in line


def test_config_path_names_the_user_config_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANTS_CONFIG_DIR", str(tmp_path / "conf"))
    result = run("config", "path")
    assert result.exit_code == 0
    assert result.output.strip() == str(tmp_path / "conf" / "config.toml")


def test_config_shows_effective_models_and_paths(data_dir: Path) -> None:
    rows = {r["name"]: r["value"] for r in json.loads(run("config", "--json").output)}
    assert rows["profiles.coder.model"] == "deepseek-flash"
    assert rows["profiles.reasoner.thinking"] == "True"
    assert rows["cache_path"] == str(data_dir / "cache.sqlite3")

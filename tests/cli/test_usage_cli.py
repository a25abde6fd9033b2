"""assistants usage and assistants cache: totals, dates, damaged stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import one_line_error, run
from click.testing import CliRunner
from ledger_rows import record_call

from assistants.cli import cli


def test_usage_empty() -> None:
    result = CliRunner().invoke(cli, ["usage"])
    assert result.exit_code == 0 and "no usage recorded yet" in result.output


def test_usage_since_must_be_a_date(data_dir: Path) -> None:
    assert run("usage", "--since", "yesterday").exit_code == 2
    result = run("usage", "--since", "2030-01-01")
    assert result.exit_code == 0 and "since 2030-01-01" in result.stdout


@pytest.mark.parametrize("command", [("usage",), ("cache", "info"), ("cache", "clear")])
def test_corrupt_stores_heal_with_one_warning(data_dir: Path, command: tuple[str, ...]) -> None:
    (data_dir / "cache.sqlite3").write_bytes(b"not a database " * 400)
    (data_dir / "usage.sqlite3").write_bytes(b"not a database " * 400)
    result = run(*command)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "damaged" in line]
    assert len(warnings) == 1 and "corrupt-" in warnings[0]
    assert len(list(data_dir.glob("*.sqlite3.corrupt-*"))) == 1
    if command == ("cache", "clear"):
        assert "removed 0 cached replies" in result.stdout


@pytest.mark.parametrize("command", [("usage",), ("cache", "info"), ("cache", "clear")])
def test_unusable_stores_are_one_line_errors(data_dir: Path, command: tuple[str, ...]) -> None:
    (data_dir / "cache.sqlite3").mkdir()  # not a file: nothing to heal
    (data_dir / "usage.sqlite3").mkdir()
    result = run(*command)
    assert result.exit_code == 3
    assert "sqlite3" in one_line_error(result)


def test_usage_shows_money_with_the_one_formatter(data_dir) -> None:
    from assistants.config import load_settings
    from assistants.llm.store import UsageLedger

    ledger = UsageLedger(load_settings().resolved_ledger_path())
    record_call(ledger, task="review", cost_usd=0.00123)
    record_call(ledger, task="math", cost_usd=0.5)
    result = run("usage", "--by", "task")
    assert result.exit_code == 0, result.output
    assert "$0.0012" in result.stdout and "$0.5000" in result.stdout
    assert "total: $0.5012" in result.stdout
    rows = json.loads(run("usage", "--by", "task", "--json").stdout)
    assert sorted(r["cost_usd"] for r in rows) == [0.00123, 0.5]  # machine output stays numeric

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


def test_ledger_rows_say_who_made_the_call(
    server, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from repos import make_repo

    from assistants.config import load_settings
    from assistants.llm import LLM
    from assistants.llm.store import ledger_for

    monkeypatch.chdir(make_repo(tmp_path / "shop-frontend"))
    for name, value in {"GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "42"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_JOB", "review")
    server.enqueue("x")
    LLM("chat").complete([("user", "q")])
    (row,) = ledger_for(load_settings()).rows()
    assert row["project"] == "shop-frontend" and row["ci_job"] == "github:acme/shop/42/review"
    assert row["username"] and row["host"] and row["uid"]


def test_usage_by_user_and_project_exported_as_csv_and_json(backend: str) -> None:
    import csv

    from assistants.config import load_settings
    from assistants.llm.store import ledger_for

    ledger = ledger_for(load_settings())
    record_call(ledger, username="ann", project="web", ts="2026-11-01T09:00:00+00:00")
    record_call(ledger, username="bob", project="web", ts="2026-11-02T09:00:00+00:00")
    record_call(ledger, username="ann", project="api", ts="2026-11-03T09:00:00+00:00")
    record_call(ledger, ts="2026-11-03T10:00:00+00:00", username=None, project=None)
    result = run("usage", "--by", "user", "--format", "csv")
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(result.stdout.splitlines()))
    assert [(r["user"], r["calls"], r["cost_usd"]) for r in table] == [
        ("-", "1", "0.5"),
        ("ann", "2", "1.0"),
        ("bob", "1", "0.5"),
    ]
    since = run("usage", "--by", "project", "--since", "2026-11-02", "--format", "json")
    rows = {r["key"]: r["calls"] for r in json.loads(since.stdout)}
    assert rows == {"-": 1, "api": 1, "web": 1}
    shown = run("usage", "--by", "user")
    assert shown.exit_code == 0 and "ann" in shown.stdout and "total: $2.0000" in shown.stdout

"""`assistants eval review`: the reviewer's benchmark from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import one_line_error, run
from deepseek_server import DeepSeekServer


def test_dry_run_needs_no_key_and_sends_nothing() -> None:
    result = run("eval", "review", "--dry-run", "--limit", "3", "--language", "python")
    assert result.exit_code == 0, result.output
    assert "3 diffs → 3 request(s)" in result.stdout
    assert "nothing was sent" in result.stdout


def test_a_run_writes_a_json_report_with_a_record_per_diff(
    server: DeepSeekServer, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    result = run(
        "eval", "review", "--limit", "4", "--operators", "missing-await,off-by-one",
        "--no-think", "--model", "deepseek-flash", "--format", "json", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert len(report["records"]) == 4 == len(server.chat_requests)
    assert report["run"]["think"] is False and report["run"]["model"] == "deepseek-flash"
    assert report["run"]["operators"] == ["missing-await", "off-by-one"]
    seeded = {r["operator"] for r in report["records"] if r["kind"] == "seeded"}
    assert seeded <= {"missing-await", "off-by-one"}
    assert report["total"]["found"] == 0  # the server's default reply finds nothing
    for body in (r.body for r in server.chat_requests):
        assert body is not None and body["thinking"] == {"type": "disabled"}


def test_markdown_summary_on_stdout(server: DeepSeekServer) -> None:
    result = run("eval", "review", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Reviewer benchmark")
    assert "## By operator" in result.stdout


def test_an_unknown_operator_is_a_one_line_error() -> None:
    result = run("eval", "review", "--operators", "off-by-two", "--dry-run")
    assert result.exit_code == 4
    assert "unknown operator(s): off-by-two" in one_line_error(result)

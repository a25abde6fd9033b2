"""``assistants eval regrade`` / ``eval compare`` and ``math eval --set`` from the command
line: what they print and write, and that re-grading and comparing send nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cli_runner import one_line_error, run
from deepseek_server import DeepSeekServer
from math_runs import scripted_run, write_problems


@pytest.fixture
def no_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a model client fails the test."""
    from assistants.llm import client

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model client was built")

    monkeypatch.setattr(client.LLM, "__init__", refuse)


@pytest.fixture
def runs(server: DeepSeekServer, tmp_path: Path) -> tuple[Path, Path]:
    """Two scripted runs over 10 problems: A right on q0, q1; B right on q1..q8."""
    problems = write_problems(tmp_path / "p.jsonl", 10)
    a = scripted_run(server, problems, tmp_path / "a.jsonl", right={0, 1})
    b = scripted_run(server, problems, tmp_path / "b.jsonl", right=set(range(1, 9)))
    server.reset()
    return a, b


def test_regrade_sends_no_request(
    runs: tuple[Path, Path], server: DeepSeekServer, tmp_path: Path, no_client: None
) -> None:
    out = tmp_path / "regraded.jsonl"
    result = run("eval", "regrade", str(runs[1]), "--results", str(out), "-f", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["requests"] == 0
    assert (report["fixed"], report["broken"]) == (0, 0)
    assert report["after"]["correct"] == 8
    assert len(out.read_text().splitlines()) == 10
    assert server.requests == []  # the server's log: nothing reached it


def test_regrade_markdown_report_to_a_file(runs: tuple[Path, Path], tmp_path: Path) -> None:
    report = tmp_path / "regrade.md"
    result = run("eval", "regrade", str(runs[0]), "-f", "markdown", "-o", str(report))
    assert result.exit_code == 0, result.output
    text = report.read_text()
    assert text.startswith("### Re-graded:")
    assert "0 requests sent" in text


def test_compare_json_and_markdown(
    runs: tuple[Path, Path], server: DeepSeekServer, no_client: None
) -> None:
    a, b = runs
    result = run("eval", "compare", str(a), str(b), "-f", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [item["id"] for item in report["fixed"]] == [f"q{i}" for i in range(2, 9)]
    assert [item["id"] for item in report["broken"]] == ["q0"]
    assert abs(report["mcnemar_p"] - 18 / 256) < 1e-6
    assert report["difference"]["estimate"] == pytest.approx(0.6)
    assert report["a"]["cost_per_correct_usd"] == pytest.approx(report["a"]["cost_usd"] / 2)
    md = run("eval", "compare", str(a), str(b), "-f", "markdown")
    assert md.exit_code == 0, md.output
    assert "McNemar's exact test, p | 0.07031" in md.stdout
    assert "| q0 |" in md.stdout
    assert server.requests == []


def test_compare_plot_without_matplotlib(
    runs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    picture = tmp_path / "c.svg"
    result = run("eval", "compare", *map(str, runs), "--plot", str(picture))
    assert result.exit_code == 3
    assert 'pip install "assistants[plots]"' in one_line_error(result)
    assert not picture.exists()


def test_compare_plot_suffix_is_checked(runs: tuple[Path, Path], tmp_path: Path) -> None:
    result = run("eval", "compare", *map(str, runs), "--plot", str(tmp_path / "c.pdf"))
    assert result.exit_code == 4
    assert ".svg or .png" in one_line_error(result)


def test_compare_plot_is_drawn_next_to_the_report(runs: tuple[Path, Path], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plots extra is not installed")
    picture = tmp_path / "out" / "compare.svg"
    report = tmp_path / "out" / "compare.md"
    result = run(
        "eval", "compare", *map(str, runs), "-f", "markdown", "-o", str(report),
        "--plot", str(picture),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    svg = picture.read_text()
    assert "<svg" in svg and "a.jsonl" in svg and "b.jsonl" in svg
    assert "](compare.svg)" in report.read_text()


def test_math_eval_shipped_set_dry_run() -> None:
    result = run("math", "eval", "--set", "gsm8k-50", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "layout: gsm8k" in result.stdout
    assert "problems: 50" in result.stdout


def test_math_eval_set_and_file_conflict(tmp_path: Path) -> None:
    problems = write_problems(tmp_path / "p.jsonl", 1)
    result = run("math", "eval", str(problems), "--set", "gsm8k-50", "--dry-run")
    assert result.exit_code == 2
    assert "not both" in result.stderr

"""Rendering of solutions, eval reports and dry-run estimates: markdown, text, JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deepseek_server import DeepSeekServer, Reply

from assistants.config import load_settings
from assistants.llm.usage import Usage, format_usd
from assistants.math.eval import eval_math
from assistants.math.models import EvalReport, MathEstimate, MathSolution
from assistants.math.solve import solve_math


def test_solution_json_round_trip_and_markdown(server: DeepSeekServer) -> None:
    server.enqueue(Reply("\\boxed{\\begin{pmatrix}1&0\\\\0&1\\end{pmatrix}}", reasoning="I"))
    sol = solve_math("The 2x2 identity matrix?")
    again = MathSolution.model_validate_json(sol.model_dump_json())
    assert again == sol
    assert json.loads(sol.model_dump_json())["answer_plain"] == "[[1, 0], [0, 1]]"
    md = sol._repr_markdown_()
    assert "$$\n\\begin{pmatrix}1&0\\\\0&1\\end{pmatrix}\n$$" in md
    assert "<details>" in md  # reasoning collapsed by default
    assert "#### Reasoning" in sol.to_markdown(show_reasoning=True)


def test_markdown_tables_escape_pipes(server: DeepSeekServer, tmp_path: Path) -> None:
    server.enqueue(Reply(r"\boxed{|x|}"), Reply(r"\boxed{x}"), Reply(r"\boxed{|x|}"))
    settings = load_settings(math={"concurrency": 1})
    sol = solve_math("Simplify sqrt(x^2).", samples=3, settings=settings)
    assert len(sol.groups) == 2
    rows = [line for line in sol.to_markdown().splitlines() if line.startswith("| $")]
    assert rows and all(row.count("|") - row.count(r"\|") == 4 for row in rows)

    server.responder = lambda body: Reply(r"\boxed{x}")
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps({"question": "abs?", "answer": "|x|"}) + "\n")
    report = eval_math(data)
    rows = [line for line in report.to_markdown().splitlines() if line.startswith("| 1 ")]
    assert len(rows) == 1 and rows[0].count("|") - rows[0].count(r"\|") == 5


def _estimate(**fields: Any) -> MathEstimate:
    defaults: dict[str, Any] = {
        "model": "m",
        "problems": 1,
        "requests": 1,
        "input_tokens": 10,
        "output_tokens": 20,
        "cost_usd": 0.0,
        "system_prompt": "system\n",
        "first_request": "user\n",
    }
    return MathEstimate(**(defaults | fields))


def test_money_is_the_shared_format_everywhere() -> None:
    for cost, shown in [(0.01234, "$0.0123"), (1234.5, "$1,234.50")]:
        assert format_usd(cost) == shown
        assert f"estimated cost: {shown}\n" in _estimate(cost_usd=cost).to_text()
        report = EvalReport(
            file="p.jsonl",
            total=1,
            scored=1,
            skipped=1,
            correct=1,
            previous_cost_usd=cost,
            usage=Usage(cost_usd=cost),
        )
        assert f"Cost:     {shown} this run ({shown} for the resumed items)" in report.to_text()
        assert f"| cost | {shown} this run · {shown} earlier |" in report.to_markdown()


def test_estimate_text_when_everything_is_resumed() -> None:
    assert _estimate(problems=0, requests=0, resumed=3).to_text() == (
        "dry run: nothing was sent\n"
        "already scored in the results file (skipped; --restart to score again): 3\n"
        "nothing left to solve\n"
    )


def test_eval_report_shows_the_interval_pass_and_maj_at_k() -> None:
    from assistants.stats import Interval

    report = EvalReport(
        file="p.jsonl",
        total=4,
        scored=4,
        skipped=0,
        correct=3,
        accuracy=0.75,
        accuracy_ci=Interval(0.75, 0.25, 1.0),
        pass_at_k={1: 0.625, 2: 0.875},
        maj_at_k={1: 0.5, 2: 0.75},
        layout="math-500",
        metric_notes=["pass@2 and maj@2 over 3 of 4 item(s)"],
    )
    text = report.to_text()
    assert "Interval: 75% [25%, 100%]" in text
    assert "pass@k:   @1 62.5% · @2 87.5%" in text
    assert "maj@k:    @1 50.0% · @2 75.0%" in text
    assert "layout math-500: MATH-500 (problem, solution, answer)" in text
    assert "Note:     pass@2 and maj@2 over 3 of 4 item(s)" in text
    md = report.to_markdown()
    assert "| accuracy, 95% bootstrap interval | 75% [25%, 100%] |" in md
    assert "| pass@k | @1 62.5% · @2 87.5% |" in md
    assert EvalReport.model_validate_json(report.model_dump_json()) == report

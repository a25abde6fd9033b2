"""`assistants math solve|eval` through click's CliRunner against the test server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run
from deepseek_server import DeepSeekServer, Reply

from assistants.math.eval import eval_math, sample_file
from assistants.math.models import EvalItem


@pytest.mark.parametrize("command", [["math"], ["math", "solve"], ["math", "eval"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    # the first docstring line is real help, not a placeholder
    body = result.output.split("\n\n")[1].strip()
    assert len(body) > 20


def test_solve_text(server: DeepSeekServer) -> None:
    server.enqueue(Reply("So \\boxed{\\frac{3}{4}}", reasoning="secret thoughts"))
    result = run("math", "solve", "What is 1/2 + 1/4?", "--reference", "0.75")
    assert result.exit_code == 0, result.output
    assert "Answer: 3/4" in result.stdout
    assert "LaTeX:  \\frac{3}{4}" in result.stdout
    assert "matches the reference (0.75)" in result.stdout
    assert "secret thoughts" not in result.stdout + result.stderr  # hidden by default


def test_solve_show_reasoning_streams_to_stderr(server: DeepSeekServer) -> None:
    server.enqueue(Reply("So \\boxed{7}", reasoning="three plus four is seven"))
    result = run("math", "solve", "3+4?", "--show-reasoning")
    assert result.exit_code == 0, result.output
    assert "three plus four is seven" in result.stderr
    assert "three plus four is seven" not in result.stdout
    assert "Answer: 7" in result.stdout


def test_solve_json_round_trips(server: DeepSeekServer) -> None:
    server.enqueue(Reply("\\boxed{2}"), Reply("\\boxed{2.0}"), Reply("\\boxed{3}"))
    result = run("math", "solve", "1+1?", "--samples", "3", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "self_consistent"
    assert data["votes"] == 2
    assert data["samples_requested"] == 3


def test_solve_markdown_to_file(server: DeepSeekServer, tmp_path: Path) -> None:
    server.enqueue(Reply("\\boxed{\\sqrt{2}}", reasoning="r"))
    out = tmp_path / "answer.md"
    result = run("math", "solve", "sqrt 2?", "-f", "markdown", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "$$\n\\sqrt{2}\n$$" in out.read_text()


def test_solve_reads_stdin(server: DeepSeekServer) -> None:
    server.enqueue(Reply("\\boxed{10}"))
    result = run("math", "solve", input="What is 5+5?")
    assert result.exit_code == 0, result.output
    assert "What is 5+5?" in server.chat_requests[-1].body["messages"][-1]["content"]


def test_solve_dry_run_sends_nothing(server: DeepSeekServer) -> None:
    result = run("math", "solve", "What is 2+2?", "--samples", "4", "--dry-run", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["requests"] == 4
    assert data["input_tokens"] > 0
    assert data["cost_usd"] > 0
    assert server.chat_requests == []


def test_dry_run_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run("math", "solve", "2+2?", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: nothing was sent" in result.stdout


def test_solve_without_key_is_a_one_line_error() -> None:
    result = run("math", "solve", "2+2?")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output


def test_solve_api_error_exit_code(server: DeepSeekServer) -> None:
    server.fail_next(402)
    result = run("math", "solve", "2+2?")
    assert result.exit_code == 5
    assert result.stderr.splitlines()[0].startswith("error: ")


def test_bad_samples_is_a_usage_error() -> None:
    assert run("math", "solve", "2+2?", "--samples", "0").exit_code == 2


def test_eval_writes_results_and_resumes(server: DeepSeekServer, tmp_path: Path) -> None:
    data = tmp_path / "probs.jsonl"
    data.write_text(
        "\n".join(
            json.dumps({"question": q, "answer": a})
            for q, a in [("q1: 1+1?", "#### 2"), ("q2: 2+2?", "#### 4"), ("q3: 3+3?", "#### 6")]
        )
    )
    answers = {"q1:": "2", "q2:": "5", "q3:": "6"}

    def respond(body: dict[str, Any]) -> Reply:
        text = str(body["messages"][-1]["content"])
        return Reply(next(f"\\boxed{{{a}}}" for q, a in answers.items() if q in text))

    server.responder = respond
    out = tmp_path / "res.jsonl"
    result = run("math", "eval", str(data), "--limit", "2", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "Accuracy: 50% (1 of 2 correct)" in result.stdout
    assert len(out.read_text().splitlines()) == 2

    result = run("math", "eval", str(data), "--output", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["scored"], report["skipped"], report["correct"]) == (1, 2, 2)
    assert len(server.chat_requests) == 3
    assert {EvalItem.model_validate_json(x).id for x in out.read_text().splitlines()} == {
        "1",
        "2",
        "3",
    }


def test_eval_default_results_file_and_shipped_sample(server: DeepSeekServer) -> None:
    server.responder = lambda body: Reply("\\boxed{18}")
    result = run("math", "eval", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert "Accuracy: 50% (1 of 2 correct)" in result.stdout  # 18 is right for item 1 only
    assert Path("gsm8k_sample.results.jsonl").is_file()


def test_eval_dry_run(server: DeepSeekServer) -> None:
    result = run("math", "eval", "--limit", "5", "--samples", "2", "--dry-run", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["requests"] == 10
    assert server.chat_requests == []


def test_eval_partial_failure_prints_report_and_exits_7(
    server: DeepSeekServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    monkeypatch.setenv("ASSISTANTS_MATH__CONCURRENCY", "1")
    server.enqueue(Reply("\\boxed{18}"), Reply("", status=500))
    result = run("math", "eval", "--limit", "2", "-o", str(tmp_path / "r.jsonl"))
    assert result.exit_code == 7
    assert "Accuracy: 100% (1 of 1 correct)" in result.stdout
    assert "error: 1 of 2 problem(s) failed" in result.stderr


def test_eval_bad_file_is_exit_4(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{nope\n")
    result = run("math", "eval", str(bad))
    assert result.exit_code == 4
    assert "not valid JSON" in result.stderr


def test_thinking_indicator_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistants.cli import math as math_cli

    monkeypatch.setattr(math_cli, "interactive", lambda: True)
    live = math_cli._Live(show_reasoning=False, samples=3)
    assert live.status is not None
    with live:
        live.on_reasoning("abc")
        live.on_reasoning("de")
        assert live.chars == 5
        assert "5 characters of reasoning" in str(live.status.status)
        live.on_content("x")
        assert str(live.status.status) == "writing the answer…"
    monkeypatch.setattr(math_cli, "interactive", lambda: False)
    assert math_cli._Live(show_reasoning=False, samples=1).status is None


# --------------------------------------------------------------------------- solve


def test_cli_reference_typo_is_not_reported_as_a_wrong_answer(server: DeepSeekServer) -> None:
    server.enqueue(Reply(r"\boxed{3}"))
    result = run("math", "solve", "1+2?", "-r", "3/4)")
    assert result.exit_code == 0, result.output
    assert "does not match" not in result.stdout
    assert "Status: unverified" in result.stdout


def test_cli_solve_restarts_after_a_stream_broke_mid_reasoning(server) -> None:
    """The CLI always streams (indicator or --show-reasoning); a connection that drops after
    reasoning was shown is retried, and the display says it starts over."""
    server.enqueue(
        Reply("So \\boxed{4}", reasoning="two and two make " * 20, drop_mid_stream=True),
        Reply("So \\boxed{4}", reasoning="2+2=4"),
    )
    result = run("math", "solve", "2+2?", "--show-reasoning")
    assert result.exit_code == 0, result.output
    assert "starting over" in result.stderr
    assert "4" in result.stdout
    assert len(server.chat_requests) == 2


def test_solve_output_that_cannot_be_written_fails_before_the_request(
    server, tmp_path: Path
) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    result = run("math", "solve", "2+2?", "-o", str(blocker / "out.txt"))
    assert result.exit_code == 4, result.output
    assert "cannot write there" in result.stderr
    assert server.chat_requests == []


# --------------------------------------------------------------------------- eval


@pytest.mark.parametrize("where", ["a-file/r.jsonl", "binary.jsonl"])
def test_unusable_results_file_is_a_one_line_error(
    server: DeepSeekServer, tmp_path: Path, where: str
) -> None:
    (tmp_path / "a-file").write_text("x")  # a file where a folder should be
    (tmp_path / "binary.jsonl").write_bytes(b"\xff\xfe\x00 not results")
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps({"question": "What is 2+2?", "answer": "4"}) + "\n")
    result = run("math", "eval", str(data), "-o", str(tmp_path / where))
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert server.chat_requests == []
    assert (tmp_path / "binary.jsonl").read_bytes().startswith(b"\xff\xfe")  # not replaced


def test_interrupted_eval_says_where_the_results_are(
    server: DeepSeekServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistants.math import eval as math_eval

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(math_eval, "eval_math", interrupted)
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps({"question": "What is 2+2?", "answer": "4"}) + "\n")
    out = tmp_path / "r.jsonl"
    result = run("math", "eval", str(data), "-o", str(out))
    assert result.exit_code == 130
    assert f"{out}" in result.stderr
    assert "again to resume" in result.stderr


def test_eval_where_every_problem_fails_is_the_api_error(
    server: DeepSeekServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    server.fail_next(500, times=2)
    result = run("math", "eval", "-n", "2", "-o", str(tmp_path / "r.jsonl"))
    assert result.exit_code == 5, result.output  # an API error, not a partial result
    assert result.stderr.startswith("error: the API failed (HTTP 500")
    assert "the others were scored" not in result.output


def test_eval_dry_run_counts_only_what_is_left(server: DeepSeekServer, tmp_path: Path) -> None:
    server.responder = lambda body: Reply(r"\boxed{18}")
    out = tmp_path / "r.jsonl"
    assert eval_math(sample_file(), output=out, limit=2).scored == 2

    def dry(*extra: str) -> dict[str, object]:
        result = run("math", "eval", "-n", "5", "-o", str(out), "--dry-run", "-f", "json", *extra)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    est = dry()
    assert (est["problems"], est["requests"], est["resumed"]) == (3, 3, 2)
    assert dry("--restart")["requests"] == 5
    assert dry("-k", "2")["requests"] == 10  # other samples: everything is scored again
    text = run("math", "eval", "-n", "2", "-o", str(out), "--dry-run")
    assert "nothing left to solve" in text.stdout
    assert len(server.chat_requests) == 2


@pytest.mark.parametrize("target", ["problems", "results"])
def test_report_never_overwrites_the_data(
    server: DeepSeekServer, tmp_path: Path, target: str
) -> None:
    data = tmp_path / "p.jsonl"
    original = json.dumps({"question": "What is 2+2?", "answer": "4"}) + "\n"
    data.write_text(original)
    out = tmp_path / "r.jsonl"
    report = data if target == "problems" else out
    result = run("math", "eval", str(data), "-o", str(out), "--report", str(report))
    assert result.exit_code == 2
    assert "would overwrite" in result.stderr
    assert data.read_text() == original and not out.exists()
    assert server.chat_requests == []


@pytest.mark.parametrize(
    ("command", "function"),
    [(["solve", "2+2?"], "solve.solve_math"), (["eval", "--limit", "1"], "eval.eval_math")],
)
def test_concurrency_option_reaches_the_api(
    server: DeepSeekServer, monkeypatch: pytest.MonkeyPatch, command: list[str], function: str
) -> None:
    import importlib

    module_name, name = function.split(".")
    module = importlib.import_module(f"assistants.math.{module_name}")
    real = getattr(module, name)
    seen: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("concurrency"))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    server.responder = lambda body: Reply("\\boxed{4}")
    assert run("math", *command, "-j", "3").exit_code == 0
    assert run("math", *command, "--concurrency", "1").exit_code == 0
    assert run("math", *command).exit_code == 0
    assert seen == [3, 1, None]
    bad = run("math", *command, "-j", "0")
    assert bad.exit_code == 2
    assert "--concurrency" in bad.output

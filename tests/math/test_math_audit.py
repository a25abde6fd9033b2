"""Regression tests from the math solver audit: each one failed before its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from deepseek_server import DeepSeekServer, Reply

from assistants import errors
from assistants.cli import cli
from assistants.config import load_settings
from assistants.math.check import Verifier, extract_answer, reference_answer, to_plain
from assistants.math.solve import EvalItem, eval_math, load_problems, solve_math


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(timeout=20.0)


# --------------------------------------------------------------------------- extraction


def test_answer_with_its_unit_inside_text_matches_the_number(verifier: Verifier) -> None:
    assert verifier.equivalent("18", r"\text{18 dollars}") is True
    assert verifier.equivalent("1000", r"\text{1,000 apples}") is True
    assert verifier.equivalent("18", r"\textbf{18 dollars per hour}") is True
    assert verifier.equivalent("17", r"\text{18 dollars}") is False
    assert verifier.equivalent("3", r"\text{3 and 5}") is False  # words, not a unit
    assert to_plain(r"\text{18 dollars}") == "18 dollars"  # the display keeps the words


def test_repeating_decimal_is_its_fraction(verifier: Verifier) -> None:
    assert verifier.equivalent(r"\frac{1}{3}", r"0.\overline{3}") is True
    assert verifier.equivalent(r"\frac{41}{333}", r"0.\overline{123}") is True
    assert verifier.equivalent(r"\frac{7}{6}", r"1.1\overline{6}") is True
    assert verifier.equivalent(r"\frac{1}{3}", r"0.\overline{6}") is False
    assert to_plain(r"0.\overline{3}") == "0.3̅"


@pytest.mark.parametrize(
    "content",
    [
        r"So the answer is \boxed{18",  # the box never closes: not an answer
        r"First \boxed{4}, no wait, it is \boxed{5",  # the final box is unreadable
    ],
)
def test_an_unclosed_final_box_is_no_answer(content: str) -> None:
    assert extract_answer(content, r"\boxed{99}") is None


def test_minerva_style_final_answer_line() -> None:
    got = extract_answer("Final Answer: The final answer is $18$. I hope it is correct.")
    assert got is not None
    assert (got.latex, got.source, got.confidence) == ("18", "answer_text", "low")
    got = extract_answer("The answer is: the final answer is 7.")
    assert got is not None and got.latex == "7"


# --------------------------------------------------------------------------- references


def test_gsm8k_marker_without_a_number_is_an_empty_reference(tmp_path: Path) -> None:
    assert reference_answer("#### ") == ""
    assert reference_answer("no work shown\n####") == ""
    bad = tmp_path / "p.jsonl"
    bad.write_text(json.dumps({"question": "2+2?", "answer": "2+2=4\n#### "}) + "\n")
    with pytest.raises(errors.InputError, match=r"p\.jsonl:1: the answer is empty"):
        load_problems(bad)


def test_null_id_means_no_id(tmp_path: Path) -> None:
    data = tmp_path / "p.jsonl"
    data.write_text(
        "\n".join(
            json.dumps({"id": None, "question": q, "answer": a})
            for q, a in [("1+1?", "2"), ("2+2?", "4")]
        )
    )
    assert [p.id for p in load_problems(data)] == ["1", "2"]


def test_empty_reference_is_an_input_error(server: DeepSeekServer) -> None:
    with pytest.raises(errors.InputError, match="reference is empty"):
        solve_math("What is 2+2?", reference="  ")
    assert server.chat_requests == []  # nothing was paid for


def test_unreadable_reference_is_unverified_not_a_mismatch(server: DeepSeekServer) -> None:
    server.enqueue(Reply(r"\boxed{3}"))
    sol = solve_math("What is 1+2?", reference=r"\sqrt{")
    assert sol.status == "unverified"
    assert sol.matches_reference is None
    assert any("could not be read as math" in note for note in sol.notes)
    # the same answer written the same way still matches
    server.enqueue(Reply(r"\boxed{N/A?}"))
    assert solve_math("Which?", reference="N/A?").status == "matches_reference"


def test_cli_reference_typo_is_not_reported_as_a_wrong_answer(server: DeepSeekServer) -> None:
    server.enqueue(Reply(r"\boxed{3}"))
    result = CliRunner().invoke(cli, ["math", "solve", "1+2?", "-r", "3/4)"])
    assert result.exit_code == 0, result.output
    assert "does not match" not in result.stdout
    assert "Status: unverified" in result.stdout


# --------------------------------------------------------------------------- eval


def _respond_by_problem(server: DeepSeekServer, answers: dict[str, str]) -> None:
    def respond(body: dict[str, object]) -> Reply:
        text = str(body["messages"][-1]["content"])  # type: ignore[index]
        return Reply(next(f"\\boxed{{{a}}}" for q, a in answers.items() if q in text))

    server.responder = respond


def test_resume_rescores_items_whose_line_changed(server: DeepSeekServer, tmp_path: Path) -> None:
    _respond_by_problem(server, {"2+2": "4", "3+3": "6", "5+5": "10"})
    data = tmp_path / "p.jsonl"
    out = tmp_path / "r.jsonl"
    rows = [("What is 2+2?", "4"), ("What is 3+3?", "6")]
    data.write_text("\n".join(json.dumps({"question": q, "answer": a}) for q, a in rows))
    assert eval_math(data, output=out).accuracy == 1.0
    # a problem inserted at the top: line numbers (the default ids) now mean other problems,
    # and the 2+2 reference was corrected to a wrong value
    rows = [("What is 5+5?", "10"), ("What is 2+2?", "5"), ("What is 3+3?", "6")]
    data.write_text("\n".join(json.dumps({"question": q, "answer": a}) for q, a in rows))
    report = eval_math(data, output=out)
    assert [(i.problem, i.reference) for i in report.items] == rows
    assert (report.scored, report.skipped, report.correct) == (3, 0, 2)
    # the next run resumes everything, with the newest line of each id winning
    again = eval_math(data, output=out)
    assert (again.scored, again.skipped, again.correct) == (0, 3, 2)
    assert [i.problem for i in again.items] == [q for q, _ in rows]


def test_resume_keeps_items_of_an_unchanged_line(server: DeepSeekServer, tmp_path: Path) -> None:
    _respond_by_problem(server, {"2+2": "4"})
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps({"id": "a", "question": "What is 2+2?", "answer": "#### 4"}))
    out = tmp_path / "r.jsonl"
    eval_math(data, output=out)
    report = eval_math(data, output=out)
    assert (report.scored, report.skipped) == (0, 1)
    assert len(server.chat_requests) == 1


@pytest.mark.parametrize("where", ["a-file/r.jsonl", "binary.jsonl"])
def test_unusable_results_file_is_a_one_line_error(
    server: DeepSeekServer, tmp_path: Path, where: str
) -> None:
    (tmp_path / "a-file").write_text("x")  # a file where a folder should be
    (tmp_path / "binary.jsonl").write_bytes(b"\xff\xfe\x00 not results")
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps({"question": "What is 2+2?", "answer": "4"}) + "\n")
    result = CliRunner().invoke(cli, ["math", "eval", str(data), "-o", str(tmp_path / where)])
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert server.chat_requests == []
    assert (tmp_path / "binary.jsonl").read_bytes().startswith(b"\xff\xfe")  # not replaced


def test_interrupted_eval_says_where_the_results_are(
    server: DeepSeekServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistants.math import solve as math_task

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(math_task, "eval_math", interrupted)
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps({"question": "What is 2+2?", "answer": "4"}) + "\n")
    out = tmp_path / "r.jsonl"
    result = CliRunner().invoke(cli, ["math", "eval", str(data), "-o", str(out)])
    assert result.exit_code == 130
    assert f"{out}" in result.stderr
    assert "again to resume" in result.stderr


# --------------------------------------------------------------------------- rendering


def test_markdown_tables_escape_pipes(server: DeepSeekServer, tmp_path: Path) -> None:
    server.enqueue(Reply(r"\boxed{|x|}"), Reply(r"\boxed{x}"), Reply(r"\boxed{|x|}"))
    settings = load_settings(math={"concurrency": 1})
    sol = solve_math("Simplify sqrt(x^2).", samples=3, settings=settings)
    assert len(sol.groups) == 2
    rows = [line for line in sol.to_markdown().splitlines() if line.startswith("| $")]
    assert rows and all(row.count("|") - row.count(r"\|") == 4 for row in rows)

    _respond_by_problem(server, {"abs": "x"})
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps({"question": "abs?", "answer": "|x|"}) + "\n")
    report = eval_math(data)
    rows = [line for line in report.to_markdown().splitlines() if line.startswith("| 1 ")]
    assert len(rows) == 1 and rows[0].count("|") - rows[0].count(r"\|") == 5


def test_eval_item_records_where_the_answer_came_from(
    server: DeepSeekServer, tmp_path: Path
) -> None:
    server.responder = lambda body: Reply("The answer is 4.")
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps({"question": "What is 2+2?", "answer": "4"}) + "\n")
    (item,) = eval_math(data).items
    assert item.correct is True
    assert (item.answer_source, item.confidence) == ("answer_text", "low")
    assert EvalItem.model_validate_json(item.model_dump_json()) == item
    assert "Low confidence: 1 answer(s)" in eval_math(data).to_text()


def test_after_a_torn_line_new_results_start_on_their_own_line(
    server: DeepSeekServer, tmp_path: Path
) -> None:
    _respond_by_problem(server, {"2+2": "4", "3+3": "6"})
    data = tmp_path / "p.jsonl"
    rows = [("What is 2+2?", "4"), ("What is 3+3?", "6")]
    data.write_text("\n".join(json.dumps({"question": q, "answer": a}) for q, a in rows))
    out = tmp_path / "r.jsonl"
    eval_math(data, output=out, limit=1)
    with out.open("a") as f:
        f.write('{"id": "2", "line": 2, "probl')  # an interrupted write
    assert eval_math(data, output=out).scored == 1
    again = eval_math(data, output=out)  # the item scored after the torn line was kept
    assert (again.scored, again.skipped) == (0, 2)
    assert len(server.chat_requests) == 2


def test_results_file_must_not_be_the_problems_or_another_file(
    server: DeepSeekServer, tmp_path: Path
) -> None:
    data = tmp_path / "p.jsonl"
    original = json.dumps({"question": "What is 2+2?", "answer": "4"}) + "\n"
    data.write_text(original)
    with pytest.raises(errors.InputError, match="is the problems file"):
        eval_math(data, output=data)
    other = tmp_path / "notes.jsonl"
    other.write_text('{"note": "mine"}\n')
    with pytest.raises(errors.InputError, match="not a results file"):
        eval_math(data, output=other)
    assert (data.read_text(), other.read_text()) == (original, '{"note": "mine"}\n')
    assert server.chat_requests == []


def test_eval_where_every_problem_fails_is_the_api_error(
    server: DeepSeekServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    server.fail_next(500, times=2)
    result = CliRunner().invoke(cli, ["math", "eval", "-n", "2", "-o", str(tmp_path / "r.jsonl")])
    assert result.exit_code == 5, result.output  # an API error, not a partial result
    assert result.stderr.startswith("error: the API failed (HTTP 500")
    assert "the others were scored" not in result.output


def test_resume_with_another_samples_count_scores_again(
    server: DeepSeekServer, tmp_path: Path
) -> None:
    _respond_by_problem(server, {"2+2": "4"})
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps({"question": "What is 2+2?", "answer": "4"}) + "\n")
    out = tmp_path / "r.jsonl"
    eval_math(data, output=out)
    report = eval_math(data, output=out, samples=3)
    assert (report.scored, report.skipped) == (1, 0)
    assert report.items[0].samples == 3
    assert eval_math(data, output=out, samples=3).skipped == 1


def test_eval_dry_run_counts_only_what_is_left(server: DeepSeekServer, tmp_path: Path) -> None:
    server.responder = lambda body: Reply(r"\boxed{18}")
    out = tmp_path / "r.jsonl"
    assert eval_math(_sample(), output=out, limit=2).scored == 2

    def dry(*extra: str) -> dict[str, object]:
        args = ["math", "eval", "-n", "5", "-o", str(out), "--dry-run", "-f", "json", *extra]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    est = dry()
    assert (est["problems"], est["requests"], est["resumed"]) == (3, 3, 2)
    assert dry("--restart")["requests"] == 5
    assert dry("-k", "2")["requests"] == 10  # other samples: everything is scored again
    text = CliRunner().invoke(cli, ["math", "eval", "-n", "2", "-o", str(out), "--dry-run"])
    assert "nothing left to solve" in text.stdout
    assert len(server.chat_requests) == 2


def _sample() -> Path:
    from assistants.math.solve import sample_file

    return sample_file()


@pytest.mark.parametrize("target", ["problems", "results"])
def test_report_never_overwrites_the_data(
    server: DeepSeekServer, tmp_path: Path, target: str
) -> None:
    data = tmp_path / "p.jsonl"
    original = json.dumps({"question": "What is 2+2?", "answer": "4"}) + "\n"
    data.write_text(original)
    out = tmp_path / "r.jsonl"
    report = data if target == "problems" else out
    result = CliRunner().invoke(
        cli, ["math", "eval", str(data), "-o", str(out), "--report", str(report)]
    )
    assert result.exit_code == 2
    assert "would overwrite" in result.stderr
    assert data.read_text() == original and not out.exists()
    assert server.chat_requests == []


def test_a_solution_without_a_boxed_answer_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "p.jsonl"
    rows = [
        {"problem": "1+1?", "solution": r"Clearly $\boxed{2}$."},
        {"problem": "2+2?", "solution": "Adding two and two gives four, so 4."},
    ]
    data.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    with pytest.raises(errors.InputError, match=r"p\.jsonl:2: the 'solution' has no"):
        load_problems(data)
    assert load_problems(data, limit=1)[0].reference == "2"


@pytest.mark.parametrize(
    ("latex", "plain"),
    [
        (r"\frac{1}{2a}", "1/(2a)"),  # not "1/2a", which reads as a/2
        (r"\frac{-b \pm \sqrt{b^2-4ac}}{2a}", "(-b ± √(b^2-4ac))/(2a)"),
        (r"\sqrt{2a}", "√(2a)"),
        (r"\frac{\sqrt{3}}{2}", "√3/2"),
        (r"\frac{x_1}{2}", "x_1/2"),
        (r"\binom{5}{2}", "C(5, 2)"),
        (r"\mathbb{R}", "ℝ"),
        (r"\lfloor x \rfloor", "⌊ x ⌋"),
    ],
)
def test_plain_text_is_unambiguous(latex: str, plain: str) -> None:
    assert to_plain(latex) == plain


def test_a_retried_empty_answer_streams_its_reasoning_apart(server: DeepSeekServer) -> None:
    server.enqueue(Reply("", reasoning="first try."), Reply(r"\boxed{4}", reasoning="second try."))
    pieces: list[str] = []
    sol = solve_math(
        "2+2?", on_reasoning=pieces.append, settings=load_settings(cache_enabled=False)
    )
    assert "".join(pieces) == "first try.\n\nsecond try."
    assert sol.answer == "4"


@pytest.mark.parametrize(
    "content",
    [
        "Let us answer: first we compute 3+4 = 7.",  # Math-Verify would read "... = 7" as 7
        "I think the answer is 18, but let me check again.",
    ],
)
def test_a_sentence_after_answer_is_not_an_answer(content: str) -> None:
    assert extract_answer(content) is None


@pytest.mark.parametrize(
    ("content", "latex"),
    [
        ("**Answer:** 18", "18"),
        ("> Answer: 42", "42"),
        ("### Final Answer\n\n$$18$$", "18"),
        ("Final answer: 18 dollars.", "18 dollars"),
        ("The answer is: x = 3 or x = 5", "x = 3 or x = 5"),
    ],
)
def test_labelled_answers_are_still_taken(content: str, latex: str) -> None:
    got = extract_answer(content)
    assert got is not None and (got.latex, got.confidence) == (latex, "low")


def test_cli_solve_restarts_after_a_stream_broke_mid_reasoning(server) -> None:
    """The CLI always streams (indicator or --show-reasoning); a connection that drops after
    reasoning was shown is retried, and the display says it starts over."""
    from click.testing import CliRunner
    from deepseek_server import Reply

    from assistants.cli import cli

    server.enqueue(
        Reply("So \\boxed{4}", reasoning="two and two make " * 20, drop_mid_stream=True),
        Reply("So \\boxed{4}", reasoning="2+2=4"),
    )
    result = CliRunner().invoke(cli, ["math", "solve", "2+2?", "--show-reasoning"])
    assert result.exit_code == 0, result.output
    assert "starting over" in result.stderr
    assert "4" in result.stdout
    assert len(server.chat_requests) == 2


def test_solve_output_that_cannot_be_written_fails_before_the_request(
    server, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from assistants.cli import cli

    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(cli, ["math", "solve", "2+2?", "-o", str(blocker / "out.txt")])
    assert result.exit_code == 4, result.output
    assert "cannot write there" in result.stderr
    assert server.chat_requests == []

"""eval_math over real HTTP with scripted replies: exact accuracy, the problems file, the
results file and resume."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from deepseek_server import DeepSeekServer, Reply
from paths import DATA

from assistants import errors
from assistants.config import load_settings
from assistants.math.eval import (
    default_output,
    estimate_eval,
    eval_math,
    load_problems,
    sample_file,
)
from assistants.math.extract import reference_answer
from assistants.math.models import EvalItem, EvalReport

# problem -> (reference as written in the file, what the scripted model answers)
ITEMS: list[tuple[str, Any, Reply]] = [
    ("p1: 16-3-4 eggs at $2?", "9*2=18\n#### 18", Reply("\\boxed{18}", reasoning="r")),
    ("p2: half of one?", "0.5", Reply("\\boxed{\\frac{1}{2}}", reasoning="r")),
    ("p3: 1000 plus 0?", "#### 1,000", Reply("\\boxed{1000}", reasoning="r")),
    ("p4: 2+2?", "4", Reply("\\boxed{5}", reasoning="r")),  # wrong
    ("p5: 3+3?", "6", Reply("six, I think", reasoning="r")),  # no box
    ("p6: hard?", "1", Reply("", reasoning="cut", finish_reason="length")),  # truncated
    ("p7: 25%?", "$\\frac{1}{4}$", Reply("\\boxed{25\\%}", reasoning="r")),
    ("p8: interval?", "(0, 1]", Reply("\\boxed{[0,1]}", reasoning="r")),  # wrong
]

EXPECTED_CORRECT = {"1", "2", "3", "7"}


def _write(path: Path, with_ids: bool = False) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for i, (problem, ref, _) in enumerate(ITEMS, 1):
            row: dict[str, Any] = {"question" if i % 2 else "problem": problem, "answer": ref}
            if with_ids:
                row["id"] = f"item-{i}"
            f.write(json.dumps(row) + "\n")
    return path


def _respond(server: DeepSeekServer) -> None:
    by_problem = {problem: reply for problem, _, reply in ITEMS}

    def respond(body: dict[str, Any]) -> Reply:
        text = str(body["messages"][-1]["content"])
        for problem, reply in by_problem.items():
            if problem in text:
                return reply
        raise AssertionError(f"unexpected request: {text}")

    server.responder = respond


def test_accuracy_is_exact_on_scripted_replies(server: DeepSeekServer, tmp_path: Path) -> None:
    _respond(server)
    out = tmp_path / "results.jsonl"
    report = eval_math(_write(tmp_path / "p.jsonl"), output=out)
    assert report.total == 8
    assert report.scored == 8
    assert report.skipped == 0
    assert report.correct == 4
    assert report.accuracy == 0.5
    assert {item.id for item in report.items if item.correct} == EXPECTED_CORRECT
    assert report.statuses == {
        "matches_reference": 4,
        "mismatch": 2,
        "no_answer": 1,
        "truncated": 1,
    }
    assert report.usage.requests == 8
    assert report.usage.output_tokens > 0
    lines = [EvalItem.model_validate_json(line) for line in out.read_text().splitlines()]
    assert sorted(item.id for item in lines) == [str(i) for i in range(1, 9)]
    by_id = {item.id: item for item in lines}
    assert by_id["1"].reference == "18"
    assert by_id["3"].reference == "1,000"
    assert by_id["6"].status == "truncated"
    assert EvalReport.model_validate_json(report.model_dump_json()) == report


def test_resume_skips_scored_items(server: DeepSeekServer, tmp_path: Path) -> None:
    _respond(server)
    data = _write(tmp_path / "p.jsonl", with_ids=True)
    out = tmp_path / "results.jsonl"
    first = eval_math(data, output=out, limit=3)
    assert (first.scored, first.skipped, first.correct) == (3, 0, 3)
    assert len(server.chat_requests) == 3

    second = eval_math(data, output=out)
    assert (second.scored, second.skipped, second.total) == (5, 3, 8)
    assert len(server.chat_requests) == 8  # only the 5 new items were asked
    asked = [str(r.body["messages"][-1]["content"]) for r in server.chat_requests[3:]]
    assert not any("p1:" in text or "p2:" in text or "p3:" in text for text in asked)
    assert second.correct == 4
    assert second.accuracy == 0.5  # resumed items count
    assert second.previous_cost_usd == pytest.approx(first.usage.cost_usd)
    assert len(out.read_text().splitlines()) == 8

    third = eval_math(data, output=out)
    assert (third.scored, third.skipped, third.accuracy) == (0, 8, 0.5)
    assert len(server.chat_requests) == 8


def test_resume_ignores_a_torn_last_line(server: DeepSeekServer, tmp_path: Path) -> None:
    _respond(server)
    data = _write(tmp_path / "p.jsonl")
    out = tmp_path / "results.jsonl"
    eval_math(data, output=out, limit=2)
    with out.open("a") as f:
        f.write('{"id": "3", "line": 3, "probl')  # an interrupted write
    report = eval_math(data, output=out, limit=3)
    assert (report.scored, report.skipped) == (1, 2)


def test_restart_scores_everything_again(server: DeepSeekServer, tmp_path: Path) -> None:
    _respond(server)
    data = _write(tmp_path / "p.jsonl")
    out = tmp_path / "results.jsonl"
    eval_math(data, output=out, limit=2)
    report = eval_math(data, output=out, limit=2, restart=True)
    assert (report.scored, report.skipped) == (2, 0)
    assert len(out.read_text().splitlines()) == 2


def test_failed_items_are_not_written_and_are_retried(
    server: DeepSeekServer, tmp_path: Path
) -> None:
    data = _write(tmp_path / "p.jsonl")
    out = tmp_path / "results.jsonl"
    settings = load_settings(max_retries=0, math={"concurrency": 1})
    server.enqueue(Reply("\\boxed{18}"), Reply("", status=503), Reply("\\boxed{1000}"))
    with pytest.raises(errors.PartialFailureError) as caught:
        eval_math(data, output=out, limit=3, settings=settings)
    report = caught.value.result
    assert isinstance(report, EvalReport)
    assert (report.scored, report.correct) == (2, 2)
    assert list(report.failures) == ["2"]
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["1", "3"]

    server.enqueue(Reply("\\boxed{0.5}"))
    again = eval_math(data, output=out, limit=3, settings=settings)
    assert (again.scored, again.skipped, again.correct) == (1, 2, 3)


def test_authentication_failure_stops_the_eval(server: DeepSeekServer, tmp_path: Path) -> None:
    server.fail_next(401, times=20)
    with pytest.raises(errors.AuthenticationError):
        eval_math(_write(tmp_path / "p.jsonl"), output=tmp_path / "r.jsonl")


def test_eval_with_samples_votes(server: DeepSeekServer, tmp_path: Path) -> None:
    data = tmp_path / "one.jsonl"
    data.write_text(json.dumps({"problem": "x?", "answer": "1/2"}) + "\n")
    server.enqueue(Reply("\\boxed{0.5}"), Reply("\\boxed{3}"), Reply("\\boxed{\\frac{1}{2}}"))
    settings = load_settings(math={"concurrency": 1})
    report = eval_math(data, samples=3, settings=settings)
    item = report.items[0]
    assert (item.correct, item.votes, item.voters) == (True, 2, 3)
    assert report.output is None


def test_progress_callback(server: DeepSeekServer, tmp_path: Path) -> None:
    _respond(server)
    seen: list[tuple[int, int]] = []
    eval_math(_write(tmp_path / "p.jsonl"), limit=4, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 4)
    assert seen[-1] == (4, 4)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "not valid JSON"),
        ('{"problem": "x"}\n', "needs 'problem'"),
        ('{"answer": "1"}\n', "needs 'problem'"),
        ('[1, 2]\n', "expected a JSON object"),
        ('{"id": 1, "problem": "a", "answer": 1}\n{"id": 1, "problem": "b", "answer": 2}\n',
         "duplicate id"),
        ("\n\n", "no problems"),
    ],
)  # fmt: skip
def test_bad_eval_files_are_input_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(errors.InputError, match=message):
        load_problems(path)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="no such file"):
        eval_math(tmp_path / "nope.jsonl")


def test_shipped_sample_loads() -> None:
    problems = load_problems(sample_file())
    assert len(problems) == 50
    assert problems[0].id == "gsm8k-test-0001"
    assert problems[0].reference == "18"
    assert all(p.reference and p.problem for p in problems)
    assert len(load_problems(sample_file(), limit=5)) == 5


def test_input_shapes_are_understood(server: DeepSeekServer) -> None:
    data = DATA / "math" / "mixed.jsonl"
    problems = load_problems(data)
    assert [(p.id, p.reference) for p in problems] == [
        ("gsm", "7"),
        ("math-style", "\\frac{5}{6}"),
        ("number", "0.5"),
        ("interval", "(-1, 1)"),
        ("matrix", "\\begin{pmatrix}1&0\\\\0&1\\end{pmatrix}"),
    ]
    assert problems[4].line == 6  # the blank line is skipped but counted
    answers = {
        "Tom has": "7",
        "frac{1}{2} +": "0.8333",  # a rounded decimal is not 5/6
        "0.1 times": "1/2",
        "x^2 < 1": "-1 < x < 1",
        "identity": "\\begin{pmatrix}1 & 0\\\\ 0 & 1\\end{pmatrix}",
    }

    def respond(body: dict[str, Any]) -> Reply:
        text = str(body["messages"][-1]["content"])
        return Reply(next(f"\\boxed{{{a}}}" for key, a in answers.items() if key in text))

    server.responder = respond
    report = eval_math(data)
    assert {item.id: item.correct for item in report.items} == {
        "gsm": True,
        "math-style": False,
        "number": True,
        "interval": True,
        "matrix": True,
    }


def _respond_by_problem(server: DeepSeekServer, answers: dict[str, str]) -> None:
    def respond(body: dict[str, object]) -> Reply:
        text = str(body["messages"][-1]["content"])  # type: ignore[index]
        return Reply(next(f"\\boxed{{{a}}}" for q, a in answers.items() if q in text))

    server.responder = respond


# --------------------------------------------------------------------------- problems file


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


def test_sample_data_is_shipped_with_licence() -> None:
    data = sample_file().parent
    lines = (data / "gsm8k_sample.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 50
    first = json.loads(lines[0])
    assert set(first) == {"id", "question", "answer"}
    assert reference_answer(first["answer"]) == "18"
    assert "MIT License" in (data / "GSM8K-LICENSE").read_text(encoding="utf-8")
    assert "openai/grade-school-math" in (data / "GSM8K-README.md").read_text(encoding="utf-8")


# ----------------------------------------------------------------- results file and resume


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


# --------------------------------------------------------------------------- dry run


def test_estimate_counts_only_what_an_eval_would_still_send(
    server: DeepSeekServer, tmp_path: Path
) -> None:
    _respond(server)
    data = _write(tmp_path / "p.jsonl")
    out = tmp_path / "r.jsonl"
    assert estimate_eval(data, output=out).requests == 8  # no results file yet
    eval_math(data, output=out, limit=3)
    est = estimate_eval(data, output=out, samples=3)
    assert (est.problems, est.requests, est.resumed) == (8, 24, 0)  # other samples: all again
    est = estimate_eval(data, output=out)
    assert (est.problems, est.requests, est.resumed) == (5, 5, 3)
    assert "p4: 2+2?" in est.first_request
    assert estimate_eval(data, output=out, restart=True).resumed == 0
    assert estimate_eval(data, limit=2).requests == 2  # no results file: nothing is resumed
    assert len(server.chat_requests) == 3  # estimating sends nothing


def test_default_results_file_is_named_after_the_problems() -> None:
    assert default_output(Path("data/gsm8k.jsonl")) == Path("gsm8k.results.jsonl")


def test_streamed_estimate_equals_a_count_of_each_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistants.llm import LLM
    from assistants.math import eval as evaluation
    from assistants.math import solve

    # no peak hours in the price table, so both counts price every request alike
    prices = json.loads((sample_file().parent / "prices.json").read_text())
    prices.pop("peak", None)
    (tmp_path / "prices.json").write_text(json.dumps(prices))
    settings = load_settings(price_file=tmp_path / "prices.json")
    monkeypatch.setattr(solve, "ESTIMATE_CHUNK", 3)  # several batches and a partial one
    texts = ["What is 2+2?", "Ünïcödé: √2 · π ≈ 3.14159?", "x" * 3000, "  spaced  \n out  ", "½"]
    data = tmp_path / "p.jsonl"
    rows = [{"question": f"{text} #{i}", "answer": i} for i, text in enumerate(texts * 2)]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "r.jsonl"
    out.write_text(  # the first two are already scored, with 2 samples
        "".join(
            EvalItem(
                id=p.id,
                line=p.line,
                problem=p.problem,
                reference=p.reference,
                correct=True,
                status="matches_reference",
                samples=2,
            ).model_dump_json()
            + "\n"
            for p in load_problems(data, limit=2)
        )
    )
    monkeypatch.setattr(evaluation, "load_problems", None)  # the dry run never lists them all

    est = estimate_eval(data, samples=2, output=out, settings=settings)

    llm = LLM("reasoner", task="math", settings=settings)
    direct = [
        llm.estimate(solve._messages(p.problem, settings), output_tokens=est.output_tokens // 16)
        for p in evaluation.iter_problems(data)
    ][2:]
    assert (est.problems, est.requests, est.resumed) == (8, 16, 2)
    assert est.input_tokens == sum(2 * e.input_tokens for e in direct)
    assert est.cost_usd == round(sum(2 * e.cost_usd for e in direct), 6)
    assert est.first_request == solve._messages(texts[2] + " #2", settings)[1][1]
    assert est.system_prompt == solve._messages("", settings)[0][1]


def test_problem_lines_are_numbered_as_in_the_file(tmp_path: Path) -> None:
    data = tmp_path / "p.jsonl"
    rows = [json.dumps({"question": f"q{i}?", "answer": i}) for i in range(3)]
    data.write_bytes(f"{rows[0]}\r\n\r\n{rows[1]}\r{rows[2]}".encode())  # no final newline
    problems = load_problems(data)
    assert [(p.id, p.line, p.problem) for p in problems] == [
        ("1", 1, "q0?"),
        ("3", 3, "q1?"),
        ("4", 4, "q2?"),
    ]
    assert [p.id for p in load_problems(data, limit=2)] == ["1", "3"]


# --------------------------------------------------------------------------- concurrency
def test_item_latency_excludes_the_time_queued(
    server: DeepSeekServer, tmp_path: Path, request_clock: Any
) -> None:
    by_problem = {problem: reply for problem, _, reply in ITEMS[:3]}
    finished = threading.Condition()
    done = [0]

    def progress(count: int, total: int) -> None:
        with finished:
            done[0] = count
            finished.notify_all()

    def respond(body: dict[str, Any]) -> Reply:
        # An item's answer is checked after its slot is free, while the next request may
        # already run: that request waits here until the item is done, so the fake clock
        # cannot tick inside another item's latency.
        with finished:
            finished.wait_for(lambda: done[0] >= request_clock.now, timeout=30)
        request_clock.tick()  # one "second" per request, whatever the real time
        text = str(body["messages"][-1]["content"])
        return next(reply for problem, reply in by_problem.items() if problem in text)

    server.responder = respond
    server.latency = 0.05  # the three really queue behind each other
    settings = load_settings(math={"concurrency": 8})
    report = eval_math(
        _write(tmp_path / "p.jsonl"), limit=3, concurrency=1, settings=settings, progress=progress
    )
    # one at a time (-j 1 wins over the setting), and each latency is its own request only:
    # counted from the queue, they would read 1, 2 and 3 requests
    assert request_clock.now == 3
    assert sorted(item.latency_s for item in report.items) == [1.0, 1.0, 1.0]


def test_concurrency_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="concurrency"):
        eval_math(_write(tmp_path / "p.jsonl"), concurrency=0)

"""Re-grading saved runs and comparing two runs, on results files written by real evals over
the test server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deepseek_server import DeepSeekServer, Reply
from math_runs import scripted_run, write_problems

from assistants import errors
from assistants.config import load_settings
from assistants.math.eval import eval_math
from assistants.math.grade import compare_math_runs, read_run, regrade_math
from assistants.math.models import EvalItem


def _rewrite(path: Path, changes: dict[str, dict[str, object]]) -> None:
    """Edit saved items as an older grader would have left them: top-level fields, and the
    same fields on their single sample."""
    lines = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        for key, value in changes.get(row["id"], {}).items():
            row[key] = value
            if key in ("answer", "correct"):
                row["replies"][0][key] = value
        lines.append(json.dumps(row))
    path.write_text("\n".join(lines) + "\n")


def test_regrade_of_a_fresh_run_changes_nothing(server: DeepSeekServer, tmp_path: Path) -> None:
    run = scripted_run(
        server, write_problems(tmp_path / "p.jsonl", 4), tmp_path / "r.jsonl", {0, 2}
    )
    server.reset()
    report = regrade_math(run)
    assert (report.items, report.samples, report.samples_changed) == (4, 4, 0)
    assert (report.fixed, report.broken, report.changes) == (0, 0, [])
    assert report.before.accuracy == report.after.accuracy == 0.5
    assert report.pass_at_k_after == {1: 0.5}
    assert server.requests == []


def test_regrade_reads_the_saved_text_again(server: DeepSeekServer, tmp_path: Path) -> None:
    run = scripted_run(
        server, write_problems(tmp_path / "p.jsonl", 4), tmp_path / "r.jsonl", {0, 2}
    )
    # an older grader: q1's reply (\boxed{3}, reference 2) was taken as right, q2's reply
    # (\boxed{3}, reference 3) as "30" and wrong
    _rewrite(run, {"q1": {"answer": "2", "correct": True, "status": "matches_reference"},
                   "q2": {"answer": "30", "correct": False, "status": "mismatch"}})  # fmt: skip
    server.reset()
    out = tmp_path / "regraded.jsonl"
    report = regrade_math(run, output=out)
    assert server.requests == []
    assert (report.fixed, report.broken, report.samples_changed) == (1, 1, 2)
    assert report.before.correct == report.after.correct == 2
    changed = {c.id: (c.answer_before, c.answer_after, c.correct_after) for c in report.changes}
    assert changed == {"q1": ("2", "3", False), "q2": ("30", "3", True)}
    again = {item.id: item for item in read_run(out)}
    assert again["q2"].correct and again["q2"].replies[0].answer == "3"
    assert not again["q1"].correct and again["q1"].status == "mismatch"
    assert "q1" in report.to_markdown() and "fixed" in report.to_text()


def test_regrade_refuses_to_overwrite_its_input(server: DeepSeekServer, tmp_path: Path) -> None:
    run = scripted_run(server, write_problems(tmp_path / "p.jsonl", 2), tmp_path / "r.jsonl", {0})
    with pytest.raises(errors.InputError, match="being re-graded"):
        regrade_math(run, output=run)


def test_regrade_refuses_a_file_that_is_not_a_run(tmp_path: Path) -> None:
    problems = write_problems(tmp_path / "p.jsonl", 2)
    with pytest.raises(errors.InputError, match="not a scored item"):
        regrade_math(problems)


def test_compare_two_scripted_runs(server: DeepSeekServer, tmp_path: Path) -> None:
    problems = write_problems(tmp_path / "p.jsonl", 10)
    a = scripted_run(server, problems, tmp_path / "a.jsonl", right={0, 1})
    b = scripted_run(server, problems, tmp_path / "b.jsonl", right=set(range(1, 9)))
    server.reset()
    report = compare_math_runs(a, b, seed=0)
    assert server.requests == []
    assert report.common == 10
    assert [i.id for i in report.fixed] == [f"q{i}" for i in range(2, 9)]
    assert [i.id for i in report.broken] == ["q0"]
    # 7 fixed, 1 broken: 2 * (C(8,0) + C(8,1)) / 2^8
    assert abs(report.mcnemar_p - 2 * (1 + 8) / 2**8) < 1e-6
    assert report.difference is not None
    assert report.difference.estimate == pytest.approx(0.6)
    assert report.difference.low <= 0.6 <= report.difference.high
    assert compare_math_runs(a, b, seed=0).difference == report.difference  # seeded
    assert (report.a.correct, report.b.correct) == (2, 8)
    assert report.a.cost_usd > 0
    assert report.a.cost_per_correct_usd == pytest.approx(report.a.cost_usd / 2, abs=1e-6)
    assert report.b.cost_per_correct_usd == pytest.approx(report.b.cost_usd / 8, abs=1e-6)
    text = report.to_text()
    assert "+60.0%" in text and "p = 0.07031" in text


def test_compare_only_common_items(server: DeepSeekServer, tmp_path: Path) -> None:
    a = scripted_run(server, write_problems(tmp_path / "p.jsonl", 4), tmp_path / "a.jsonl", {0})
    b = scripted_run(server, write_problems(tmp_path / "q.jsonl", 2), tmp_path / "b.jsonl", {0, 1})
    report = compare_math_runs(a, b)
    assert report.common == 2
    assert report.only_a == ["q2", "q3"]
    assert [i.id for i in report.fixed] == ["q1"]
    assert report.mcnemar_p == 1.0


def test_compare_refuses_other_problems(tmp_path: Path) -> None:
    item = EvalItem(id="1", line=1, problem="p", reference="1", correct=True, status="mismatch")
    (tmp_path / "a.jsonl").write_text(item.model_dump_json() + "\n")
    other = item.model_copy(update={"reference": "2"})
    (tmp_path / "b.jsonl").write_text(other.model_dump_json() + "\n")
    with pytest.raises(errors.InputError, match="another reference"):
        compare_math_runs(tmp_path / "a.jsonl", tmp_path / "b.jsonl")
    (tmp_path / "c.jsonl").write_text(item.model_copy(update={"id": "9"}).model_dump_json() + "\n")
    with pytest.raises(errors.InputError, match="no item in common"):
        compare_math_runs(tmp_path / "a.jsonl", tmp_path / "c.jsonl")


def test_eval_keeps_every_sample_and_reports_pass_and_maj_at_k(
    server: DeepSeekServer, tmp_path: Path
) -> None:
    data = tmp_path / "one.jsonl"
    data.write_text(json.dumps({"id": "x", "problem": "x?", "answer": "1/2"}) + "\n")
    # samples in order: wrong (3), right (0.5), wrong (3), right (\frac12): a tie of two
    # groups, the first (wrong) one leading
    server.enqueue(
        Reply("\\boxed{3}"), Reply("\\boxed{0.5}"), Reply("\\boxed{3}"),
        Reply("\\boxed{\\frac{1}{2}}"),
    )  # fmt: skip
    out = tmp_path / "r.jsonl"
    report = eval_math(data, samples=4, output=out, settings=load_settings(math={"concurrency": 1}))
    assert len(server.chat_requests) == 4  # no early stop: every sample is asked
    item = report.items[0]
    assert [s.correct for s in item.replies] == [False, True, False, True]
    assert [s.group for s in item.replies] == [0, 1, 0, 1]
    assert [s.content for s in item.replies][1] == "\\boxed{0.5}"
    assert all(s.usage.requests == 1 and s.usage.cost_usd > 0 for s in item.replies)
    assert not item.correct  # the tie goes to the answer that came first
    # pass@k with n=4, c=2: @1 = 1/2, @2 = 1 - C(2,2)/C(4,2) = 5/6, @4 = 1
    assert report.pass_at_k == pytest.approx({1: 0.5, 2: 5 / 6, 4: 1.0}, abs=1e-6)
    assert report.maj_at_k == {1: 0.0, 2: 0.0, 4: 0.0}  # a tie at 2 and at 4: "3" first
    saved = read_run(out)[0]
    assert saved.replies == item.replies
    assert "pass@k" in report.to_text()


@pytest.mark.parametrize(
    ("rows", "layout"),
    [
        ([{"question": "a?", "answer": "work\n#### 4"}], "gsm8k"),
        ([{"problem": "a?", "solution": "so \\boxed{4}"}], "math"),
        ([{"problem": "a?", "solution": "so \\boxed{4}", "answer": "4"}], "math-500"),
        ([{"problem": "a?", "answer": "204"}], "aime"),
        ([{"question": "a?", "answer": "4"}], "question-answer"),
        ([{"question": "a?", "answer": "#### 4"}, {"problem": "b?", "answer": "5"},
          {"problem": "c?", "answer": "6"}], "mixed: aime 2, gsm8k 1"),
    ],
)  # fmt: skip
def test_layout_is_detected(tmp_path: Path, rows: list[dict[str, str]], layout: str) -> None:
    from assistants.math.eval import estimate_eval

    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    est = estimate_eval(path)
    assert est.layout == layout
    assert f"layout: {layout}" in est.to_text()


def test_regrade_of_lines_without_saved_samples(tmp_path: Path) -> None:
    # written before samples were kept: only the final answer can be checked again
    old = EvalItem(id="1", line=1, problem="p", reference="1/2", answer="0.5", correct=False,
                   status="mismatch", samples=1)  # fmt: skip
    run = tmp_path / "old.jsonl"
    run.write_text(old.model_dump_json() + "\n")
    report = regrade_math(run)
    assert (report.fixed, report.broken, report.samples) == (1, 0, 0)
    assert report.after.accuracy == 1.0
    assert any("no saved answer text" in note for note in report.notes)

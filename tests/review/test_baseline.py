"""Baselines: fingerprints that survive moved code and reworded titles, new findings reported,
repeated identical lines, the file format, refreshing and reading errors."""

from __future__ import annotations

import json
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedChatModel
from marker_replies import marker_reply
from review_samples import review_settings

from assistants.errors import InputError
from assistants.review.anchor import fingerprint
from assistants.review.baseline import Baseline, BaselineEntry, load_baseline
from assistants.review.models import Review
from assistants.review.run import review_path

APP = """import os


def load(text):
    return eval(text)


def size(path):
    return os.path.getsize(path)
"""


def reviewer(marker: str = "eval(", reword: bool = False) -> ScriptedChatModel:
    """A model reporting every line holding ``marker``; with ``reword`` each request words
    the title differently (as a model re-run does)."""
    n = count(1)

    def answer(messages: list[Any]) -> str:
        title = f"dangerous eval, take {next(n)}" if reword else "eval of untrusted input"
        return marker_reply(messages[-1].content, marker, title=title)

    return ScriptedChatModel(replies=[answer], repeat_last=True)


def review(root: Path, **kw: Any) -> Review:
    return review_path(root, settings=review_settings(), model=reviewer(**kw))


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(APP, encoding="utf-8")
    return root


def test_a_baselined_finding_survives_a_30_line_move_and_a_reworded_title(app: Path) -> None:
    first = review(app)
    (finding,) = first.findings
    assert finding.line_start == 5
    baseline = Baseline.from_review(first)

    source = app / "app.py"
    lines = source.read_text().splitlines()
    padding = [f"CONSTANT_{i} = {i}" for i in range(30)]
    source.write_text("\n".join(lines[:2] + padding + lines[2:]) + "\n", encoding="utf-8")
    moved = review(app, reword=True)
    (again,) = moved.findings
    assert again.line_start == 35 and again.title != finding.title  # moved and reworded
    assert again.fingerprint == finding.fingerprint

    filtered = baseline.apply(moved)
    assert filtered.findings == [] and filtered.suppressed_counts == {"inline": 0, "baseline": 1}
    assert filtered.suppressed[0].line_start == 35
    assert filtered.exit_code("low") == 0 and moved.exit_code("low") == 1  # the gate follows


def test_a_new_finding_is_reported_and_the_old_one_held_back(app: Path) -> None:
    baseline = Baseline.from_review(review(app))
    with (app / "app.py").open("a", encoding="utf-8") as handle:
        handle.write("\n\ndef run(code):\n    exec(code)\n    return eval(code + '1')\n")
    filtered = baseline.apply(review(app, reword=True))
    assert [f.line_start for f in filtered.findings] == [14]
    assert [f.line_start for f in filtered.suppressed] == [5]


def test_other_code_or_category_on_the_moved_line_is_a_new_finding(app: Path) -> None:
    baseline = Baseline.from_review(review(app))
    source = app / "app.py"
    source.write_text(APP.replace("eval(text)", "eval(text.strip())"), encoding="utf-8")
    assert len(baseline.apply(review(app)).findings) == 1  # the code changed: not the same
    source.write_text(APP, encoding="utf-8")
    model = ScriptedChatModel(
        replies=[lambda m: marker_reply(m[-1].content, "eval(", category="bug")],
        repeat_last=True,
    )
    as_bug = review_path(app, settings=review_settings(), model=model)
    assert len(baseline.apply(as_bug).findings) == 1  # another category: not the same


def test_identical_lines_get_distinct_fingerprints_and_a_third_copy_is_new(app: Path) -> None:
    twice = APP + "\n\ndef again(text):\n    return eval(text)\n"
    (app / "app.py").write_text(twice, encoding="utf-8")
    first = review(app)
    prints = [f.fingerprint for f in first.findings]
    assert len(prints) == 2 and len(set(prints)) == 2
    baseline = Baseline.from_review(first)
    assert len(baseline.findings) == 2
    thrice = twice + "\n\ndef third(text):\n    return eval(text)\n"
    (app / "app.py").write_text(thrice, encoding="utf-8")
    last = thrice.splitlines().index("def third(text):") + 2
    filtered = baseline.apply(review(app))
    assert [f.line_start for f in filtered.findings] == [last]  # the last copy in line order
    assert len(filtered.suppressed) == 2


def test_the_file_is_sorted_stable_and_free_of_line_numbers(app: Path, tmp_path: Path) -> None:
    (app / "b.py").write_text("x = eval('1')\n", encoding="utf-8")
    (app / "a.py").write_text("y = eval('2')\n", encoding="utf-8")
    result = review(app)
    path = tmp_path / "base.json"
    Baseline.from_review(result).save(path)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["version"] == 1 and data["tool"] == "assistants-review"
    paths = [e["path"] for e in data["findings"]]
    assert paths == sorted(paths) and len(paths) == 3
    assert all(set(e) == {"path", "category", "fingerprint", "title"} for e in data["findings"])
    # a re-run with reworded titles writes the same bytes (titles kept from the old file)
    refreshed = load_baseline(path).updated(review(app, reword=True))
    assert refreshed.to_json() == text
    assert load_baseline(path) == Baseline.from_review(result)


def test_update_replaces_reviewed_files_and_keeps_the_rest(app: Path) -> None:
    old = Baseline.from_review(review(app))
    gone = BaselineEntry(path="elsewhere.py", category="bug", fingerprint="0" * 16, title="x")
    old = Baseline.of([*old.findings, gone])
    (app / "app.py").write_text(APP.replace("eval(text)", "int(text)"), encoding="utf-8")
    fixed = review(app)
    assert fixed.findings == []
    updated = old.updated(fixed)
    assert updated.findings == [gone]  # the fixed one dropped, the unreviewed file kept
    diffish = fixed.model_copy(update={"mode": "diff"})
    assert old.updated(diffish) == old  # a diff sees part of a file: drops nothing


def test_inline_suppressed_findings_are_not_written_to_a_baseline(app: Path) -> None:
    (app / "app.py").write_text(
        APP.replace("eval(text)", "eval(text)  # assistants: ignore"), encoding="utf-8"
    )
    result = review(app)
    assert result.suppressed_counts["inline"] == 1
    assert Baseline.from_review(result).findings == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "does not exist"),
        ("{not json", "is not JSON"),
        ('{"tool": "semgrep", "findings": []}', "is not an assistants review baseline"),
        ('{"version": 9, "findings": []}', "has version 9"),
        ('{"version": 1, "findings": [{"path": "a", "category": "bug", "fingerprint": "x"}]}',
         "findings.0.fingerprint"),
        ('{"version": 1, "findings": [{"path": "a", "category": "nit", "fingerprint": "'
         + "a" * 16 + '"}]}', "findings.0.category"),
    ],
)  # fmt: skip
def test_a_bad_baseline_is_a_one_line_input_error(
    tmp_path: Path, text: str | None, message: str
) -> None:
    path = tmp_path / "base.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as err:
        load_baseline(path)
    assert "\n" not in err.value.message


def test_a_missing_baseline_may_be_about_to_be_written(tmp_path: Path) -> None:
    assert load_baseline(tmp_path / "new.json", missing_ok=True) == Baseline()


def test_the_fingerprint_ignores_whitespace_but_not_code_path_or_category() -> None:
    base = fingerprint("a.py", "bug", "x = f(1)")
    assert fingerprint("a.py", "bug", "   x  =\tf(1)  ") == base  # re-indented
    assert len({base, *(fingerprint(*o) for o in OTHERS)}) == 1 + len(OTHERS)


OTHERS = [("b.py", "bug", "x = f(1)"), ("a.py", "style", "x = f(1)"), ("a.py", "bug", "x = f(2)")]

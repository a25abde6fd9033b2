"""The shipped corpus of the reviewer's benchmark: its shape, its provenance, and reading it."""

from __future__ import annotations

import difflib
import json
from collections import Counter
from pathlib import Path

import pytest
from unidiff import PatchSet

from assistants.errors import InputError
from assistants.review.bench.corpus import apply_diff, corpus_dir, load_corpus

OPERATORS = {
    "off-by-one", "flipped-comparison", "and-or-swap", "removed-none-check",
    "swapped-arguments", "missing-await", "string-built-sql", "resource-not-closed",
    "swallowed-exception",
}  # fmt: skip


def test_about_200_seeded_and_50_clean_diffs_in_both_languages() -> None:
    corpus = load_corpus()
    kinds = Counter(c.kind for c in corpus.cases)
    assert 180 <= kinds["seeded"] <= 220 and kinds["clean"] == 50
    assert set(corpus.operators) == OPERATORS
    assert {c.language for c in corpus.cases} == {"python", "javascript"}
    assert {c.operator for c in corpus.cases if c.kind == "clean"} == {
        "rename-local", "reformat", "comment-only",
    }  # fmt: skip
    assert len({c.id for c in corpus.cases}) == len(corpus.cases)


def test_every_file_names_its_project_version_and_licence() -> None:
    corpus = load_corpus()
    licences = {p.name for p in (corpus_dir() / "LICENSES").iterdir()}
    attribution = (corpus_dir() / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for f in corpus.files.values():
        assert f.license in {"MIT", "BSD-3-Clause", "Apache-2.0", "ISC"}
        assert f"{f.project}-{f.version}.txt" in licences
        assert f"| {f.project} | {f.version} | {f.registry} | {f.license} |" in attribution


def test_each_diff_applies_and_its_line_is_a_changed_line() -> None:
    corpus = load_corpus()
    for case in corpus.cases:
        original = corpus.files[case.file]
        changed = apply_diff(original.text, case.diff)
        assert changed != original.text
        redone = difflib.unified_diff(
            original.text.splitlines(True),
            changed.splitlines(True),
            f"a/{original.path}",
            f"b/{original.path}",
        )
        assert "".join(redone) == case.diff, case.id
        added = {ln.target_line_no for h in PatchSet(case.diff)[0] for ln in h if ln.is_added}
        assert case.line in added, case.id


def test_apply_diff_refuses_a_diff_that_does_not_match() -> None:
    diff = "--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n a = 1\n-b = 2\n+b = 3\n"
    assert apply_diff("a = 1\nb = 2\nc = 3\n", diff) == "a = 1\nb = 3\nc = 3\n"
    with pytest.raises(InputError, match="does not apply at line 2"):
        apply_diff("a = 1\nb = 9\n", diff)


def test_filters_and_a_limit_spread_over_the_groups() -> None:
    only = load_corpus(operators=["missing-await"], language="javascript")
    assert {(c.kind, c.language) for c in only.cases} == {
        ("seeded", "javascript"), ("clean", "javascript"),
    }  # fmt: skip
    assert {c.operator for c in only.cases if c.kind == "seeded"} == {"missing-await"}
    first = load_corpus(limit=22).cases
    groups = {(c.operator, c.language) for c in first}
    assert len(groups) == 22  # one of each (operator or clean kind, language)
    assert [c.id for c in load_corpus(limit=22).cases] == [c.id for c in first]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"operators": ["off-by-two"]}, "unknown operator"),
        ({"language": "cobol"}, "unknown language"),
    ],
)
def test_unknown_filters_name_the_known_ones(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        load_corpus(**kwargs)  # type: ignore[arg-type]
    assert caught.value.hint and "known:" in caught.value.hint


def test_a_broken_corpus_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "files.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "cases.jsonl").write_text("not json\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"cases.jsonl:1: not JSON"):
        load_corpus(tmp_path)
    (tmp_path / "files.jsonl").write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"files.jsonl:1: not a corpus record") as caught:
        load_corpus(tmp_path)
    assert caught.value.hint and "license" in caught.value.hint
    with pytest.raises(InputError, match="cannot read the corpus"):
        load_corpus(tmp_path / "missing")


def test_the_corpus_ships_in_the_package() -> None:
    rows = (corpus_dir() / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(rows[0])["id"]
    assert corpus_dir().parent.name == "data" and corpus_dir().parent.parent.name == "assistants"

"""Code spans: enclosing definitions, cut points of large files, merged line ranges."""

from __future__ import annotations

from review_samples import DEFS_PY

from assistants.review.spans import cut_points, enclosing_span, merge_ranges, split_lines


def test_enclosing_span_python_and_regex() -> None:
    lines = DEFS_PY.splitlines()
    n = lines.index("    y = x + 5") + 1
    assert enclosing_span(DEFS_PY, "python", n) == (n - 1, n + 1)
    js = "const a = 1;\n\nfunction foo(x) {\n  if (x) {\n    return 1;\n  }\n  return 2;\n}\n"
    assert enclosing_span(js, "javascript", 5) == (3, 8)


def test_cut_points_on_definitions() -> None:
    points = cut_points(DEFS_PY, "python")
    assert points[:3] == [1, 3, 7]
    go = "package main\n\nfunc a() {\n}\n\n// b does b\nfunc b() {\n}\n"
    assert cut_points(go, "go") == [1, 3, 6]


def test_merge_ranges_joins_overlapping_and_adjacent() -> None:
    assert merge_ranges([(5, 9), (1, 3), (4, 4), (12, 15), (14, 20)]) == [(1, 9), (12, 20)]
    assert merge_ranges([(1, 2), (4, 5)], gap=0) == [(1, 2), (4, 5)]


def test_lines_split_as_git_counts_them() -> None:
    assert split_lines("a\x0cb\r\nc\n") == ["a\x0cb\r", "c"]
    assert split_lines("") == []

"""Scoring the reviewer's benchmark: the ±2-line window, totals, the interval, the report."""

from __future__ import annotations

import pytest

from assistants.llm.usage import Usage
from assistants.review.bench.models import (
    CaseRecord,
    FindingBrief,
    Group,
    ReviewBenchReport,
    RunInfo,
)
from assistants.review.bench.run import hits
from assistants.review.models import Finding
from assistants.stats import wilson


def finding(start: int, end: int | None = None, path: str = "a.py") -> Finding:
    return Finding(
        path=path, line_start=start, line_end=end or start, severity="high", category="bug",
        title="t",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("start", "end", "hit"),
    [(10, 10, True), (8, 8, True), (12, 12, True), (7, 7, False), (13, 13, False),
     (3, 7, False), (3, 8, True), (12, 20, True)],
)  # fmt: skip
def test_a_finding_counts_within_two_lines_of_the_seeded_line(
    start: int, end: int, hit: bool
) -> None:
    assert bool(hits([finding(start, end)], "a.py", 10)) is hit
    assert not hits([finding(start, end, path="b.py")], "a.py", 10)


def test_wilson_interval_matches_the_textbook_values() -> None:
    assert wilson(0, 10) == (0.0, 0.2775)
    assert wilson(5, 10) == (0.2366, 0.7634)
    assert wilson(10, 10) == (0.7225, 1.0)
    assert wilson(0, 0) == (0.0, 0.0)


def record(rid: str, kind: str, op: str, **kw: object) -> CaseRecord:
    return CaseRecord(id=rid, kind=kind, operator=op, language="python", path="a.py", line=5,
                      **kw)  # type: ignore[arg-type]  # fmt: skip


def brief(n: int) -> list[FindingBrief]:
    return [FindingBrief(line_start=1, line_end=1, severity="low", category="bug", title="x")] * n


def test_totals_keep_failed_diffs_out_of_the_scores_but_count_their_cost() -> None:
    paid = Usage(requests=1, cache_miss_tokens=100, output_tokens=10, cost_usd=0.001)
    records = [
        record("s1", "seeded", "off-by-one", findings=brief(2), found=True, severity="high",
               matched=1, other=1, usage=paid),
        record("s2", "seeded", "off-by-one", usage=paid),
        record("s3", "seeded", "missing-await", error="ServerError: boom", usage=paid),
        record("c1", "clean", "reformat", findings=brief(3), false_positives=3, usage=paid),
        record("c2", "clean", "reformat", usage=paid),
    ]  # fmt: skip
    g = Group.of(records)
    assert (g.seeded, g.clean, g.errors, g.found) == (2, 2, 1, 1)
    assert g.recall == 0.5 and g.recall_interval == wilson(1, 2)
    assert g.false_positives == 3 and g.false_positives_per_clean_diff == 1.5
    assert g.findings == 5 and g.precision == 0.2  # 1 matched of 5 findings
    assert g.other == 1 and g.severities == {"high": 1}
    assert g.usage.requests == 5 and g.cost_per_diff == round(0.005 / 4, 8)
    assert g.tokens_per_diff == 550 / 4
    empty = Group.of([])
    assert empty.recall is None and empty.precision is None and empty.cost_per_diff is None


def test_the_report_groups_by_operator_and_language_and_renders() -> None:
    records = [
        record("s1", "seeded", "off-by-one", found=True, severity="medium", matched=1,
               findings=brief(1)),
        record("s2", "seeded", "missing-await", error="ResponseError: bad"),
        record("c1", "clean", "reformat"),
    ]  # fmt: skip
    run = RunInfo(model="m", base_url="http://127.0.0.1:1", think=False, corpus="ab" * 32,
                  cases=3)  # fmt: skip
    report = ReviewBenchReport.of(run, records)
    assert set(report.by_operator) == {"off-by-one", "missing-await", "reformat"}
    assert report.by_operator["off-by-one"].recall == 1.0
    assert report.by_operator["missing-await"].errors == 1
    assert set(report.by_language) == {"python"}
    text = report.to_markdown()
    assert "| off-by-one | 1/1 | 100% (21–100)" in text
    assert "- s2: ResponseError: bad" in text
    assert "thinking off" in text and report.to_text() == text

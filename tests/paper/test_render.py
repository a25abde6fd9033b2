"""Rendering of paper results: report file names of a batch, and the batch index as
markdown and as plain text."""

from __future__ import annotations

from pathlib import Path

from assistants.llm import Usage
from assistants.paper.models import BatchItem, BatchResult, PaperAnalysis, PaperEstimate
from assistants.paper.render import estimate_text


def test_batch_index_names(tmp_path: Path) -> None:
    from assistants.paper.render import report_name

    used: set[str] = set()
    assert report_name("a/b paper.pdf", ".md", used) == "a_b_paper.md"
    assert report_name("a/b paper.pdf", ".md", used) == "a_b_paper-2.md"
    assert report_name("index.pdf", ".md", used) == "index-2.md"


def _batch() -> BatchResult:
    analysis = PaperAnalysis(
        source="a.pdf",
        title="Sparse | Widgets",
        page_count=9,
        usage=Usage(requests=1, cache_miss_tokens=1200, output_tokens=300, cost_usd=0.0123),
    )
    return BatchResult(
        folder="papers",
        items=[
            BatchItem(source="a.pdf", ok=True, analysis=analysis),
            BatchItem(source="b.pdf", ok=False, error="not a PDF", hint="pass a .pdf"),
        ],
        usage=analysis.usage,
    )


def test_batch_index_as_markdown() -> None:
    index = _batch().to_markdown({"a.pdf": "a.md"})
    assert index.startswith("# Papers in papers\n")
    assert "| a.pdf | Sparse \\| Widgets | 9 | single | [a.md](a.md) |" in index
    assert "1 analysed, 1 failed · 1 request(s)" in index and "$0.0123" in index
    assert "## Failures\n\n- b.pdf: not a PDF (hint: pass a .pdf)" in index


def test_batch_to_text_is_plain_text() -> None:
    text = _batch().to_text()
    assert text == (
        "Papers in papers\n"
        "================\n"
        "\n"
        "1 analysed, 1 failed · 1 request(s) · 1,200 input tokens (0 cache hits) · "
        "300 output tokens · $0.0123\n"
        "\n"
        "- a.pdf: Sparse | Widgets (9 pages, single)\n"
        "\n"
        "Failures\n"
        "--------\n"
        "- b.pdf: not a PDF (hint: pass a .pdf)\n"
    )
    assert text != _batch().to_markdown()


def test_money_has_four_decimals_below_100_dollars() -> None:
    estimate = PaperEstimate(
        requests=2, input_tokens=1000, output_tokens=100, cost_usd=0.00042, model="m"
    )
    assert "estimated cost: $0.0004\n" in estimate_text(estimate)
    analysis = PaperAnalysis(source="a.pdf", model="m", usage=Usage(requests=1, cost_usd=12.5))
    assert analysis.to_markdown().endswith(
        "m · 1 request(s) · 0 input tokens (0 cache hits) · 0 output tokens · $12.5000\n"
    )

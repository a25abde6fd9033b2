"""Rendering of paper results: report file names of a batch, and the batch index as
markdown and as plain text."""

from __future__ import annotations

from pathlib import Path


def test_batch_index_names(tmp_path: Path) -> None:
    from assistants.paper.render import report_name

    used: set[str] = set()
    assert report_name("a/b paper.pdf", ".md", used) == "a_b_paper.md"
    assert report_name("a/b paper.pdf", ".md", used) == "a_b_paper-2.md"
    assert report_name("index.pdf", ".md", used) == "index-2.md"

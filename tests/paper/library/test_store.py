"""The library index: FTS5 passages of real generated PDFs, incremental by content hash (an
unchanged folder opens no PDF), removed files dropped, changed files re-read, moves kept."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from library_pdfs import NEEDLE, NEEDLE_PAGE, NEEDLE_QUESTION, BuiltLibrary, paper_spec
from library_pdfs import build_library_paper as build_one
from pdfs import build_simple

from assistants import errors
from assistants.config import load_settings
from assistants.paper.library import store as store_module
from assistants.paper.library.core import Library
from assistants.paper.library.store import INDEX_NAME, fts_query


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file the index hands to the PDF loader (the real loader still runs)."""
    seen: list[str] = []
    real = store_module.load_paper

    def spy(path: Any, **kwargs: Any) -> Any:
        seen.append(Path(path).name)
        return real(path, **kwargs)

    monkeypatch.setattr(store_module, "load_paper", spy)
    return seen


def test_the_library_of_30_is_indexed_with_metadata(built_library: BuiltLibrary) -> None:
    papers = Library(built_library.folder).papers(refresh=False)
    assert len(papers) == 30
    by_source = {p.source: p for p in papers}
    for spec in built_library.specs:
        paper = by_source[spec.path.relative_to(built_library.folder).as_posix()]
        assert paper.title == spec.title
        assert paper.authors == spec.authors
        assert paper.year == spec.year
        assert paper.arxiv_id == spec.arxiv_id
        assert paper.page_count == 3 and paper.passages == 3 and paper.tokens > 0
    assert any(p.source.startswith("older/") for p in papers)  # recursive
    assert (built_library.folder / INDEX_NAME).is_file()


def test_search_finds_the_page_with_the_fact(library_dir: Path, loads: list[str]) -> None:
    found = Library(library_dir).search(NEEDLE_QUESTION, limit=3)
    best = found.passages[0]
    assert best.source.startswith(f"{NEEDLE:03d}-") and best.page == NEEDLE_PAGE
    assert "97.3 percent" in best.text and "**zebrafish**" in best.snippet
    assert found.passages[0].score > found.passages[1].score
    assert loads == []  # the copied index is current: nothing read
    assert "zebrafish" in found.to_markdown()


def test_reindex_of_an_unchanged_folder_reads_no_pdf(library_dir: Path, loads: list[str]) -> None:
    for path in library_dir.rglob("*.pdf"):  # a new time, same content: hashed, not parsed
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    report = Library(library_dir).index()
    assert (report.read, report.unchanged, report.papers) == (0, 30, 30)
    assert not (report.added or report.updated or report.removed)
    again = Library(library_dir).index()
    assert again.read == 0 and loads == []


def test_changed_removed_and_moved_files(library_dir: Path, loads: list[str]) -> None:
    changed = paper_spec(library_dir, 2)
    changed.facts[3] = "The harmonica estimator converges after 12 epochs."
    build_one(changed)
    removed = next(library_dir.glob("001-*.pdf"))
    removed.unlink()
    moved = next(library_dir.glob("003-*.pdf"))
    (library_dir / "moved").mkdir()
    moved.rename(library_dir / "moved" / moved.name)
    build_simple(library_dir / "new.pdf", text="Brand new harmonica page")

    report = Library(library_dir).index()
    assert sorted(loads) == sorted([changed.path.name, "new.pdf"])
    assert report.updated == [changed.path.name] and report.added == ["new.pdf"]
    assert report.removed == [removed.name] and report.moved == [f"moved/{moved.name}"]
    assert report.papers == 30
    hits = Library(library_dir).search("harmonica", limit=5, refresh=False).passages
    assert {h.source for h in hits} == {changed.path.name, "new.pdf"}
    assert not Library(library_dir).search("protein", refresh=False).passages  # 001 was protein
    assert (
        Library(library_dir).search("vision", refresh=False).passages[0].source.startswith("moved/")
    )


def test_a_broken_pdf_is_reported_and_not_retried(library_dir: Path, loads: list[str]) -> None:
    (library_dir / "broken.pdf").write_bytes(b"%PDF-1.4\n" + b"garbage " * 50)
    first = Library(library_dir).index()
    assert [f.source for f in first.failures] == ["broken.pdf"] and first.papers == 30
    second = Library(library_dir).index()
    assert [f.source for f in second.failures] == ["broken.pdf"]
    assert loads == ["broken.pdf"]  # read once


@pytest.fixture
def small_library(tmp_path: Path) -> Path:
    folder = tmp_path / "small"
    folder.mkdir()
    for index in range(2):
        build_one(paper_spec(folder, index))
    Library(folder).index()
    return folder


def test_changing_cut_references_rereads(small_library: Path, loads: list[str]) -> None:
    settings = load_settings(paper={"cut_references": False})
    assert Library(small_library, settings=settings).index().read == 2
    assert Library(small_library, settings=settings).index().read == 0
    assert len(loads) == 2


def test_a_damaged_index_is_rebuilt(small_library: Path, loads: list[str]) -> None:
    (small_library / INDEX_NAME).write_bytes(b"not a database at all" * 100)
    report = Library(small_library).index()
    assert report.read == 2 and report.papers == 2
    with sqlite3.connect(small_library / INDEX_NAME) as conn:
        assert conn.execute("SELECT count(*) FROM passages").fetchone()[0] == 6


def test_query_words_are_quoted_never_syntax() -> None:
    assert fts_query('What is the NEAR AND-accuracy of "x"* (y)?') == ('"near" OR "accuracy"')
    assert fts_query("What is it?") == ""


def test_not_a_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="not a folder"):
        Library(tmp_path / "missing")

"""``Library(folder)``: index a folder of PDFs, search it, ask it questions, compare its
papers and list their BibTeX entries. Every method that reads the index first brings it up to
date (only new or changed files are read), so an answer never comes from a stale index."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ... import errors
from ...config import Settings
from ...llm import Progress, run_sync
from ..request import paper_llm, resolve_settings
from .ask import aask_library, to_passage
from .models import Comparison, IndexReport, LibraryAnswer, LibraryPaper, SearchResult
from .store import LibraryStore, fts_query

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["Library"]


class Library:
    """The papers (PDFs, recursively) in ``folder``; the index is
    ``folder/.assistants-library.sqlite`` unless ``index_path`` names another file.

    ``model`` injects a chat model (tests); ``settings``, ``lang`` and ``password`` (of
    encrypted PDFs) are as for :func:`~assistants.analyze_paper`.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        settings: Settings | None = None,
        model: BaseChatModel | None = None,
        index_path: str | Path | None = None,
        lang: str | None = None,
        password: str | None = None,
    ) -> None:
        self.settings = resolve_settings(settings)
        self.store = LibraryStore(folder, index_path)
        self.folder = self.store.folder
        self.model = model
        self.lang = lang or self.settings.lang
        self.password = password

    def __repr__(self) -> str:
        return f"Library({str(self.folder)!r})"

    def index(self, *, progress: Progress | None = None) -> IndexReport:
        """Bring the index up to date: new and changed PDFs are read, removed ones dropped;
        an unchanged folder opens no PDF (``report.read == 0``)."""
        return self.store.update(self.settings, password=self.password, progress=progress)

    def papers(self, *, refresh: bool = True) -> list[LibraryPaper]:
        """The indexed papers (sorted by path) with their metadata and citation labels."""
        if refresh:
            self.index()
        return sorted(self.store.papers().values(), key=lambda p: p.source)

    def search(self, query: str, *, limit: int = 10, refresh: bool = True) -> SearchResult:
        """The passages that best match ``query`` (BM25 over the words of the query)."""
        if limit < 1:
            raise errors.InputError("search: the limit must be at least 1")
        if refresh:
            self.index()
        papers = self.store.papers()
        rows = self.store.search(fts_query(query), limit)
        found = [to_passage(row, papers[row.paper_id]) for row in rows if row.paper_id in papers]
        return SearchResult(folder=str(self.folder), query=query, passages=found)

    async def aask(
        self,
        question: str,
        *,
        passages: int = 8,
        budget: int = 6_000,
        per_paper: int = 3,
        dry_run: bool = False,
        refresh: bool = True,
    ) -> LibraryAnswer:
        """Async :meth:`ask`."""
        import asyncio

        question = question.strip()
        if not question:
            raise errors.InputError("the question is empty")
        if passages < 1 or budget < 1 or per_paper < 1:
            raise errors.InputError("passages, budget and per_paper must be at least 1")
        if refresh:
            await asyncio.to_thread(self.index)
        return await aask_library(
            self.store,
            question,
            settings=self.settings,
            llm=paper_llm(self.settings, self.model),
            lang=self.lang,
            passages=passages,
            budget=budget,
            per_paper=per_paper,
            dry_run=dry_run,
        )

    def ask(
        self,
        question: str,
        *,
        passages: int = 8,
        budget: int = 6_000,
        per_paper: int = 3,
        dry_run: bool = False,
        refresh: bool = True,
    ) -> LibraryAnswer:
        """Answer ``question`` from the library's best passages (at most ``passages``, within
        ``budget`` tokens, ``per_paper`` from one paper), citing ``(Author Year, p. N)``;
        citations that name no passage sent are marked unverified. Says plainly when the
        library does not answer (``answerable`` false)."""
        return run_sync(
            self.aask(
                question,
                passages=passages,
                budget=budget,
                per_paper=per_paper,
                dry_run=dry_run,
                refresh=refresh,
            )
        )

    def bibtex(self, *, refresh: bool = True) -> str:
        """BibTeX entries of every indexed paper (keys unique within the library)."""
        from .bibtex import bibtex_entries

        return bibtex_entries(self.papers(refresh=refresh))

    def compare(
        self, query: str, *, top: int = 4, dry_run: bool = False, refresh: bool = True
    ) -> Comparison:
        """Compare the ``top`` papers whose passages best match ``query`` (see
        :func:`~assistants.paper.library.compare.compare_papers`)."""
        from .compare import compare_papers

        sources = self.pick(query, top=top, refresh=refresh)
        return compare_papers(
            [self.folder / source for source in sources],
            settings=self.settings,
            model=self.model,
            lang=self.lang,
            dry_run=dry_run,
            password=self.password,
            names=sources,
        )

    def pick(self, query: str, *, top: int, refresh: bool = True) -> list[str]:
        """The ``top`` papers (their paths in the library) whose passages best match."""
        if top < 1:
            raise errors.InputError("top must be at least 1")
        found = self.search(query, limit=max(50, top * 10), refresh=refresh).passages
        sources: list[str] = []
        for passage in found:
            if passage.source not in sources:
                sources.append(passage.source)
        if not sources:
            raise errors.InputError(
                f"{self.folder}: no paper matches {query!r}", hint="try other words"
            )
        return sources[:top]

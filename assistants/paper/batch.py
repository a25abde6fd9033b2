"""Analyse every paper in a folder concurrently: one :class:`PaperAnalysis` per paper, a
paper that fails listed in the :class:`BatchResult` and never fatal for the others."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import errors
from ..config import Settings
from ..llm import Limiter, Progress, Usage
from ..llm.bridge import sync_twin
from .analyze import aanalyze_paper
from .models import BatchItem, BatchResult, PaperAnalysis
from .request import as_paper, paper_llm, resolve_settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["PAPER_SUFFIXES", "aanalyze_folder", "analyze_folder", "paper_files"]

PAPER_SUFFIXES = (".pdf", ".md", ".markdown", ".txt")
# PDF worker processes started at once by a batch (each a Python process of up to
# paper.max_memory_mb): at most this many, and never more than the paper concurrency.
MAX_LOADING = 4


def paper_files(folder: Path, exclude: Sequence[str | Path] = ()) -> list[Path]:
    """The papers in ``folder`` (recursively): .pdf, .md, .markdown, .txt; hidden ones and
    those under an ``exclude`` folder (e.g. where earlier reports were written) skipped."""
    if not folder.is_dir():
        raise errors.InputError(f"{folder}: not a folder")
    skip = [Path(p).expanduser().resolve() for p in exclude]
    found = [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and path.suffix.lower() in PAPER_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and not any(path.resolve().is_relative_to(s) for s in skip)
    ]
    return found


async def aanalyze_folder(
    folder: str | Path,
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    password: str | None = None,
    progress: Progress | None = None,
    exclude: Sequence[str | Path] = (),
) -> BatchResult:
    """Async :func:`analyze_folder`."""
    settings = resolve_settings(settings)
    root = Path(folder).expanduser()
    files = paper_files(root, exclude)
    if not files:
        raise errors.InputError(
            f"{root}: no papers found", hint="put .pdf, .md or .txt files in the folder"
        )
    llm = paper_llm(settings, model)
    limit = settings.concurrency_for("paper")
    loading = asyncio.Semaphore(min(MAX_LOADING, limit))
    done = 0
    total = len(files)

    async def one(path: Path) -> PaperAnalysis:
        nonlocal done
        try:
            async with loading:
                paper = await asyncio.to_thread(as_paper, path, settings, password)
            return await aanalyze_paper(
                paper,
                settings=settings,
                lang=lang,
                dry_run=dry_run,
                llm=paper_llm(settings, model),
                gate=gate,
            )
        finally:
            done += 1
            if progress:
                progress(done, total)

    if progress:
        progress(0, total)
    gate = Limiter(limit)  # every request of every paper (map steps too)
    results = await llm.amap(one, files, concurrency=limit)
    items: list[BatchItem] = []
    usage = Usage()
    for path, result in zip(files, results, strict=True):
        if isinstance(result, errors.AssistantsError):
            message = result.message
            for prefix in (f"{path}: ", f"{path.resolve()}: "):
                message = message.removeprefix(prefix)  # the index names the file already
            items.append(
                BatchItem(
                    source=str(path.relative_to(root)),
                    ok=False,
                    error=message,
                    hint=result.hint,
                )
            )
        else:
            result.source = str(path.relative_to(root))
            usage = usage + result.usage
            items.append(BatchItem(source=result.source, ok=True, analysis=result))
    return BatchResult(folder=str(root), items=items, usage=usage)


analyze_folder = sync_twin(
    aanalyze_folder,
    """Analyse every paper in a folder concurrently. A paper that fails is listed in the
    result (``failures``), never fatal for the others. Papers under an ``exclude`` folder
    are skipped.""",
)

"""What every request about one paper shares.

Request layout (for the API's prefix cache): the static system prompt, then the paper (pages
tagged with ``[page N]`` markers) as the first user message, then the instruction or question
last. Every question about the same paper therefore shares the system + paper prefix, and a
:class:`~assistants.paper.chat.PaperChat` follow-up shares the whole earlier conversation.

Citations: every item carries ``pages``. Each cited page is checked against the paper's real
pages (:func:`check_pages`). A page that does not exist is *repaired* when it is a printed page
label that maps to exactly one physical page (a model quoting "p. 131" of a journal paper),
otherwise it is *dropped* and kept in ``unverified_pages`` so the item shows as flagged — never
silently kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import errors
from ..config import Settings, load_settings
from ..llm import LLM
from ..llm.tokens import count_message_tokens
from ..llm.window import input_budget
from ..prompts import language_name, render
from .models import Claim, KeyResult, PaperEstimate
from .pdf import load_paper
from .schema import _ClaimOut, _ResultOut
from .tables import check_table, tables_text
from .text import Paper

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = [
    "ANALYSIS_OUTPUT_TOKENS",
    "ANSWER_OUTPUT_TOKENS",
    "MAX_SINGLE_TOKENS",
    "NOTES_OUTPUT_TOKENS",
    "REVIEW_OUTPUT_TOKENS",
    "as_paper",
    "check_pages",
    "check_single_request",
    "checked_claim",
    "checked_result",
    "paper_llm",
    "paper_message",
    "paper_prefix",
    "paper_text",
    "plan_estimate",
    "resolve_settings",
    "result_facts",
    "system_prompt",
    "window_limits",
]

MAX_SINGLE_TOKENS = 900_000  # the model's context is 1M tokens; keep room for the reply
PAPER_SHARE = 0.5  # of a known context window: the most paper text one request sends
CHUNK_SHARE = 0.4  # of a known context window: the most paper text one map request sends
ANALYSIS_OUTPUT_TOKENS = 2_500  # for --dry-run estimates
NOTES_OUTPUT_TOKENS = 1_200
ANSWER_OUTPUT_TOKENS = 400
REVIEW_OUTPUT_TOKENS = 1_500


# ---------------------------------------------------------------------------------------------
# requests


def resolve_settings(settings: Settings | None) -> Settings:
    """The given settings, else those loaded from the usual places."""
    return settings or load_settings()


def paper_llm(settings: Settings, model: BaseChatModel | None) -> LLM:
    """The model layer for paper requests (the ``chat`` profile, or the injected ``model``)."""
    return LLM(profile="chat", task="paper", settings=settings, model=model)


def system_prompt(settings: Settings, lang: str) -> str:
    """The static system prompt, in the language of the analysis."""
    return render("paper/system.j2", prompts_dir=settings.prompts_dir, language=language_name(lang))


def paper_text(paper: Paper, settings: Settings) -> str:
    """The paper's page-tagged text as sent (references cut unless configured not to)."""
    if settings.paper.cut_references and paper.references is not None:
        return paper.body_text(tagged=True)
    return paper.text_between((1, 0), (paper.page_count, len(paper.pages[-1].text)), tagged=True)


def paper_message(
    paper: Paper, settings: Settings, passages: list[tuple[int, str]] | None = None
) -> str:
    """The paper as one page-tagged user message (references cut unless configured not to),
    or only ``passages`` (``(page, tagged text)``) of it."""
    cut = settings.paper.cut_references and paper.references is not None
    text = paper_text(paper, settings) if passages is None else "\n\n".join(t for _, t in passages)
    sent = None if passages is None else {page for page, _ in passages}
    tables = tables_text(paper.tables, paper.figures, settings.paper.table_tokens, sent)
    return render(
        "paper/paper.j2",
        prompts_dir=settings.prompts_dir,
        part=None,
        parts=None,
        sections=None,
        passages=len(passages) if passages is not None else None,
        title=paper.title,
        page_count=paper.page_count,
        references_cut=cut,
        text=text,
        tables=tables,
    )


def paper_prefix(paper: Paper, settings: Settings, lang: str) -> list[tuple[str, str]]:
    """System prompt + paper: the shared prefix of every request about this paper."""
    return [("system", system_prompt(settings, lang)), ("user", paper_message(paper, settings))]


def as_paper(
    paper_or_path: Paper | str | Path | bytes, settings: Settings, password: str | None
) -> Paper:
    """A loaded paper as it is, or one loaded from a path, an identifier (arXiv id, DOI,
    URL), PDF bytes or text."""
    if isinstance(paper_or_path, Paper):
        return paper_or_path
    return load_paper(paper_or_path, password=password, settings=settings)


def result_facts(paper: Paper, settings: Settings, llm: LLM, lang: str) -> dict[str, Any]:
    """What every result says about the paper and the request (source, pages, model ...)."""
    return {
        "source": paper.source,
        "title": paper.title,
        "page_count": paper.page_count,
        "reference_count": paper.reference_count,
        "references_excluded": settings.paper.cut_references and paper.references is not None,
        "warnings": list(paper.warnings),
        "model": llm.model_name,
        "lang": lang,
    }


def plan_estimate(
    llm: LLM, requests: Sequence[tuple[list[tuple[str, str]], int]], **extra: Any
) -> PaperEstimate:
    """The estimate of a plan of ``(messages, assumed output tokens)`` requests."""
    input_tokens = output_tokens = 0
    cost = 0.0
    for messages, output in requests:
        est = llm.estimate(messages, output_tokens=output)
        input_tokens += est.input_tokens
        output_tokens += est.output_tokens
        cost += est.cost_usd
    return PaperEstimate(
        requests=len(requests),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=round(cost, 6),
        model=llm.model_name,
        **extra,
    )


def window_limits(llm: LLM, settings: Settings, *, probe: bool) -> tuple[int, int, int]:
    """``(request tokens, paper.token_budget, paper.chunk_tokens)`` within the model's context
    window: a single request leaves room for the reply (at most MAX_SINGLE_TOKENS), the
    budgets take a share of the window (unchanged when it is unknown or large)."""
    window = llm.context_window(probe=probe)
    if window is None:
        return MAX_SINGLE_TOKENS, settings.paper.token_budget, settings.paper.chunk_tokens
    reply_room = min(llm.spec.max_tokens, int(window * 0.4))
    return (
        min(MAX_SINGLE_TOKENS, window - reply_room),
        input_budget(window, settings.paper.token_budget, PAPER_SHARE),
        max(500, input_budget(window, settings.paper.chunk_tokens, CHUNK_SHARE)),
    )


def check_single_request(messages: list[tuple[str, str]], source: str) -> int:
    """The request's tokens; an :class:`~assistants.errors.InputError` past
    ``MAX_SINGLE_TOKENS``."""
    tokens = count_message_tokens(messages)
    if tokens > MAX_SINGLE_TOKENS:
        raise errors.InputError(
            f"{source}: {tokens:,} tokens do not fit in one request ({MAX_SINGLE_TOKENS:,} max)",
            hint="ask about a shorter file, or split it",
        )
    return tokens


# ---------------------------------------------------------------------------------------------
# citations


def check_pages(pages: Sequence[int], paper: Paper) -> tuple[list[int], list[int]]:
    """(valid pages, unverified pages) for cited ``pages``: a page is valid when it exists;
    one that does not is repaired when it is a printed label of exactly one page."""
    valid_numbers = paper.page_numbers()
    labels = paper.label_map()
    valid: list[int] = []
    unverified: list[int] = []
    for page in pages:
        if page in valid_numbers:
            number: int | None = page
        else:
            number = labels.get(str(page))
        if number is None:
            if page not in unverified:
                unverified.append(page)
        elif number not in valid:
            valid.append(number)
    return sorted(valid), unverified


def checked_claim(out: _ClaimOut, paper: Paper) -> Claim:
    """A claim of the model's reply with its pages checked."""
    valid, unverified = check_pages(out.pages, paper)
    return Claim(text=out.text.strip(), pages=valid, unverified_pages=unverified)


def checked_result(out: _ResultOut, paper: Paper) -> KeyResult:
    """A key result with its pages checked and the table it names looked up: a table found
    adds its page to the citation; one that is not is kept as ``unverified_table``."""
    claim = checked_claim(out, paper)
    table, unverified = check_table(out.table, paper.tables)
    pages = claim.pages
    if table is not None and table.page not in pages:
        pages = sorted([*pages, table.page])
    return KeyResult(
        text=claim.text,
        pages=pages,
        unverified_pages=claim.unverified_pages,
        table=table.number if table is not None else None,
        unverified_table=unverified,
    )

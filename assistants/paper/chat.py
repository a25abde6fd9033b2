"""Questions about one paper: :func:`ask_paper` for one, :class:`PaperChat` for a
conversation whose follow-ups reuse the earlier requests as a cached prefix. Each answer cites
its pages, or says that the paper does not answer the question.

A paper that does not fit the model's context window (with the conversation so far) is not
sent whole: the pages most relevant to the question are (:mod:`assistants.paper.passages`), and
the answer says so (``passages``, ``pages_sent`` and a warning)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from .. import errors
from ..config import Settings
from ..llm import Usage, run_sync
from ..llm.tokens import count_message_tokens, count_tokens
from ..prompts import render
from .models import PaperAnswer, PaperEstimate
from .passages import select_pages
from .request import (
    ANSWER_OUTPUT_TOKENS,
    as_paper,
    check_pages,
    check_single_request,
    paper_llm,
    paper_message,
    paper_prefix,
    paper_text,
    plan_estimate,
    resolve_settings,
    result_facts,
    window_limits,
)
from .schema import _AnswerOut
from .text import Paper

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["PaperChat", "ask_paper"]


class PaperChat:
    """Questions about one paper that keep the conversation: each request is the system prompt,
    the paper, then every earlier question and answer (their content only), then the new
    question — so follow-ups share the whole earlier request as a cached prefix."""

    def __init__(
        self,
        paper: Paper | str | Path | bytes,
        *,
        settings: Settings | None = None,
        model: BaseChatModel | None = None,
        lang: str | None = None,
        password: str | None = None,
    ) -> None:
        self.settings = resolve_settings(settings)
        self.lang = lang or self.settings.lang
        self.paper = as_paper(paper, self.settings, password)
        self.llm = paper_llm(self.settings, model)
        self._prefix = paper_prefix(self.paper, self.settings, self.lang)
        self.history: list[tuple[str, str]] = []  # (question, the answer's JSON content)
        self.answers: list[PaperAnswer] = []

    def messages(self, question: str) -> list[tuple[str, str]]:
        msgs = list(self._prefix)
        for asked, answered in self.history:
            msgs.append(("user", self._question(asked)))
            msgs.append(("assistant", answered))
        msgs.append(("user", self._question(question)))
        return msgs

    def _question(self, question: str) -> str:
        return render("paper/ask.j2", prompts_dir=self.settings.prompts_dir, question=question)

    def _fitted(self, question: str, *, probe: bool) -> tuple[list[tuple[str, str]], list[int]]:
        """The request for ``question`` and, when the paper does not fit the model's context
        window, the pages chosen for it (else ``[]``: the whole paper is sent)."""
        msgs = self.messages(question)
        limit, _, _ = window_limits(self.llm, self.settings, probe=probe)
        if count_message_tokens(msgs) <= limit:
            return msgs, []
        # what else the request holds: system prompt + schema, the conversation, the question
        system = self._prefix[0][1]
        fixed = self.llm.structured_prompt_tokens(system, _AnswerOut) + count_message_tokens(
            msgs[2:]
        )
        wrapper = count_tokens(paper_message(self.paper, self.settings, passages=[]))
        chosen = select_pages(
            paper_text(self.paper, self.settings), question, limit - fixed - wrapper - 16
        )
        if not chosen:
            raise errors.InputError(
                f"{self.paper.source}: not even one page fits in one request with this "
                f"conversation ({limit:,} tokens)",
                hint="start a new conversation, or set a larger profiles.chat.context_window "
                "if the server has one",
            )
        passages = ("user", paper_message(self.paper, self.settings, passages=chosen))
        return [msgs[0], passages, *msgs[2:]], [number for number, _ in chosen]

    def estimate(self, question: str) -> PaperEstimate:
        msgs, _ = self._fitted(question, probe=False)
        check_single_request(msgs, self.paper.source)
        paper_tokens = count_tokens(msgs[1][1])
        return plan_estimate(self.llm, [(msgs, ANSWER_OUTPUT_TOKENS)], paper_tokens=paper_tokens)

    async def aask(self, question: str, *, dry_run: bool = False) -> PaperAnswer:
        question = question.strip()
        if not question:
            raise errors.InputError("the question is empty")
        facts = result_facts(self.paper, self.settings, self.llm, self.lang)
        if dry_run:
            return PaperAnswer(
                **facts, question=question, dry_run=True, estimate=self.estimate(question)
            )
        msgs, sent = await asyncio.to_thread(self._fitted, question, probe=True)
        check_single_request(msgs, self.paper.source)
        out, reply = await self.llm.astructured(msgs, _AnswerOut)
        pages, unverified = check_pages(out.pages, self.paper)
        if sent:
            facts["warnings"] = [
                *facts["warnings"],
                f"the paper does not fit the model's context window: {len(sent)} of "
                f"{self.paper.page_count} pages were sent, chosen for the question",
            ]
        answer = PaperAnswer(
            **facts,
            question=question,
            answer=out.answer.strip(),
            pages=pages if out.answerable else [],
            unverified_pages=unverified if out.answerable else [],
            answerable=out.answerable,
            usage=reply.usage,
            passages=bool(sent),
            pages_sent=sent,
        )
        self.history.append((question, reply.content))
        self.answers.append(answer)
        return answer

    def ask(self, question: str, *, dry_run: bool = False) -> PaperAnswer:
        return run_sync(self.aask(question, dry_run=dry_run))

    @property
    def usage(self) -> Usage:
        return self.llm.usage


def ask_paper(
    paper: Paper | str | Path | bytes,
    question: str,
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    password: str | None = None,
) -> PaperAnswer:
    """Answer one question from the paper, citing pages, or say that it does not answer it."""
    chat = PaperChat(paper, settings=settings, model=model, lang=lang, password=password)
    return chat.ask(question, dry_run=dry_run)

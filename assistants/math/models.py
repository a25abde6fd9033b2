"""The math solver's result types: a solution and its samples, an eval's items and report,
the dry-run estimate, and the status vocabulary. Imports nothing else of the package; the
``to_markdown()`` / ``to_text()`` methods (:class:`~assistants.results.Result`) load
:mod:`assistants.math.render` when called."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..llm.usage import Usage
from ..results import Result

__all__ = [
    "STATUS_TEXT",
    "AnswerGroup",
    "AnswerSource",
    "EvalItem",
    "EvalReport",
    "MathEstimate",
    "MathProblem",
    "MathSample",
    "MathSolution",
    "SampleStatus",
    "Status",
]

AnswerSource = Literal["boxed", "answer_text", "reasoning"]
Status = Literal[
    "matches_reference", "mismatch", "self_consistent", "unverified", "no_answer", "truncated"
]
SampleStatus = Literal["answered", "no_answer", "empty", "truncated", "failed"]

STATUS_TEXT: dict[str, str] = {
    "matches_reference": "matches the reference",
    "mismatch": "does not match the reference",
    "self_consistent": "self-consistent (a majority of samples agree)",
    "unverified": "unverified",
    "no_answer": "no final answer found",
    "truncated": "truncated (the reply hit max_tokens)",
}


class MathSample(BaseModel):
    """One sampled reply and what was extracted from it."""

    index: int
    status: SampleStatus
    answer: str | None = None
    answer_plain: str | None = None
    source: AnswerSource | None = None
    confidence: Literal["high", "low"] | None = None
    finish_reason: str | None = None
    attempts: int = Field(default=1, description="2 when an empty answer was retried")
    cached: bool = False
    reasoning_chars: int = 0
    latency_s: float = 0.0
    error: str | None = None


class AnswerGroup(BaseModel):
    """Equivalent answers (by Math-Verify) and the samples that gave them."""

    answer: str
    answer_plain: str
    votes: int
    samples: list[int]


class MathSolution(Result):
    """The result of :func:`~assistants.math.solve.solve_math`.

    ``status`` is one of ``matches_reference``, ``mismatch`` (a reference was given),
    ``self_consistent`` (several samples, a strict majority agrees), ``unverified``,
    ``no_answer`` and ``truncated``. ``votes`` of ``voters`` samples gave the chosen answer.
    """

    problem: str
    answer: str | None = Field(default=None, description="the final answer, LaTeX")
    answer_plain: str | None = None
    status: Status
    confidence: Literal["high", "low"] | None = None
    answer_source: AnswerSource | None = None
    matches_reference: bool | None = None
    reference: str | None = None
    reasoning: str | None = None
    content: str = ""
    finish_reason: str | None = None
    samples_requested: int = 1
    voters: int = Field(default=1, description="samples that completed (n in 'k of n')")
    votes: int = Field(default=0, description="samples that gave the chosen answer (k)")
    vote_share: float | None = None
    stopped_early: bool = False
    groups: list[AnswerGroup] = Field(default_factory=list)
    samples: list[MathSample] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    model: str
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    show_reasoning: bool = Field(default=False, description="render the reasoning in full")

    render_as = "solution"

    @property
    def cost_usd(self) -> float:
        return self.usage.cost_usd

    @property
    def agreement(self) -> str:
        """``"3 of 5"``: samples that agree with the chosen answer, of those completed."""
        return f"{self.votes} of {self.voters}"

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]

    def to_markdown(self, show_reasoning: bool | None = None) -> str:
        full = self.show_reasoning if show_reasoning is None else show_reasoning
        return self._render("markdown", show_reasoning=full)


class MathProblem(BaseModel):
    """One line of an eval file."""

    id: str
    line: int
    problem: str
    reference: str


class EvalItem(MathProblem):
    """One scored problem: a line of the results file."""

    answer: str | None = None
    answer_plain: str | None = None
    answer_source: AnswerSource | None = Field(
        default=None, description="boxed, answer_text (an unboxed 'answer:' line) or reasoning"
    )
    confidence: Literal["high", "low"] | None = None
    correct: bool
    status: Status
    votes: int = 0
    voters: int = 0
    vote_share: float | None = None
    model: str = ""
    samples: int | None = Field(default=None, description="samples requested per problem")
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0


class EvalReport(Result):
    """The result of :func:`~assistants.math.eval.eval_math`. ``accuracy`` counts resumed
    items too."""

    render_as = "eval"

    file: str
    output: str | None = None
    samples: int = 1
    total: int = Field(description="items in the file (after --limit)")
    scored: int = Field(description="items scored by this run")
    skipped: int = Field(description="items already in the results file (resumed)")
    correct: int
    accuracy: float | None = None
    statuses: dict[str, int] = Field(default_factory=dict)
    failures: dict[str, str] = Field(default_factory=dict)
    model: str = ""
    usage: Usage = Field(default_factory=Usage, description="this run's requests")
    previous_cost_usd: float = Field(default=0.0, description="cost of the resumed items")
    latency_s: float = 0.0
    items: list[EvalItem] = Field(default_factory=list)


class MathEstimate(BaseModel):
    """``--dry-run``: what solving would send and cost, computed offline."""

    model: str
    problems: int
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    system_prompt: str
    first_request: str
    resumed: int = Field(default=0, description="problems already scored in the results file")

    def to_text(self) -> str:
        from .render import estimate_text

        return estimate_text(self)

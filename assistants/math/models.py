"""The math solver's result types: a solution and its samples, an eval's items and report,
the dry-run estimate, and the status vocabulary. Imports nothing else of the package; the
``to_markdown()`` / ``to_text()`` methods (:class:`~assistants.results.Result`) load
:mod:`assistants.math.render` when called."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..llm.usage import Usage
from ..results import Result
from ..stats import Interval

__all__ = [
    "LAYOUT_TEXT",
    "STATUS_TEXT",
    "AnswerGroup",
    "AnswerSource",
    "CompareItem",
    "CompareReport",
    "EvalItem",
    "EvalReport",
    "MathEstimate",
    "MathProblem",
    "MathSample",
    "MathSolution",
    "RegradeChange",
    "RegradeReport",
    "RunSummary",
    "SampleStatus",
    "Status",
]

AnswerSource = Literal["boxed", "answer_text", "reasoning"]
Status = Literal[
    "matches_reference", "mismatch", "self_consistent", "unverified", "no_answer", "truncated"
]
SampleStatus = Literal["answered", "no_answer", "empty", "truncated", "failed"]

LAYOUT_TEXT: dict[str, str] = {
    "gsm8k": "GSM8K (question, answer ending in '#### n')",
    "math": "MATH (problem, solution with \\boxed{})",
    "math-500": "MATH-500 (problem, solution, answer)",
    "aime": "AIME-style (problem, answer)",
    "question-answer": "question, answer",
    "reference": "problem or question, reference",
}

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
    content: str | None = Field(default=None, description="the reply's answer text")
    reasoning: str | None = Field(
        default=None,
        description="the reasoning, kept only when the answer text is empty (the one case "
        "where the final answer is read from it)",
    )
    group: int | None = Field(
        default=None, description="its answer group (0: the leading one), if it answered"
    )
    correct: bool | None = Field(
        default=None, description="its answer matches the reference (None: no reference)"
    )
    usage: Usage = Field(default_factory=Usage)


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
    replies: list[MathSample] = Field(
        default_factory=list, description="every sample: answer text, answer, correct, usage"
    )


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
    layout: str | None = Field(default=None, description="the problems file's layout")
    accuracy_ci: Interval | None = Field(
        default=None, description="bootstrap 95% interval of the accuracy (seeded)"
    )
    pass_at_k: dict[int, float] = Field(
        default_factory=dict, description="unbiased pass@k by k, from each item's samples"
    )
    maj_at_k: dict[int, float] = Field(
        default_factory=dict, description="majority vote over the first k samples, by k"
    )
    metric_notes: list[str] = Field(default_factory=list)
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
    layout: str | None = Field(default=None, description="the problems file's layout")

    def to_text(self) -> str:
        from .render import estimate_text

        return estimate_text(self)


class RunSummary(BaseModel):
    """One results file as :func:`~assistants.math.grade.compare_math_runs` sees it."""

    file: str
    model: str = ""
    samples: int | None = None
    items: int
    correct: int
    accuracy: float | None = None
    accuracy_ci: Interval | None = None
    cost_usd: float = Field(description="what its items cost")
    cost_per_correct_usd: float | None = Field(
        default=None, description="cost divided by the correct answers (None: none correct)"
    )
    cost_per_item_usd: float | None = None


class RegradeChange(BaseModel):
    """An item whose final answer or verdict changed on re-grading."""

    id: str
    reference: str
    answer_before: str | None = None
    answer_after: str | None = None
    correct_before: bool
    correct_after: bool
    samples_changed: int = Field(default=0, description="samples whose answer or verdict changed")


class RegradeReport(Result):
    """The result of :func:`~assistants.math.grade.regrade_math`: the saved replies checked again
    with the current extraction and equivalence rules, without a single request."""

    render_as = "regrade"

    file: str
    output: str | None = None
    items: int
    samples: int = Field(description="sample replies re-read")
    samples_changed: int = 0
    requests: int = Field(default=0, description="requests sent (always 0)")
    before: RunSummary
    after: RunSummary
    fixed: int = Field(description="items wrong before, right now")
    broken: int = Field(description="items right before, wrong now")
    pass_at_k_before: dict[int, float] = Field(default_factory=dict)
    pass_at_k_after: dict[int, float] = Field(default_factory=dict)
    maj_at_k_before: dict[int, float] = Field(default_factory=dict)
    maj_at_k_after: dict[int, float] = Field(default_factory=dict)
    changes: list[RegradeChange] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class CompareItem(BaseModel):
    """An item scored differently by the two runs."""

    id: str
    reference: str
    answer_a: str | None = None
    answer_b: str | None = None


class CompareReport(Result):
    """The result of :func:`~assistants.math.grade.compare_math_runs`: run B against run A over
    the items both scored."""

    render_as = "compare"

    a: RunSummary
    b: RunSummary
    common: int = Field(description="items in both runs (the ones compared)")
    only_a: list[str] = Field(default_factory=list, description="ids only run A scored")
    only_b: list[str] = Field(default_factory=list, description="ids only run B scored")
    difference: Interval | None = Field(
        default=None, description="accuracy of B minus A, with a paired bootstrap 95% interval"
    )
    mcnemar_p: float = Field(description="McNemar's exact test (two-sided) on fixed/broken")
    fixed: list[CompareItem] = Field(default_factory=list, description="wrong in A, right in B")
    broken: list[CompareItem] = Field(default_factory=list, description="right in A, wrong in B")
    seed: int = 0
    plot: str | None = Field(default=None, description="the picture written, if any")

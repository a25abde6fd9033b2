"""assistants: a paper analyzer, a code reviewer and a math solver on the DeepSeek API.

Everything a notebook needs is importable from here; heavy modules load on first use::

    from assistants import review_path, analyze_paper, solve_math, chat, Conversation
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

__all__ = [
    "LLM",
    "Baseline",
    "ChatResult",
    "Comparison",
    "Conversation",
    "EvalReport",
    "Library",
    "LibraryAnswer",
    "MathSolution",
    "Paper",
    "PaperAnalysis",
    "PaperAnswer",
    "PaperChat",
    "PaperReview",
    "PullRequestDescription",
    "Review",
    "ReviewBenchReport",
    "Settings",
    "Usage",
    "__version__",
    "analyze_folder",
    "analyze_paper",
    "ask_paper",
    "asolve_math",
    "chat",
    "compare_math_runs",
    "compare_papers",
    "describe_diff",
    "describe_settings",
    "errors",
    "eval_math",
    "eval_review",
    "load_baseline",
    "load_paper",
    "load_settings",
    "post_pull_request_review",
    "regrade_math",
    "review_diff",
    "review_paper",
    "review_path",
    "solve_math",
    "stream_chat",
    "update_pr_body_section",
    "usage_summary",
]

_LAZY = {
    "LLM": "assistants.llm",
    "Usage": "assistants.llm",
    "Settings": "assistants.config",
    "load_settings": "assistants.config",
    "describe_settings": "assistants.config",
    "chat": "assistants.llm.chat",
    "stream_chat": "assistants.llm.chat",
    "Conversation": "assistants.llm.chat",
    "ChatResult": "assistants.llm.chat",
    "usage_summary": "assistants.llm.usage",
    "review_path": "assistants.review.run",
    "review_diff": "assistants.review.run",
    "Review": "assistants.review.models",
    "Baseline": "assistants.review.baseline",
    "load_baseline": "assistants.review.baseline",
    "describe_diff": "assistants.review.describe",
    "PullRequestDescription": "assistants.review.models",
    "post_pull_request_review": "assistants.review.github",
    "update_pr_body_section": "assistants.review.github",
    "eval_review": "assistants.review.bench.run",
    "ReviewBenchReport": "assistants.review.bench.models",
    "load_paper": "assistants.paper.pdf",
    "Paper": "assistants.paper.text",
    "analyze_paper": "assistants.paper.analyze",
    "analyze_folder": "assistants.paper.batch",
    "ask_paper": "assistants.paper.chat",
    "PaperChat": "assistants.paper.chat",
    "review_paper": "assistants.paper.review",
    "PaperAnalysis": "assistants.paper.models",
    "PaperAnswer": "assistants.paper.models",
    "PaperReview": "assistants.paper.models",
    "Library": "assistants.paper.library.core",
    "LibraryAnswer": "assistants.paper.library.models",
    "Comparison": "assistants.paper.library.models",
    "compare_papers": "assistants.paper.library.compare",
    "solve_math": "assistants.math.solve",
    "asolve_math": "assistants.math.solve",
    "eval_math": "assistants.math.eval",
    "MathSolution": "assistants.math.models",
    "EvalReport": "assistants.math.models",
    "regrade_math": "assistants.math.grade",
    "compare_math_runs": "assistants.math.grade",
}


def __getattr__(name: str) -> Any:
    if name == "errors":
        return importlib.import_module("assistants.errors")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'assistants' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

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
    "ChatResult",
    "Conversation",
    "EvalReport",
    "MathSolution",
    "Paper",
    "PaperAnalysis",
    "PaperAnswer",
    "PaperChat",
    "PaperReview",
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
    "describe_settings",
    "errors",
    "eval_math",
    "eval_review",
    "load_paper",
    "load_settings",
    "review_diff",
    "review_paper",
    "review_path",
    "solve_math",
    "stream_chat",
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
    "eval_review": "assistants.review.bench",
    "ReviewBenchReport": "assistants.review.models",
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
    "solve_math": "assistants.math.solve",
    "asolve_math": "assistants.math.solve",
    "eval_math": "assistants.math.eval",
    "MathSolution": "assistants.math.models",
    "EvalReport": "assistants.math.models",
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

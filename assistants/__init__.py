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
    "chat": "assistants.tasks.chat",
    "stream_chat": "assistants.tasks.chat",
    "Conversation": "assistants.tasks.chat",
    "ChatResult": "assistants.tasks.chat",
    "usage_summary": "assistants.tasks.usage",
    "review_path": "assistants.tasks.review",
    "review_diff": "assistants.tasks.review",
    "Review": "assistants.tasks.review",
    "load_paper": "assistants.loaders.pdf",
    "Paper": "assistants.loaders.pdf",
    "analyze_paper": "assistants.tasks.paper",
    "analyze_folder": "assistants.tasks.paper",
    "ask_paper": "assistants.tasks.paper",
    "PaperChat": "assistants.tasks.paper",
    "review_paper": "assistants.tasks.paper",
    "PaperAnalysis": "assistants.tasks.paper",
    "PaperAnswer": "assistants.tasks.paper",
    "PaperReview": "assistants.tasks.paper",
    "solve_math": "assistants.tasks.math",
    "asolve_math": "assistants.tasks.math",
    "eval_math": "assistants.tasks.math",
    "MathSolution": "assistants.tasks.math",
    "EvalReport": "assistants.tasks.math",
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

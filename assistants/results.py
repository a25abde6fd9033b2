"""The base of the assistants' result models: ``to_markdown()``, ``to_text()`` and the
notebook view (``_repr_markdown_``), rendered by the result's own package.

A subclass names its renderers with ``render_as``: ``render_as = "solution"`` calls
``solution_markdown(result)`` and ``solution_text(result)`` of the ``render`` module beside its
``models`` module (``assistants.math.render`` for ``assistants.math.models``). The render
module is imported when a method is called, never at import time, so a ``models.py`` imports
nothing of its package (DESIGN.md §2).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, ClassVar

from pydantic import BaseModel

__all__ = ["Result"]


class Result(BaseModel):
    """A result that renders itself as Markdown and as plain text."""

    render_as: ClassVar[str] = ""

    def _render(self, form: str, **options: Any) -> str:
        package = type(self).__module__.rpartition(".")[0]
        render = import_module(f"{package}.render")
        return str(getattr(render, f"{self.render_as}_{form}")(self, **options))

    def to_markdown(self) -> str:
        return self._render("markdown")

    def to_text(self) -> str:
        return self._render("text")

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

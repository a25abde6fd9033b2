"""Jupyter notebooks reviewed as their cells' source.

A ``.ipynb`` file is JSON: its code sits in escaped strings beside outputs (images, tables,
logs). :func:`notebook_source` turns it into the text a person reads: every code and markdown
cell's source in order, each after a separator line ``# %% [code] cell 3`` (the percent
format editors understand), outputs dropped. That text is what gets redacted and reviewed, so
findings on a notebook refer to lines of this converted source, not of the JSON file.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["is_notebook", "notebook_source"]


def is_notebook(path: str) -> bool:
    """True for a Jupyter notebook, judged by the name."""
    return path.lower().endswith(".ipynb")


def _text(source: Any) -> str:
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return source if isinstance(source, str) else ""


def notebook_source(data: bytes) -> tuple[bytes, str]:
    """``(source, language)`` of a notebook's bytes: its cells joined under separator lines,
    UTF-8. Bytes that are not a notebook come back unchanged, as ``"json"``."""
    try:
        nb = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return data, "json"
    if not isinstance(nb, dict):
        return data, "json"
    cells = nb.get("cells")
    if cells is None:  # nbformat 3: cells inside worksheets, code in "input"
        cells = [c for ws in nb.get("worksheets") or [] for c in ws.get("cells") or []]
    if not isinstance(cells, list):
        return data, "json"
    meta = nb.get("metadata") or {}
    language = str(
        (meta.get("kernelspec") or {}).get("language")
        or (meta.get("language_info") or {}).get("name")
        or "python"
    ).lower()
    parts = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            continue
        kind = str(cell.get("cell_type") or "code")
        body = _text(cell.get("source", cell.get("input", ""))).rstrip("\n")
        parts.append(
            f"# %% [{kind}] cell {number}\n{body}\n" if body else f"# %% [{kind}] cell {number}\n"
        )
    return "\n".join(parts).encode("utf-8"), language

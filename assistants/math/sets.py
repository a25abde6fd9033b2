"""The problem sets shipped with the package (``math eval --set NAME``), each with its
licence and attribution beside it in ``assistants/data``. Light: the command line imports it
for its help text. ``scripts/build_math_sets.py`` rebuilds them from the pinned sources."""

from __future__ import annotations

from pathlib import Path

from .. import errors

__all__ = ["SETS", "sample_file", "set_file"]

DATA = Path(__file__).resolve().parent.parent / "data"

# name -> (file in assistants/data, what it is)
SETS: dict[str, tuple[str, str]] = {
    "gsm8k-50": (
        "gsm8k_sample.jsonl",
        "the first 50 GSM8K test problems (MIT, OpenAI; see GSM8K-README.md)",
    ),
}


def set_file(name: str) -> Path:
    """The file of a shipped problem set (``math eval --set NAME``; see :data:`SETS`)."""
    if name not in SETS:
        raise errors.InputError(
            f"no shipped set named {name!r}", hint=f"choose one of: {', '.join(sorted(SETS))}"
        )
    return DATA / SETS[name][0]


def sample_file() -> Path:
    """The default shipped set: the first 50 GSM8K test problems (MIT, OpenAI; see
    ``assistants/data/GSM8K-README.md``)."""
    return set_file("gsm8k-50")

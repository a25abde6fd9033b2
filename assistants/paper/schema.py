"""What the model is asked to return: the pydantic types whose JSON Schemas are sent with
each request, and the lenient reading of the pages it cites.

The class names (underscore included) appear in the JSON Schema the model reads, so they are
part of the prompts and stay as they are. :mod:`assistants.paper.models` holds the results
built from these replies once their pages are checked.

Strict: everything a prompt asks the model to say is required (an empty list must be said as
``[]``, a claim must give its ``pages``, ``null`` read as none), so a reply that is not the
asked-for object (``{}``, an object of unknown keys) fails validation and goes through the
repair round instead of becoming an empty result. Unknown keys beside the required ones are
ignored. The lenient readings that remain are repairs of what was said (``"p. 4"`` → 4).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .models import ReviewForm

__all__ = ["CLAIM_LISTS", "MAX_PAGE_RANGE", "read_pages"]


_PAGE_REF = re.compile(
    r"(?:p{1,2}\.?|pages?)?\s*\[?(?:page\s*)?(-?\d+)\]?(?:\s*[-–—]\s*(\d+))?", re.IGNORECASE
)
MAX_PAGE_RANGE = 50  # a wider "3-500" keeps its two ends only


def read_pages(value: Any) -> Any:
    """Pages as models write them: ``4``, ``"4"``, ``"p. 4"``, ``"3-5"``, ``["pp. 6–7", 2.0]``
    or ``null`` → a list of ints. Anything else (``"Section 3"``) is dropped, so
    an item left with no page shows as flagged; numbers that are not pages are checked later.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    out: list[Any] = []
    for item in value:
        if isinstance(item, bool):
            continue
        if isinstance(item, float) and item.is_integer():
            out.append(int(item))
        elif isinstance(item, str):
            parts = [part.strip() for part in re.split(r",|;|\band\b", item)]
            matches = [_PAGE_REF.fullmatch(part) for part in parts if part]
            for match in matches:
                if match is None:
                    continue
                first = int(match.group(1))
                last = int(match.group(2)) if match.group(2) else first
                if first <= last <= first + MAX_PAGE_RANGE:
                    out.extend(range(first, last + 1))
                else:
                    out.extend([first, last] if last != first else [first])
        else:
            out.append(item)
    return out


class _ClaimOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1)
    pages: list[int] = Field(description="[page N] numbers cited")

    _pages = field_validator("pages", mode="before")(read_pages)


class _ResultOut(_ClaimOut):
    table: str | None = Field(
        default=None, description='the table the number comes from ("2"), or null'
    )

    @field_validator("table", mode="before")
    @classmethod
    def _table(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return None
        return str(value) if isinstance(value, (int, float)) else value


class _AnalysisOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str
    summary: _ClaimOut
    contributions: list[_ClaimOut]
    innovations: list[_ClaimOut]
    method: list[_ClaimOut]
    key_results: list[_ResultOut]
    limitations: list[_ClaimOut]
    open_questions: list[_ClaimOut]


class _NotesOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: _ClaimOut
    contributions: list[_ClaimOut]
    innovations: list[_ClaimOut]
    method: list[_ClaimOut]
    key_results: list[_ResultOut]
    limitations: list[_ClaimOut]
    open_questions: list[_ClaimOut]


class _AnswerOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    answerable: bool
    answer: str = Field(min_length=1)
    pages: list[int]

    _pages = field_validator("pages", mode="before")(read_pages)


class _ReviewOut(ReviewForm):
    model_config = ConfigDict(extra="ignore")

    strengths: list[_ClaimOut]  # type: ignore[assignment]
    weaknesses: list[_ClaimOut]  # type: ignore[assignment]
    questions: list[str]
    limitations: list[str]


class _ReflectionOut(_ReviewOut):
    model_config = ConfigDict(extra="ignore")

    done: bool = Field(
        description='"I am done": true when the review needs no further change (rounds stop)'
    )


CLAIM_LISTS = (
    "contributions",
    "innovations",
    "method",
    "key_results",
    "limitations",
    "open_questions",
)

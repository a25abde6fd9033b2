"""A paper's tables and figures: :class:`Table` (number, caption, page and the body as a text
region whose columns are kept) and :class:`Figure` (number, caption, page), found by
:func:`find_tables` from the pages' text and, for pages with a table caption, pypdf's layout
text (which the PDF reader extracts only for those pages: it is slower).

The requests about a paper carry them after its text (:func:`tables_text`, within
``paper.table_tokens``), so an analysis or an answer can cite "Table 2, p. 7"; a key result
names the table its number came from, checked against the tables found
(:func:`check_table`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from .captions import canonical_number, find_captions, table_region

__all__ = ["Figure", "Table", "check_table", "find_tables", "tables_text"]


class Figure(BaseModel):
    """A figure's caption and the page it is on (``number`` as printed: "3", "IV", "A2")."""

    model_config = ConfigDict(frozen=True)

    number: str
    caption: str
    page: int = Field(ge=1)

    @property
    def label(self) -> str:
        return f"Figure {self.number}"


class Table(Figure):
    """A table: its caption, page and body (``text``: the rows as laid out on the page,
    columns separated by spaces; empty when no body was found beside the caption)."""

    text: str = ""

    @property
    def label(self) -> str:
        return f"Table {self.number}"


def find_tables(
    pages: Sequence[str], layouts: Mapping[int, str] | None = None
) -> tuple[list[Table], list[Figure]]:
    """Tables and figures of a paper from its pages' text (1-based order) and the layout text
    of some pages (by 0-based index; a table's body comes from there, else from the text)."""
    layouts = layouts or {}
    tables: list[Table] = []
    figures: list[Figure] = []
    seen: set[tuple[str, str]] = set()
    for index, text in enumerate(pages):
        for caption in find_captions(text):
            key = (caption.kind, canonical_number(caption.number))
            if key in seen:
                continue  # the first caption of a number wins
            seen.add(key)
            if caption.kind == "figure":
                figures.append(Figure(number=caption.number, caption=caption.text, page=index + 1))
                continue
            body = table_region(layouts.get(index) or text, caption.number)
            tables.append(
                Table(number=caption.number, caption=caption.text, page=index + 1, text=body)
            )
    return tables, figures


def tables_text(
    tables: Sequence[Table],
    figures: Sequence[Figure],
    budget_tokens: int,
    pages: Collection[int] | None = None,
) -> str:
    """The tables (and the figure captions) as sent after a paper's text, within
    ``budget_tokens`` (a table that does not fit is sent with its caption only); only those on
    ``pages`` when given. ``""`` when there are none or the budget is 0."""
    from ..llm.tokens import count_tokens

    chosen = [t for t in tables if pages is None or t.page in pages]
    shown = [f for f in figures if pages is None or f.page in pages]
    if budget_tokens <= 0 or not (chosen or shown):
        return ""
    parts = [
        "Tables and figures found in the paper (table bodies as laid out on the page, columns "
        'separated by spaces). Cite them as "Table N, p. P".'
    ]
    left = budget_tokens - count_tokens(parts[0])
    for table in chosen:
        head = f"[{table.label}, page {table.page}] {table.caption}"
        whole = f"{head}\n{table.text}" if table.text else head
        cost = count_tokens(whole)
        if cost > left:
            whole, cost = head + "\n(body left out: over the table budget)", count_tokens(head)
        if cost > left:
            break
        parts.append(whole)
        left -= cost
    for figure in shown:
        line = f"[{figure.label}, page {figure.page}] {figure.caption}"
        cost = count_tokens(line)
        if cost > left:
            break
        parts.append(line)
        left -= cost
    return "\n\n".join(parts) if len(parts) > 1 else ""


def check_table(cited: str | None, tables: Sequence[Table]) -> tuple[Table | None, str | None]:
    """``(the table, None)`` when ``cited`` ("2", "Table II", "table 2") names a table found
    in the paper; ``(None, cited)`` when it names none (kept to be shown as unverified);
    ``(None, None)`` when nothing was cited."""
    if cited is None or not str(cited).strip():
        return None, None
    wanted = canonical_number(str(cited))
    for table in tables:
        if canonical_number(table.number) == wanted:
            return table, None
    return None, str(cited).strip()

"""Table and figure captions, and the text region of a table's body: plain string processing
(standard library only, so the PDF reader process imports it without slowing its start).

Captions: a line that starts with ``Table 3:``, ``Table 3.``, ``TABLE III``, ``Figure 2.``,
``Fig. 4:`` or ``Fig. 4 Results ...`` (a capital letter after the number: Springer style).
``Table 3 shows ...`` (prose that wraps to a line start) is not a caption.

Table bodies come from pypdf's layout extraction (``extraction_mode="layout"``), which keeps
columns apart with runs of spaces. :func:`table_region` finds the caption in the layout text,
keeps to the caption's column on a two-column page (a gutter: character positions that are
blank on nearly every line), and takes the block of lines with two or more cells (cells are
separated by two or more spaces) below the caption, or above it when there is none below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Caption",
    "find_captions",
    "has_table_caption",
    "same_number",
    "table_region",
]

_NUMBER = r"(?:[A-Z]?\d{1,3}(?:\.\d{1,2})?|[IVXL]{1,6})"
_CAPTION = re.compile(
    rf"^[ \t]*(?P<kind>Table|TABLE|Tab\.|Figure|FIGURE|Fig\.|FIG\.)[ \t]*(?P<number>{_NUMBER})"
    r"(?P<rest>[ \t]*[:.|][ \t]*.*|[ \t]+[A-Z(].*|[ \t]*)$",
    re.MULTILINE,
)
_TABLE_START = re.compile(rf"^[ \t]*(?:Table|TABLE|Tab\.)[ \t]*{_NUMBER}\b", re.MULTILINE)
_CELL_GAP = re.compile(r"\s{2,}|\t|[ \t]*\|[ \t]*")
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}
MAX_CAPTION = 400  # characters
MAX_TABLE_LINES = 60
MAX_TABLE_CHARS = 6_000


@dataclass(frozen=True)
class Caption:
    kind: str  # "table" or "figure"
    number: str  # as printed: "3", "III", "A1"
    text: str  # the whole caption, label included


def has_table_caption(text: str) -> bool:
    """Whether a page's text may hold a table caption (cheap: decides whether the reader runs
    the slower layout extraction on the page)."""
    if "Tab" not in text and "TAB" not in text:
        return False  # most pages: no regex at all
    return _TABLE_START.search(text) is not None and any(
        caption.kind == "table" for caption in find_captions(text)
    )


def find_captions(text: str) -> list[Caption]:
    """The captions in one page's text, in order (a number's first caption only)."""
    lines = text.splitlines()
    found: list[Caption] = []
    seen: set[tuple[str, str]] = set()
    for index, line in enumerate(lines):
        match = _CAPTION.match(line)
        if match is None:
            continue
        label = match["kind"]
        kind = "table" if label.lower().startswith("tab") else "figure"
        rest = match["rest"].strip()
        if not rest and not label.isupper():
            continue  # "Table 3" alone on a line: a caption only in the all-caps style
        number = match["number"]
        if re.fullmatch(r"[IVXL]+", number) and not label.isupper() and rest[:1] not in ":.|":
            continue  # "Figure I ..." is more likely prose than a roman-numbered figure
        key = (kind, canonical_number(number))
        if key in seen:
            continue
        seen.add(key)
        caption = " ".join(line.split())
        following = lines[index + 1 : index + 4]
        if not rest and following:  # "TABLE III" then the caption on the next line
            caption += " " + " ".join(following[0].split())
            following = following[1:]
        for extra in following:  # a caption that wraps: continues in lower case
            words = extra.split()
            if not words or not words[0][:1].islower() or len(_CELL_GAP.split(extra.strip())) > 1:
                break
            caption += " " + " ".join(words)
        found.append(Caption(kind=kind, number=number, text=caption[:MAX_CAPTION]))
    return found


def canonical_number(number: str) -> str:
    """A table or figure number compared: roman numerals as digits, "Table 2" as "2"."""
    value = re.sub(r"^(?:table|tab\.|figure|fig\.)\s*", "", number.strip(), flags=re.IGNORECASE)
    value = value.strip().rstrip(".:").upper()
    if value and all(ch in _ROMAN for ch in value):
        total = 0
        for ch, nxt in zip(value, [*value[1:], ""], strict=True):
            worth = _ROMAN[ch]
            total += -worth if nxt and _ROMAN[nxt] > worth else worth
        return str(total)
    return value


def same_number(a: str, b: str) -> bool:
    return canonical_number(a) == canonical_number(b)


# ---------------------------------------------------------------------------------------------
# table bodies


def _cells(line: str) -> list[str]:
    return [cell for cell in _CELL_GAP.split(line.strip()) if cell]


def _is_row(line: str) -> bool:
    """A line of two or more cells, none of them a run of prose."""
    cells = _cells(line)
    return len(cells) >= 2 and all(len(cell.split()) <= 8 for cell in cells)


def _is_prose(text: str) -> bool:
    cells = _cells(text)
    return any(len(cell.split()) >= 4 for cell in cells)


def _gutter(lines: list[str]) -> int | None:
    """The character position between two text columns, if the page has two."""
    rows = [line for line in lines if line.strip()]
    if len(rows) < 8:
        return None
    width = max(len(line) for line in rows)
    filled = [0] * width
    for line in rows:
        for x, ch in enumerate(line):
            if not ch.isspace():
                filled[x] += 1
    best: tuple[int, int] | None = None  # (run length, centre)
    run_start = None
    for x in range(int(width * 0.3), int(width * 0.7) + 1):
        empty = x < width and filled[x] <= 0.2 * len(rows)
        if empty and run_start is None:
            run_start = x
        if (not empty or x == int(width * 0.7)) and run_start is not None:
            length = x - run_start
            if length >= 2 and (best is None or length > best[0]):
                best = (length, run_start + length // 2)
            run_start = None
    if best is None:
        return None
    centre = best[1]
    with_right = sum(1 for line in rows if line[centre:].strip())
    with_left = sum(1 for line in rows if line[:centre].strip())
    if with_right < 0.3 * len(rows) or with_left < 0.3 * len(rows):
        return None
    return centre


def table_region(layout: str, number: str) -> str:
    """The body of table ``number`` in a page's layout text (columns kept), or ``""``."""
    lines = layout.splitlines()
    pattern = re.compile(
        rf"(?:Table|TABLE|Tab\.)[ \t]*{re.escape(number)}(?:[ \t]*[:.|]|[ \t]*$|[ \t]+[A-Z(])"
    )
    at = next(((i, m.start()) for i, line in enumerate(lines) if (m := pattern.search(line))), None)
    if at is None:
        return ""
    index, x = at
    gutter = _gutter(lines)
    if gutter is None:
        column = [line.rstrip() for line in lines]
    elif x >= gutter:  # a table in the right column
        column = [line[gutter:].rstrip() for line in lines]
    else:  # the left column's, or the full width where the right column holds no prose
        column = [
            line[:gutter].rstrip() if _is_prose(line[gutter:]) else line.rstrip() for line in lines
        ]
    body = _block(column, index + 1, 1) or _block(column, index - 1, -1)
    if not body:
        return ""
    indent = min(len(line) - len(line.lstrip()) for line in body if line.strip())
    text = "\n".join(line[indent:] for line in body)
    return text[:MAX_TABLE_CHARS]


def _starts(line: str) -> set[int]:
    """Where the cells after the first start (a table's column positions)."""
    return {
        i
        for i in range(2, len(line))
        if not line[i].isspace() and line[i - 2 : i] == "  " and line[:i].strip()
    }


def _same_columns(starts: set[int], seen: set[int]) -> bool:
    return any(abs(a - b) <= 2 for a in starts for b in seen)


def _block(lines: list[str], start: int, step: int) -> list[str]:
    """Consecutive rows from ``start`` in direction ``step`` (single blank lines between rows
    allowed; up to three caption lines skipped first when going down); a row whose columns
    start nowhere near the block's is the next table's."""
    out: list[str] = []
    columns: set[int] = set()
    i = start
    skipped = 0
    blanks = 0
    while 0 <= i < len(lines) and len(out) < MAX_TABLE_LINES:
        line = lines[i]
        if not line.strip():
            blanks += 1
            if blanks > 1 and out:
                break
        elif _is_row(line):
            starts = _starts(line)
            if columns and starts and not _same_columns(starts, columns):
                break
            columns |= starts
            blanks = 0
            out.append(line)
        elif not out and step == 1 and skipped < 3:
            skipped += 1  # the caption's own continuation, or a header in one cell
        else:
            break
        i += step
    if step == -1:
        out.reverse()
    return out if len(out) >= 2 else []

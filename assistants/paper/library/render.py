"""Renderers of the library's results: markdown (notebooks, reports), plain text (terminal)
and CSV (a comparison). JSON is the models' own ``model_dump_json``."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from ..render import _plain, cite, estimate_text

if TYPE_CHECKING:
    from ..models import Claim
    from .models import Comparison, IndexReport, LibraryAnswer, SearchResult

__all__ = [
    "answer_markdown",
    "answer_text",
    "comparison_csv",
    "comparison_markdown",
    "comparison_text",
    "index_markdown",
    "index_text",
    "search_markdown",
    "search_text",
]


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def index_markdown(r: IndexReport) -> str:
    lines = [
        f"# Library {r.folder}",
        "",
        f"{r.papers} paper(s) · {r.passages:,} passages · {r.tokens:,} tokens · "
        f"index {r.index_path} ({_size(r.size_bytes)})",
        "",
        f"This run: {len(r.added)} added, {len(r.updated)} updated, {len(r.moved)} moved, "
        f"{len(r.removed)} removed, {r.unchanged} unchanged; {r.read} PDF(s) read.",
    ]
    for name, items in (
        ("Added", r.added),
        ("Updated", r.updated),
        ("Moved", r.moved),
        ("Removed", r.removed),
    ):
        if items:
            lines += ["", f"## {name}", ""] + [f"- {item}" for item in items]
    if r.failures:
        lines += ["", "## Not indexed", ""]
        lines += [
            f"- {f.source}: {f.error}" + (f" (hint: {f.hint})" if f.hint else "")
            for f in r.failures
        ]
    return "\n".join(lines) + "\n"


def index_text(r: IndexReport) -> str:
    return _plain(index_markdown(r))


def search_markdown(s: SearchResult) -> str:
    lines = [f"# Search: {s.query}", ""]
    if not s.passages:
        return "\n".join([*lines, "_No passage matches._"]) + "\n"
    for n, p in enumerate(s.passages, start=1):
        title = f" — {p.title}" if p.title else ""
        lines.append(f"{n}. **{p.citation}**{title} ({p.source}) · score {p.score:.2f}")
        lines.append(f"   > {p.snippet}")
    return "\n".join(lines) + "\n"


def search_text(s: SearchResult) -> str:
    return _plain(search_markdown(s))


def answer_markdown(a: LibraryAnswer) -> str:
    lines = [f"**Q:** {a.question}", ""]
    if a.dry_run and a.estimate is not None:
        lines += [
            f"{len(a.passages_sent)} passage(s) would be sent "
            f"({sum(p.tokens for p in a.passages_sent):,} of the library's "
            f"{a.library_tokens:,} tokens).",
            "",
            "```",
            estimate_text(a.estimate).rstrip(),
            "```",
        ]
        return "\n".join(lines) + "\n"
    if a.answerable:
        lines.append(f"**A:** {a.answer}")
    else:
        lines.append(f"**A:** _The library does not answer this._ {a.answer}")
    sources = {c.label: c for c in a.verified}
    if a.answerable and sources:
        lines += ["", "**Sources**", ""]
        for citation in sources.values():
            pages = sorted({p for c in a.verified if c.label == citation.label for p in c.pages})
            lines.append(
                f"- {citation.label}: {citation.title or 'untitled'} ({citation.source}) "
                + cite(pages)
            )
    if a.warnings:
        lines += [""] + [f"> warning: {w}" for w in a.warnings]
    sent = ", ".join(p.citation for p in a.passages_sent) or "none"
    lines += ["", f"*passages sent: {sent} · {a.model} · {a.usage.summary()}*"]
    return "\n".join(lines) + "\n"


def answer_text(a: LibraryAnswer) -> str:
    return _plain(answer_markdown(a))


def _cell(claim: Claim) -> str:
    if not claim.text:
        return ""
    return f"{claim.text} {cite(claim.pages, claim.unverified_pages)}"


def comparison_markdown(c: Comparison) -> str:
    from .models import ASPECTS

    if c.dry_run and c.estimate is not None:
        names = ", ".join(row.source for row in c.rows)
        return f"# Comparison: {names}\n\n```\n{estimate_text(c.estimate).rstrip()}\n```\n"
    escape = lambda text: text.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    head = ["", *[escape(f"{row.title or row.source} ({row.label})") for row in c.rows]]
    lines = ["# Comparison", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for name, title in ASPECTS:
        cells = [escape(_cell(getattr(row, name))) for row in c.rows]
        lines.append(f"| **{title}** | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {row.label}: {row.source}" for row in c.rows]
    notes = list(c.warnings)
    if c.flagged:
        notes.append(f"{len(c.flagged)} cell(s) without a verified page")
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    lines += ["", f"---\n{c.model} · {c.usage.summary()}"]
    return "\n".join(lines) + "\n"


def comparison_text(c: Comparison) -> str:
    from .models import ASPECTS

    if c.dry_run and c.estimate is not None:
        return estimate_text(c.estimate)
    lines: list[str] = []
    for row in c.rows:
        heading = f"{row.title or row.source} ({row.label}, {row.source})"
        lines += [heading, "=" * min(len(heading), 78)]
        for name, title in ASPECTS:
            lines.append(f"{title}: {_cell(getattr(row, name)) or '-'}")
        lines.append("")
    lines += [f"warning: {w}" for w in c.warnings]
    lines.append(f"{c.model} · {c.usage.summary()}")
    return "\n".join(lines) + "\n"


def comparison_csv(c: Comparison) -> str:
    """One row per paper; each aspect's text (with its citation) and its pages."""
    from .models import ASPECTS

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["source", "label", "title"]
    for name, _ in ASPECTS:
        header += [name, f"{name}_pages"]
    writer.writerow(header)
    for row in c.rows:
        values = [row.source, row.label, row.title or ""]
        for name, _ in ASPECTS:
            claim = getattr(row, name)
            values += [_cell(claim), " ".join(str(p) for p in claim.pages)]
        writer.writerow(values)
    return out.getvalue()

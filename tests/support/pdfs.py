"""Build test PDFs with fpdf2 at test time (no binaries in the repository).

:func:`build_paper` writes a paper-shaped PDF and returns a :class:`PaperSpec` recording where
each section starts, so tests compare the loader's findings with the truth. The other builders
make the bad PDFs: encrypted, truncated, image-only, zero pages, not a PDF, a decompression
bomb.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF

FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
)


def unicode_font() -> str | None:
    """A TTF with the ﬁ/ﬂ ligature glyphs, if the machine has one."""
    for candidate in FONT_PATHS:
        if Path(candidate).is_file():
            return candidate
    return None


_PROSE = (
    "widgets transform sparse signals into dense representations while the baseline "
    "keeps every coordinate and we measure accuracy latency memory and robustness across "
    "five benchmarks with three seeds each"
)
WORDS = _PROSE.split()


def filler(seed: int, words: int) -> str:
    """Deterministic prose without ligatures or hyphens (so tests control those)."""
    out = []
    for i in range(words):
        out.append(WORDS[(seed * 7 + i * 3) % len(WORDS)])
    text = " ".join(out)
    return text[0].upper() + text[1:] + "."


@dataclass
class PaperSpec:
    path: Path
    title: str
    pages: int = 0
    # (title, level, 1-based start page)
    sections: list[tuple[str, int, int]] = field(default_factory=list)
    references_page: int | None = None
    reference_count: int = 0
    appendix_page: int | None = None
    labels: list[str] = field(default_factory=list)


MAIN_SECTIONS = [
    "Introduction",
    "Related Work",
    "Method",
    "Experiments",
    "Results",
    "Discussion",
    "Conclusion",
]


def build_paper(
    path: Path,
    *,
    title: str = "Sparse Widgets for Dense Retrieval",
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing"),
    doi: str | None = "10.5555/widgets.2024.17",
    arxiv_id: str | None = "2401.01234",
    pages_per_section: int = 1,
    outline: bool = True,
    two_columns: bool = False,
    ligatures: bool = True,
    references: int = 12,
    appendix: bool = True,
    roman_front_page: bool = True,
    metadata: bool = True,
    marker_sentences: bool = True,
) -> PaperSpec:
    """A paper: title page (abstract) → numbered sections → References → Appendix.

    Every section's first page carries the heading on its own line (``"3 Method"``); with
    ``outline`` the PDF also has bookmarks. Each page ends with a marker sentence
    ``"Marker page N."`` unless ``marker_sentences`` is off.
    """
    font = unicode_font()
    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    if font:
        pdf.add_font("Body", "", font)
        family = "Body"
    else:
        family = "helvetica"
    if metadata:
        pdf.set_title(title)
        pdf.set_author(list(authors))
        if doi:
            pdf.set_subject(f"doi:{doi}")
    spec = PaperSpec(path=path, title=title)

    def heading(text: str, level: int = 0) -> None:
        if outline:
            pdf.start_section(text, level=level)
        pdf.set_font(family, size=14 if level == 0 else 12)
        pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=10)
        spec.sections.append((text, level + 1, pdf.page_no()))

    def body(text: str) -> None:
        pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def end_page() -> None:
        if marker_sentences:
            body(f"Marker page {pdf.page_no()}.")

    # title page
    if roman_front_page:
        pdf.add_page(label_style="r")
    else:
        pdf.add_page()
    pdf.set_font(family, size=18)
    pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=10)
    body(", ".join(authors))
    stamp = []
    if arxiv_id:
        stamp.append(f"arXiv:{arxiv_id}")
    if doi:
        stamp.append(f"DOI: {doi}")
    if stamp:
        body(" ".join(stamp))
    heading("Abstract")
    lig = (
        "We study e\ufb03cient \ufb01ltering of \ufb02oating widgets. "
        if ligatures and font
        else ""
    )
    body(lig + "The headline result is a 12.5 percent gain in recall. " + filler(1, 60))
    end_page()

    for number, name in enumerate(MAIN_SECTIONS, start=1):
        if roman_front_page and number == 1:
            pdf.add_page(label_style="D", label_start=1)
        else:
            pdf.add_page()
        heading(f"{number} {name}")
        for part in range(pages_per_section):
            if part:
                end_page()
                pdf.add_page()
            if two_columns:
                with pdf.text_columns(ncols=2, gutter=8) as cols:
                    cols.write(f"Left column {number}.{part} begins. " + filler(number, 150))
                    cols.write(f" Left column {number}.{part} ends.")
                    cols.new_column()
                    cols.write(f"Right column {number}.{part} begins. " + filler(number + 1, 150))
                    cols.write(f" Right column {number}.{part} ends.")
                pdf.ln(4)
            else:
                body(filler(number * 10 + part, 120))
            if number == 3 and part == 0:
                # a real line-end hyphenation and a subsection
                pdf.multi_cell(0, 5, "The widget uses a hyphen-\nation aware tokenizer.")
                pdf.ln(2)
                heading(f"{number}.1 Training Objective", level=1)
                body(filler(33, 80))
                heading(f"{number}.2 Inference", level=1)
                body(filler(34, 80))
        end_page()

    # references
    if references:
        pdf.add_page()
        heading("References")
        spec.references_page = pdf.page_no()
        for i in range(1, references + 1):
            body(
                f"[{i}] A. Author{i} and B. Writer. A study of widgets, part {i}. "
                f"In Proceedings of the Widget Conference, pages {i}-{i + 9}, 20{10 + i % 10}."
            )
        spec.reference_count = references
        end_page()
    if appendix:
        pdf.add_page()
        heading("Appendix A Proofs")
        spec.appendix_page = pdf.page_no()
        body("Appendix text survives the references cut. " + filler(99, 60))
        end_page()
    spec.pages = pdf.page_no()
    if roman_front_page:
        spec.labels = ["i"] + [str(i) for i in range(1, spec.pages)]
    else:
        spec.labels = [str(i) for i in range(1, spec.pages + 1)]
    pdf.output(str(path))
    return spec


def build_long_paper(path: Path, *, pages: int = 120, two_columns: bool = False) -> PaperSpec:
    """A 100+ page paper: many pages per section, outline, references and an appendix."""
    per_section = max(1, (pages - 4) // len(MAIN_SECTIONS))
    return build_paper(path, pages_per_section=per_section, two_columns=two_columns, references=150)


def build_simple(path: Path, pages: int = 3, *, text: str = "Plain page") -> Path:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for i in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 6, f"{text} {i + 1}. " + filler(i, 80))
    pdf.output(str(path))
    return path


def build_encrypted(path: Path, *, user_password: str = "s3cret", pages: int = 2) -> Path:
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.set_encryption(
        owner_password="owner-" + user_password,
        user_password=user_password,
        encryption_method=EncryptionMethod.AES_128,
    )
    for i in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 6, f"Secret page {i + 1}. " + filler(i, 60))
    pdf.output(str(path))
    return path


def build_truncated(path: Path, *, keep: float = 0.6) -> Path:
    build_simple(path, pages=6)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def build_image_only(path: Path, *, pages: int = 2) -> Path:
    """Scanned-looking pages: an image of text, no text layer."""
    from PIL import Image, ImageDraw

    pdf = FPDF()
    for i in range(pages):
        image = Image.new("L", (600, 800), 255)
        draw = ImageDraw.Draw(image)
        for row in range(30):
            draw.text((40, 40 + row * 24), f"scanned line {row} of page {i + 1}", fill=0)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        buffer.seek(0)
        pdf.add_page()
        pdf.image(buffer, x=10, y=10, w=190)
    pdf.output(str(path))
    return path


def build_zero_pages(path: Path) -> Path:
    """A syntactically valid PDF whose page tree is empty."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
    ]
    return _write_raw(path, objects)


def build_bomb(path: Path, *, megabytes: int = 400) -> Path:
    """One page whose content stream inflates to ``megabytes`` MB (a decompression bomb)."""
    compressor = zlib.compressobj(9)
    chunk = b" " * 1_000_000
    packed = b"".join(compressor.compress(chunk) for _ in range(megabytes)) + compressor.flush()
    stream = (
        f"<< /Length {len(packed)} /Filter /FlateDecode >>\nstream\n".encode()
        + packed
        + b"\nendstream"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        stream,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return _write_raw(path, objects)


def build_slow_page(path: Path, *, operators: int = 1_500_000) -> Path:
    """Page 2 has a content stream of ``operators`` tiny text operations: legal, within
    pypdf's limits, and slow to extract (a runaway page for the per-page time limit)."""
    slow = b"BT /F1 1 Tf " + b"(x) Tj " * operators + b"ET"
    fast = b"BT /F1 12 Tf 72 700 Td (Fast page one has ordinary text on it.) Tj ET"
    fast3 = b"BT /F1 12 Tf 72 700 Td (Fast page three has ordinary text on it too.) Tj ET"

    def content(data: bytes) -> bytes:
        packed = zlib.compress(data, 9)
        return (
            f"<< /Length {len(packed)} /Filter /FlateDecode >>\nstream\n".encode()
            + packed
            + b"\nendstream"
        )

    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"  # noqa: E501
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R 5 0 R 6 0 R] /Count 3 >>",
        font,
        page % 7,
        page % 8,
        page % 9,
        content(fast),
        content(slow),
        content(fast3),
    ]
    return _write_raw(path, objects)


def _write_raw(path: Path, objects: list[bytes]) -> Path:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    path.write_bytes(bytes(out))
    return path


@dataclass
class TableSpec:
    number: str
    caption: str
    page: int
    rows: list[tuple[str, ...]]


@dataclass
class TablesSpec:
    """What :func:`build_tables_paper` put where: tables (with their rows) and figures
    ``(number, caption, page)``."""

    path: Path
    pages: int = 0
    tables: list[TableSpec] = field(default_factory=list)
    figures: list[tuple[str, str, int]] = field(default_factory=list)


def build_tables_paper(path: Path) -> TablesSpec:
    """A paper with real tables (fpdf2's ``pdf.table()``) and figure captions:

    1. title and abstract; 2. a figure caption, and prose that wraps to "Table 3 shows" at a
    line start (not a caption); 3. ``Table 2:`` above a four-column table; 4. a two-column
    page: ``Table 3.`` and its table in the left column beside prose in the right one, which
    holds ``Fig. 4:``; 5. a two-column page, then a full-width IEEE-style ``TABLE IV`` (caption
    on two lines) and a table whose caption ``Table 5:`` is below it.
    """
    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_font("helvetica", size=10)
    spec = TablesSpec(path=path)

    def para(text: str, width: float = 0) -> None:
        pdf.multi_cell(width, 5, text, new_x="LEFT" if width else "LMARGIN", new_y="NEXT")

    def table(rows: list[tuple[str, ...]], **options: object) -> None:
        with pdf.table(**options) as grid:  # type: ignore[arg-type]
            for values in rows:
                row = grid.row()
                for value in values:
                    row.cell(value)

    def caption_table(number: str, caption: str, rows: list[tuple[str, ...]]) -> None:
        spec.tables.append(TableSpec(number, caption, pdf.page_no(), rows))

    pdf.add_page()
    pdf.set_font("helvetica", size=16)
    para("Tables of Widgets")
    pdf.set_font("helvetica", size=10)
    para("Abstract. " + filler(1, 60))

    pdf.add_page()
    para("1 Introduction")
    para(filler(2, 90))
    para("Figure 1: Overview of the widget pipeline.")
    spec.figures.append(("1", "Figure 1: Overview of the widget pipeline.", 2))
    para(
        "The comparison is in the next section, and\nTable 3 shows the ablations. " + filler(3, 40)
    )

    pdf.add_page()
    para("4 Experiments")
    para(filler(4, 70))
    main = [
        ("Method", "GSM8K", "MATH", "Latency (ms)"),
        ("Baseline", "71.2", "40.3", "120"),
        ("Sparse widgets", "78.9", "45.1", "95"),
        ("Dense widgets", "74.0", "42.7", "210"),
    ]
    para("Table 2: Accuracy on the widget benchmarks (higher is better).")
    caption_table("2", "Table 2: Accuracy on the widget benchmarks (higher is better).", main)
    table(main, width=160, align="LEFT")
    pdf.ln(3)
    para("As Table 2 shows, sparse widgets win on both benchmarks. " + filler(5, 60))

    # a two-column page drawn by hand: a table in the left column, prose in the right one
    pdf.add_page()
    top = pdf.get_y()
    pdf.set_xy(10, top)
    para("Left column prose. " + filler(6, 45), width=88)
    para("Table 3. Ablations of the widget size.", width=88)
    ablation = [("Variant", "Recall"), ("No sparsity", "61.0"), ("Half width", "66.4")]
    caption_table("3", "Table 3. Ablations of the widget size.", ablation)
    table(ablation, width=80, align="LEFT")
    pdf.set_xy(110, top)
    para("Right column prose. " + filler(7, 40), width=88)
    pdf.set_x(110)
    para("Fig. 4: Recall against widget size.", width=88)
    spec.figures.append(("4", "Fig. 4: Recall against widget size.", pdf.page_no()))
    pdf.set_x(110)
    para(filler(8, 90), width=88)

    pdf.add_page()
    with pdf.text_columns(ncols=2, gutter=8) as cols:
        cols.write("Left column. " + filler(9, 120))
        cols.new_column()
        cols.write("Right column. " + filler(10, 120))
    pdf.ln(4)
    sizes = [("Size", "Params", "Score"), ("Small", "10M", "61.0"), ("Large", "1B", "70.5")]
    para("TABLE IV")
    para("COMPARISON OF WIDGET SIZES")
    caption_table("IV", "TABLE IV COMPARISON OF WIDGET SIZES", sizes)
    table(sizes)
    pdf.ln(2)
    below = [("Seed", "Run time"), ("1", "3.2 h"), ("2", "3.4 h")]
    table(below, width=100, align="LEFT")
    para("Table 5: Run times per seed (caption below the table).")
    caption_table("5", "Table 5: Run times per seed (caption below the table).", below)
    spec.pages = pdf.page_no()
    pdf.output(str(path))
    return spec

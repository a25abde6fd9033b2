"""A library of small generated papers (fpdf2, core font: fast) for the library tests and
the benchmark. Each paper has its own topic words, so full-text search can tell them apart;
one paper (``NEEDLE``) carries a fact on one page only.

Papers are three pages: title page (title, authors, arXiv stamp, abstract), method, results.
Two papers share a first author and a year (``Hopper et al. 2023a`` / ``2023b`` labels).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fpdf import FPDF
from pdfs import filler

TOPICS = (
    "graph", "protein", "speech", "vision", "robot", "galaxy", "traffic", "weather", "market",
    "music", "chess", "genome", "vaccine", "battery", "glacier", "satellite", "compiler",
    "database", "kernel", "router", "antenna", "bridge", "forest", "ocean", "volcano",
    "harvest", "language", "legal", "medical", "retail",
)  # fmt: skip
METHODS = ("transformer", "diffusion", "boosting", "bandit", "sampler", "autoencoder")
SURNAMES = (
    "Lovelace", "Turing", "Hopper", "Noether", "Gauss", "Curie", "Shannon", "Knuth", "Liskov",
    "Dijkstra", "Hamilton", "Ramanujan", "Euler", "Fermi", "Meitner", "Franklin", "Goodall",
)  # fmt: skip
NEEDLE = 17  # the paper with the fact
NEEDLE_PAGE = 3
NEEDLE_FACT = "The zebrafish tokenizer reaches 97.3 percent accuracy on the Okapi corpus."
NEEDLE_QUESTION = "What accuracy does the zebrafish tokenizer reach on the Okapi corpus?"


@dataclass
class LibraryPaperSpec:
    path: Path
    title: str
    authors: list[str]
    year: int
    arxiv_id: str
    pages: int = 3
    topic: str = ""
    facts: dict[int, str] = field(default_factory=dict)  # page -> a sentence on it


def paper_spec(folder: Path, index: int) -> LibraryPaperSpec:
    topic = TOPICS[index % len(TOPICS)]
    method = METHODS[index % len(METHODS)]
    year = 2019 + index % 6
    if index in (4, 5):  # same first author, same year: labels need a suffix
        year = 2023
    first = SURNAMES[2] if index in (4, 5) else SURNAMES[index % len(SURNAMES)]
    authors = [f"Ada {first}", f"Alan {SURNAMES[(index + 5) % len(SURNAMES)]}"]
    if index % 3 == 0 or index in (4, 5):
        authors.append(f"Grace {SURNAMES[(index + 9) % len(SURNAMES)]}")
    suffix = "" if index < len(TOPICS) else f" {index // len(TOPICS)}"
    title = f"{method.title()} Models for {topic.title()} Analysis{suffix}"
    arxiv_id = f"{year % 100:02d}{1 + index % 12:02d}.{10000 + index:05d}"
    spec = LibraryPaperSpec(
        path=folder / f"{index:03d}-{topic}.pdf",
        title=title,
        authors=authors,
        year=year,
        arxiv_id=arxiv_id,
        topic=topic,
    )
    spec.facts[2] = f"Our {topic} {method} is trained on the {topic} benchmark number {index}."
    spec.facts[3] = (
        NEEDLE_FACT
        if index == NEEDLE
        else f"The {method} improves {topic} recall by {index % 9 + 1}.{index % 7} points."
    )
    return spec


def build_library_paper(spec: LibraryPaperSpec) -> LibraryPaperSpec:
    pdf = FPDF()
    pdf.set_title(spec.title)
    pdf.set_author(", ".join(spec.authors))
    pdf.set_font("helvetica", size=11)

    def para(text: str, size: int = 11) -> None:
        pdf.set_font("helvetica", size=size)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    pdf.add_page()
    para(spec.title, 16)
    para(", ".join(spec.authors))
    para(f"arXiv:{spec.arxiv_id}")
    para(f"Abstract. We study {spec.topic} analysis. " + filler(len(spec.title), 50))
    pdf.add_page()
    para("2 Method", 13)
    para(spec.facts[2] + " " + filler(3, 60))
    pdf.add_page()
    para("3 Results", 13)
    para(filler(5, 40) + " " + spec.facts[3] + " " + filler(6, 30))
    pdf.output(str(spec.path))
    return spec


def build_library(folder: Path, count: int = 30) -> list[LibraryPaperSpec]:
    """``count`` papers in ``folder`` (some in a subfolder: the index is recursive)."""
    folder.mkdir(parents=True, exist_ok=True)
    specs = []
    for index in range(count):
        where = folder / "older" if index % 10 == 9 else folder
        where.mkdir(exist_ok=True)
        specs.append(build_library_paper(paper_spec(where, index)))
    return specs


# ---------------------------------------------------------------------------------------------
# fixtures (imported by the conftest files of tests/paper/library and tests/cli)


@dataclass
class BuiltLibrary:
    folder: Path
    specs: list[LibraryPaperSpec]


@pytest.fixture(scope="session")
def built_library(tmp_path_factory: pytest.TempPathFactory) -> BuiltLibrary:
    """30 papers, generated and indexed once per session (do not change this folder: copy
    it with ``library_dir``)."""
    from assistants.config import Settings
    from assistants.paper.library.core import Library

    folder = tmp_path_factory.mktemp("library") / "papers"
    specs = build_library(folder, 30)
    Library(folder, settings=Settings()).index()
    return BuiltLibrary(folder, specs)


@pytest.fixture
def library_dir(built_library: BuiltLibrary, tmp_path: Path) -> Path:
    """A copy of the indexed library, times kept (so the copied index is up to date)."""
    dest = tmp_path / "papers"
    shutil.copytree(built_library.folder, dest, copy_function=shutil.copy2)
    return dest

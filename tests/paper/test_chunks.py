"""Chunk planning for the map step of long papers."""

from __future__ import annotations

import pdfs

from assistants.paper.chunks import plan_chunks
from assistants.paper.pdf import load_paper
from assistants.paper.text import paper_from_text


def test_plan_chunks_cover_the_body_once(spec: pdfs.PaperSpec) -> None:
    paper = load_paper(spec.path)
    chunks = plan_chunks(paper, 600)
    assert len(chunks) >= 2
    assert all(chunk.tokens <= 600 for chunk in chunks)
    pieces = [piece for chunk in chunks for piece in chunk.pieces]
    pages = {page for page, _, _ in pieces}
    assert spec.references_page not in pages  # references cut
    assert spec.appendix_page in pages  # appendix kept
    body = "".join(paper.pages[p - 1].text[a:b] for p, a, b in pieces)
    assert body.replace("\n", "") == paper.body_text(tagged=False).replace("\n", "")
    # cuts happen at top-level section starts: no chunk begins mid-section except by size
    assert chunks[1].sections[0] in {name for name, _, _ in spec.sections}
    text = chunks[0].text(paper)
    assert text.startswith("[page 1]\n")
    everything = plan_chunks(paper, 600, cut_references=False)
    assert spec.references_page in {p for c in everything for p, _, _ in c.pieces}


def test_a_page_bigger_than_a_chunk_is_split() -> None:
    big = "1 Introduction\n" + "\n".join(pdfs.filler(i, 60) for i in range(300))
    paper = paper_from_text(big + "\f2 Method\n" + pdfs.filler(3, 50))
    chunks = plan_chunks(paper, 1000)
    assert len(chunks) > 5
    assert all(chunk.tokens <= 1000 for chunk in chunks)
    pieces = [piece for chunk in chunks for piece in chunk.pieces]
    body = "".join(paper.pages[p - 1].text[a:b] for p, a, b in pieces)
    assert body == "".join(page.text for page in paper.pages)
    assert chunks[0].text(paper).startswith("[page 1]\n1 Introduction")
    assert all(c.text(paper).startswith("[page 1]") for c in chunks[:-1])

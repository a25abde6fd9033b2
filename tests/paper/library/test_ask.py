"""Questions across the library of 30 generated papers, over real HTTP (the DeepSeek test
server): the right passage is retrieved and sent, the citation to it is verified and an
invented one is flagged; an unanswerable question is said to be unanswerable."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from deepseek_server import DeepSeekServer, Reply
from library_pdfs import NEEDLE, NEEDLE_FACT, NEEDLE_PAGE, NEEDLE_QUESTION

from assistants import Library, LibraryAnswer
from assistants.paper.library.ask import check_citations
from assistants.paper.library.models import Passage

HEADER = re.compile(r"^\[P\d+\] cite as \((.+?)\) — .*\((.+?)\)$", re.M)


def sent_passages(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(citation, source) of each passage header in a request."""
    text = "\n".join(str(m["content"]) for m in body["messages"] if m["role"] == "user")
    return HEADER.findall(text)


def citing_responder(body: dict[str, Any]) -> Reply:
    """Answers from the passage that holds the fact, citing it, plus one invented citation."""
    text = "\n".join(str(m["content"]) for m in body["messages"] if m["role"] == "user")
    blocks = re.split(r"(?m)^(?=\[P\d+\] )", text)
    block = next(b for b in blocks if "zebrafish" in b)
    citation = HEADER.match(block).group(1)  # type: ignore[union-attr]
    answer = f"It reaches 97.3 percent accuracy ({citation}); see also (Nobody 1999, p. 4)."
    return Reply(json.dumps({"answerable": True, "answer": answer}))


def test_a_library_question_cites_the_right_paper_and_page(
    library_dir: Path, server: DeepSeekServer
) -> None:
    server.responder = citing_responder
    answer = Library(library_dir).ask(NEEDLE_QUESTION)

    assert answer.answerable
    (request,) = server.chat_requests
    headers = sent_passages(request.body)
    needle = [h for h in headers if h[1].startswith(f"{NEEDLE:03d}-")]
    assert needle and needle[0][0].endswith(f", p. {NEEDLE_PAGE}")
    assert headers[0] == needle[0]  # ranked first
    assert NEEDLE_FACT in " ".join(json.dumps(request.body).replace("\\n", " ").split())
    assert answer.passages_sent[0].source.startswith(f"{NEEDLE:03d}-")

    (good,) = answer.verified
    assert good.source is not None and good.source.startswith(f"{NEEDLE:03d}-")
    assert good.pages == [NEEDLE_PAGE] and good.title
    (bad,) = answer.unverified
    assert bad.label == "Nobody 1999" and bad.source is None
    assert "(Nobody 1999, p. 4 [unverified])" in answer.answer
    assert answer.flagged and any("Nobody 1999" in w for w in answer.warnings)
    markdown = answer.to_markdown()
    assert "**Sources**" in markdown and good.label in markdown
    # the request is a small share of the library
    assert 0 < answer.usage.input_tokens < answer.library_tokens
    assert LibraryAnswer.model_validate_json(answer.model_dump_json()) == answer


def test_nothing_matches_no_request_is_made(library_dir: Path, server: DeepSeekServer) -> None:
    answer = Library(library_dir).ask("What is the melting temperature of tungsten in kelvin?")
    assert not answer.answerable and not answer.passages_sent
    assert "does not answer" in answer.answer and "no request" in answer.answer
    assert server.chat_requests == []
    assert "The library does not answer this" in answer.to_markdown()


def test_the_model_says_the_passages_do_not_answer(
    library_dir: Path, server: DeepSeekServer
) -> None:
    server.responder = lambda body: Reply(
        json.dumps({"answerable": False, "answer": "The passages do not give a price."})
    )
    answer = Library(library_dir).ask("How much did the zebrafish tokenizer cost?")
    assert server.chat_requests and not answer.answerable
    assert answer.citations == [] and not answer.flagged
    assert "does not answer" in answer.to_text()


def test_dry_run_sends_nothing(library_dir: Path, server: DeepSeekServer) -> None:
    answer = Library(library_dir).ask(NEEDLE_QUESTION, dry_run=True, passages=2)
    assert answer.dry_run and answer.estimate is not None and server.chat_requests == []
    assert len(answer.passages_sent) <= 2
    assert answer.estimate.input_tokens < answer.library_tokens


def test_budget_and_per_paper_limits(library_dir: Path, server: DeepSeekServer) -> None:
    answer = Library(library_dir).ask("benchmark recall points", dry_run=True, per_paper=1)
    sources = [p.source for p in answer.passages_sent]
    assert len(sources) == len(set(sources)) > 1
    tight = Library(library_dir).ask("benchmark recall points", dry_run=True, budget=200)
    assert sum(p.tokens for p in tight.passages_sent) <= 200


def passage(label: str, page: int) -> Passage:
    return Passage(source=f"{label}.pdf", label=label, page=page, text="x")


def test_citation_check_forms() -> None:
    sent = [passage("Lovelace et al. 2024", 5), passage("Lovelace et al. 2024", 6)]
    sent.append(passage("Hopper et al. 2023a", 2))
    text, cites = check_citations(
        "A (Lovelace et al., 2024, pp. 5-6). B (Hopper et al. 2023a, p. 2; Hopper et al. 2023b, "
        "p. 2). C (Lovelace et al. 2024, p. 7). D (see Table 2). E (Hopper et al. 2023a, page 2).",
        sent,
    )
    assert [(c.label, c.pages, c.verified) for c in cites] == [
        ("Lovelace et al., 2024", [5, 6], True),
        ("Hopper et al. 2023a", [2], True),
        ("Hopper et al. 2023b", [2], False),
        ("Lovelace et al. 2024", [7], False),
        ("Hopper et al. 2023a", [2], True),
    ]
    assert "(Hopper et al. 2023a, p. 2; Hopper et al. 2023b, p. 2 [unverified])" in text
    assert "(Lovelace et al. 2024, p. 7 [unverified])" in text
    assert "(see Table 2)" in text

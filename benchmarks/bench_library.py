"""Paper library benchmarks: indexing a folder of generated papers, re-indexing it, the latency
of a question up to its request, and its input tokens against sending the whole library.

    python benchmarks/bench_library.py [--papers 300] [--questions 5]

1. Index ``--papers`` generated 3-page PDFs (tests/support/library_pdfs.py) from scratch: wall
   time, papers per second, PDFs read, index size and passages.
2. Re-index the unchanged folder: time and PDFs read (goal 0); then again after touching every
   file (new modification times, same content: hashed, not parsed; goal 0 read).
3. Query latency to the first request: from ``Library.ask`` (the index refresh included) to the
   moment the DeepSeek test server receives the request; median of ``--questions`` questions.
   Full-text search alone (no request) too.
4. Input tokens of a library question as the server counts them (``usage.prompt_tokens``)
   against the tokens of the whole library's text (goal: at most 5 %).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=300)
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()

    from library_pdfs import NEEDLE_QUESTION, TOPICS, build_library

    tmp = Path(tempfile.mkdtemp(prefix="bench-library-"))
    folder = tmp / "papers"
    start = time.perf_counter()
    build_library(folder, args.papers)
    print(f"generated {args.papers} papers in {time.perf_counter() - start:.1f} s ({folder})")

    from deepseek_server import DeepSeekServer, Reply

    srv = DeepSeekServer().start()
    os.environ.update(
        ASSISTANTS_BASE_URL=srv.url,
        DEEPSEEK_API_KEY="sk-bench",
        ASSISTANTS_API_FLAVOR="deepseek",
        ASSISTANTS_DATA_DIR=str(tmp / "data"),
    )
    arrivals: list[float] = []

    def reply(body: dict[str, Any]) -> Reply:
        arrivals.append(time.perf_counter())
        return Reply(json.dumps({"answerable": False, "answer": "not in the passages"}))

    srv.responder = reply
    try:
        from assistants.config import load_settings
        from assistants.paper.library import store
        from assistants.paper.library.core import Library

        reads: list[str] = []
        real = store.load_paper

        def counting(path: Any, **kwargs: Any) -> Any:
            reads.append(str(path))
            return real(path, **kwargs)

        store.load_paper = counting  # type: ignore[assignment]
        settings = load_settings(cache_enabled=False)
        library = Library(folder, settings=settings)

        start = time.perf_counter()
        report = library.index()
        took = time.perf_counter() - start
        print()
        print("1. index from scratch")
        print(f"   {report.papers} papers, {report.passages:,} passages, {report.tokens:,} tokens")
        print(f"   {took:.1f} s ({report.papers / took:.1f} papers/s), {len(reads)} PDFs read")
        print(f"   index file {report.size_bytes / 1e6:.2f} MB ({report.index_path})")

        print()
        print("2. re-index")
        reads.clear()
        start = time.perf_counter()
        again = library.index()
        print(f"   unchanged: {time.perf_counter() - start:.3f} s, {len(reads)} PDFs read")
        for path in folder.rglob("*.pdf"):
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        start = time.perf_counter()
        touched = library.index()
        print(
            f"   every file touched: {time.perf_counter() - start:.3f} s, {len(reads)} PDFs read "
            f"({touched.unchanged} unchanged by hash; report.read {again.read}/{touched.read})"
        )

        print()
        print("3. latency (median)")
        questions = [NEEDLE_QUESTION] + [
            f"How much does the {topic} model improve recall?" for topic in TOPICS
        ]
        questions = questions[: args.questions]
        searches, latencies, prompts = [], [], []
        for question in questions:
            start = time.perf_counter()
            library.search(question, limit=8)
            searches.append(time.perf_counter() - start)
            before = len(srv.chat_requests)
            start = time.perf_counter()
            answer = library.ask(question)
            latencies.append(arrivals[-1] - start)
            prompts.append(srv.chat_requests[before].usage["prompt_tokens"])
        print(f"   search (refresh + FTS5, no request): {statistics.median(searches) * 1e3:.0f} ms")
        print(f"   ask → request at the server: {statistics.median(latencies) * 1e3:.0f} ms")

        whole = answer.library_tokens
        share = statistics.median(prompts) / whole
        print()
        print("4. input tokens of a library question")
        print(f"   whole library text: {whole:,} tokens")
        print(
            f"   one question (server prompt_tokens, median): {statistics.median(prompts):,.0f} "
            f"= {share:.2%} of the library (goal <= 5%)"
        )
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

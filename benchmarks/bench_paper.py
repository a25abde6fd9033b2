"""Paper analyzer benchmarks: our loader against raw pypdf, and what the references cut saves.

    python benchmarks/bench_paper.py [--pages 120] [--runs 3] [--fresh-pages 117] [--fresh-only]

0. The start-up figure: ``load_paper`` in a fresh ``python -c`` process against ``PdfReader`` +
   ``extract_text`` on every page in a fresh process, on a generated ``--fresh-pages`` (117)
   page two-column paper; each run is a new subprocess, the two alternate, median of ``--runs``.
   The target is a ratio of at most 1.3. CPU seconds (process + its children) are printed too:
   on a loaded machine they move less than wall time.
1. Loading a long (100+ page) two-column PDF built with fpdf2: raw ``pypdf`` ``extract_text``
   over every page in-process, against :func:`assistants.paper.pdf.load_paper` (a worker
   process with pypdf's limits, per-page and per-file time limits, text cleaning, outline →
   sections, the references located). Median wall time of ``--runs`` runs, and what each
   leaves behind (ligature glyphs, split words).
2. Input tokens of one analysis request for the same long paper with and without the
   references cut, counted offline (DeepSeek tokenizer) and by the test server (``usage``).
3. A follow-up question on the paper: share of its prompt served from the prefix cache.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT))


def median_time(func: Any, runs: int) -> tuple[float, Any]:
    times = []
    value = None
    for _ in range(runs):
        start = time.perf_counter()
        value = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


# the two fresh processes of the start-up figure (the PDF's path is argv[1])
FRESH_RAW = (
    "import sys\n"
    "from pypdf import PdfReader\n"
    "reader = PdfReader(sys.argv[1])\n"
    "pages = [page.extract_text() for page in reader.pages]\n"
)
FRESH_OURS = "import sys\nfrom assistants import load_paper\nload_paper(sys.argv[1])\n"


def fresh_run(code: str, path: Path) -> tuple[float, float]:
    """Wall and CPU seconds (the process and its children) of ``python -c code path``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def fresh_process_figure(tmp: Path, pages: int, runs: int) -> None:
    import pdfs

    # 7 sections of (pages - 5) // 7 pages, title page, references and appendix: 117 for 117
    spec = pdfs.build_paper(
        tmp / "fresh.pdf",
        pages_per_section=max(1, (pages - 5) // len(pdfs.MAIN_SECTIONS)),
        two_columns=True,
        references=60,
    )
    times: dict[str, list[tuple[float, float]]] = {"raw": [], "ours": []}
    for _ in range(runs):  # alternating, so a change of load hits both
        times["raw"].append(fresh_run(FRESH_RAW, spec.path))
        times["ours"].append(fresh_run(FRESH_OURS, spec.path))
    wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    print(
        f"0. a fresh process per run: {spec.pages}-page two-column PDF "
        f"(median of {runs}; target: ratio <= 1.30)"
    )
    print(f"{'fresh process':<40}{'wall s':>8}{'ratio':>7}{'cpu s':>8}{'ratio':>7}")
    rows = [("PdfReader + extract_text (every page)", "raw"), ("assistants load_paper", "ours")]
    for label, key in rows:
        print(
            f"{label:<40}{wall[key]:>8.2f}{wall[key] / wall['raw']:>7.2f}"
            f"{cpu[key]:>8.2f}{cpu[key] / cpu['raw']:>7.2f}"
        )
    print()


def raw_pypdf(path: Path) -> str:
    import pypdf

    reader = pypdf.PdfReader(str(path))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def leftovers(text: str) -> tuple[int, int]:
    import re

    ligatures = sum(text.count(ch) for ch in "\ufb00\ufb01\ufb02\ufb03\ufb04")
    split_words = len(re.findall(r"[a-z]-\n[a-z]", text))
    return ligatures, split_words


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=120)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fresh-pages", type=int, default=117)
    parser.add_argument("--fresh-only", action="store_true", help="only the start-up figure")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-paper-"))
    fresh_process_figure(tmp, args.fresh_pages, args.runs)
    if args.fresh_only:
        return 0

    import pdfs

    from assistants.paper.pdf import load_paper

    spec = pdfs.build_long_paper(tmp / "long.pdf", pages=args.pages, two_columns=True)

    raw_s, raw_text = median_time(lambda: raw_pypdf(spec.path), args.runs)
    ours_s, paper = median_time(lambda: load_paper(spec.path), args.runs)
    raw_lig, raw_split = leftovers(raw_text)
    our_lig, our_split = leftovers(paper.text)

    print(f"1. loading a {paper.page_count}-page two-column PDF (median of {args.runs} runs)")
    print(f"{'loader':<24}{'seconds':>9}{'ratio':>8}{'ligatures':>11}{'split words':>13}")
    print(f"{'raw pypdf extract_text':<24}{raw_s:>9.2f}{1.0:>8.2f}{raw_lig:>11}{raw_split:>13}")
    print(
        f"{'assistants load_paper':<24}{ours_s:>9.2f}{ours_s / raw_s:>8.2f}"
        f"{our_lig:>11}{our_split:>13}"
    )
    print(
        f"   sections: {len(paper.sections)} from {paper.sections_from}; references on "
        f"p. {paper.references_page}, {paper.reference_count} entries"
    )

    # 2 and 3 over the test server
    from deepseek_server import DeepSeekServer, Reply

    srv = DeepSeekServer().start()
    os.environ.update(
        ASSISTANTS_BASE_URL=srv.url,
        DEEPSEEK_API_KEY="sk-bench",
        ASSISTANTS_API_FLAVOR="deepseek",
        ASSISTANTS_DATA_DIR=str(tmp / "data"),
    )
    claim = {"text": "x", "pages": [1]}
    lists = ("contributions", "innovations", "method", "key_results", "limitations")
    analysis_reply = json.dumps(
        {"title": "t", "summary": claim, "open_questions": [], **{k: [] for k in lists}}
    )
    answer_reply = json.dumps({"answerable": True, "answer": "x", "pages": [1]})

    def reply(body: dict[str, Any]) -> Reply:
        last = str(body["messages"][-1]["content"])
        return Reply(answer_reply if "Question about" in last else analysis_reply)

    srv.responder = reply
    try:
        from assistants.config import load_settings
        from assistants.llm.tokens import count_tokens
        from assistants.paper.analyze import analyze_paper
        from assistants.paper.chat import PaperChat

        rows = []
        for cut in (False, True):
            settings = load_settings(
                cache_enabled=False,
                paper={"cut_references": cut, "token_budget": 10_000_000},
            )
            before = len(srv.chat_requests)
            analysis = analyze_paper(paper, settings=settings)
            server_tokens = srv.chat_requests[before].usage["prompt_tokens"]
            rows.append((cut, analysis.paper_tokens, server_tokens))
        print()
        print("2. input tokens of one analysis request for the same paper")
        print(f"{'references':<14}{'paper tokens':>14}{'server prompt tokens':>22}{'ratio':>8}")
        base = rows[0][1]
        for cut, ours, server in rows:
            label = "cut" if cut else "kept"
            print(f"{label:<14}{ours:>14,}{server:>22,}{ours / base:>8.2f}")
        refs = paper.references
        if refs is not None:
            print(f"   the references section alone: {count_tokens(refs.text):,} tokens")

        chat = PaperChat(paper, settings=load_settings(cache_enabled=False))
        chat.ask("What is the method?")
        follow = chat.ask("And the results?")
        usage = follow.usage
        print()
        print("3. follow-up question on the same paper (test server's prefix cache)")
        print(
            f"   prompt {usage.input_tokens:,} tokens, {usage.cache_hit_tokens:,} from the cache "
            f"({usage.cache_hit_ratio:.0%})"
        )
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

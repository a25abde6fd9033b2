"""Code-reviewer benchmarks against the DeepSeek-protocol test server (127.0.0.1 only).

    python benchmarks/bench_review.py [--latency 0.2] [--files 200]

Measures:
1. throughput: N small files at a fixed per-request latency, bounded concurrency, against the
   ideal ceil(requests / concurrency) x latency and against one request at a time;
2. tokens: diff mode vs whole file for a 3-line change in a 3,000-line file (input tokens);
3. prefix cache: the API-side cache-hit share of input tokens over a 50-file review;
4. re-run: requests made by a second, unchanged review (response cache);
5. hook start-up: `python -m assistants review --hook` with nothing staged vs `python -c pass`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT))

from deepseek_server import DeepSeekServer, Reply  # noqa: E402


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q")
    git(path, "config", "user.email", "bench@example.com")
    git(path, "config", "user.name", "bench")
    git(path, "config", "commit.gpgsign", "false")
    return path


def small_file(i: int) -> str:
    body = [f'"""Module {i}."""', "", "import json", ""]
    for j in range(6):
        body += [
            f"def handler_{i}_{j}(payload):",
            f"    data = json.loads(payload)  # step {j}",
            f"    return data.get('field_{j}', {i * j})",
            "",
        ]
    return "\n".join(body) + "\n"


def empty_answer(body: dict) -> Reply:
    return Reply(json.dumps({"findings": []}))


def timed(func):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-review-"))
    os.environ["ASSISTANTS_DATA_DIR"] = str(work / "data")
    os.environ["DEEPSEEK_API_KEY"] = "sk-bench"
    os.environ["ASSISTANTS_API_FLAVOR"] = "deepseek"
    os.environ.pop("ASSISTANTS_REVIEW__CONCURRENCY", None)

    from assistants.config import load_settings
    from assistants.review.run import review_diff, review_path

    rows: list[tuple[str, str, str]] = []

    # 1. throughput ------------------------------------------------------------------------
    project = work / "many"
    project.mkdir()
    for i in range(args.files):
        (project / f"mod_{i:03d}.py").write_text(small_file(i), encoding="utf-8")
    with DeepSeekServer(latency=args.latency) as srv:
        srv.responder = empty_answer
        os.environ["ASSISTANTS_BASE_URL"] = srv.url
        cfg = load_settings(cache_enabled=False, review={"request_token_budget": 2500})
        # warm-up (imports, tokenizer, HTTP client): measured separately, once per process
        cold, _ = timed(lambda: review_path(project / "mod_000.py", settings=cfg))
        wall, review = timed(
            lambda: review_path(project, settings=cfg, concurrency=args.concurrency)
        )
        requests = review.usage.requests
        ideal = math.ceil(requests / args.concurrency) * args.latency
        serial_wall, _ = timed(lambda: review_path(project, settings=cfg, concurrency=1))
    rows.append(
        (
            f"{args.files} files, {requests} requests, latency {args.latency}s, "
            f"concurrency {args.concurrency}",
            f"{wall:.2f}s",
            f"{wall / ideal:.2f}x ideal ({ideal:.2f}s); {serial_wall / wall:.1f}x faster than "
            f"one at a time ({serial_wall:.2f}s)",
        )
    )
    rows.append(
        (
            "first review in a process (imports, tokenizer, client)",
            f"{cold:.2f}s",
            "1 file, 1 request",
        )
    )

    # 2. diff vs whole file ---------------------------------------------------------------
    repo = make_repo(work / "bigrepo")
    big = [f"def function_{i}(x):\n    y = x * {i}\n    return y + 1\n" for i in range(1000)]
    (repo / "big.py").write_text("".join(big), encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    lines = (repo / "big.py").read_text().splitlines()
    assert len(lines) == 3000
    lines[1500:1503] = ["def function_500(x):", "    y = x * 5000", "    return y - 1"]
    (repo / "big.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = load_settings(cache_enabled=False)
    whole = review_path(repo / "big.py", settings=cfg, dry_run=True)
    diff = review_diff(repo=repo, settings=cfg, dry_run=True)
    assert whole.plan is not None and diff.plan is not None
    rows.append(
        (
            "3-line change in a 3,000-line file: input tokens",
            f"diff {diff.plan.input_tokens:,}",
            f"whole file {whole.plan.input_tokens:,} "
            f"({whole.plan.input_tokens / diff.plan.input_tokens:.0f}x more)",
        )
    )

    # 3 + 4. prefix cache share over 50 files, and an unchanged re-run ---------------------
    fifty = work / "fifty"
    fifty.mkdir()
    for i in range(50):
        (fifty / f"mod_{i:02d}.py").write_text(small_file(i), encoding="utf-8")
    with DeepSeekServer(latency=0.0) as srv:
        srv.responder = empty_answer
        os.environ["ASSISTANTS_BASE_URL"] = srv.url
        cfg = load_settings(cache_enabled=True, review={"request_token_budget": 3000})
        first = review_path(fifty, settings=cfg)
        before = len(srv.chat_requests)
        second = review_path(fifty, settings=cfg)
        rerun_requests = len(srv.chat_requests) - before
        # a large edit to the first file (greedy packing would shift every later boundary)
        grown = small_file(0) + "\n".join(
            f"def extra_{j}(x):\n    return x + {j}\n" for j in range(30)
        )
        (fifty / "mod_00.py").write_text(grown, encoding="utf-8")
        before = len(srv.chat_requests)
        third = review_path(fifty, settings=cfg)
        edit_requests = len(srv.chat_requests) - before
    usage = first.usage
    rows.append(
        (
            f"50-file review: {usage.requests} requests, prefix-cache hit share",
            f"{usage.cache_hit_ratio:.0%}",
            f"{usage.cache_hit_tokens:,} of {usage.input_tokens:,} input tokens served by the "
            "API's prefix cache (static system prompt first)",
        )
    )
    rows.append(
        (
            "unchanged re-run of the 50-file review",
            f"{rerun_requests} requests",
            f"{second.usage.cached_requests} answers from the response cache",
        )
    )
    rows.append(
        (
            "after a large edit to 1 of the 50 files",
            f"{edit_requests} of {third.usage.requests + third.usage.cached_requests} sent",
            f"{third.usage.cached_requests} requests unchanged (served by the response cache)",
        )
    )

    # 5. hook with nothing staged ---------------------------------------------------------
    empty = make_repo(work / "empty")
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("DEEPSEEK_API_KEY", None)

    def run(cmd: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, cwd=empty, env=env, check=True, capture_output=True)
        return time.perf_counter() - start

    hook = statistics.median(
        run([sys.executable, "-m", "assistants", "review", "--hook"]) for _ in range(5)
    )
    bare = statistics.median(run([sys.executable, "-c", "pass"]) for _ in range(5))
    rows.append(
        (
            "hook with nothing staged (median of 5)",
            f"{hook:.2f}s",
            f"python -c pass {bare:.2f}s ({hook / bare:.1f}x)",
        )
    )

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>14}  comparison")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>14}  {note}")


if __name__ == "__main__":
    main()

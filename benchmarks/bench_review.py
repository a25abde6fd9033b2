"""Code-reviewer benchmarks against the DeepSeek-protocol test server (127.0.0.1 only).

    python benchmarks/bench_review.py [--mode MODE ...] [--latency 1] [--concurrency 8]

Modes (default: all). The pipeline modes run `assistants review` as a subprocess against the
test server in another subprocess (its request log gives arrival times and prompt sizes; the
CLI's CPU and peak RSS come from os.wait4 on that process alone):

- stream: 2,000 files of ~40 lines at 1 s latency: wall vs ceil(requests / 8) x latency + the
  time `python -c "import langchain_deepseek"` takes; then the unchanged re-run (requests, wall);
- big: 5,000 such files: time from process start to the first request, peak RSS, CPU; and the
  dry run's CPU against the real run's;
- tokens: 200 files (~47.6k lines cut from this project's sources): input tokens sent, by the
  server's count and by DeepSeek's tokenizer, vs the one-call-per-file loop of the guides;
- numbering: what each line-number form costs in tokens over the plain text (the choice);
- packing: request fill vs requests re-sent after one edit, per boundary rule (the choice);
- hook: `assistants review --hook` with one staged file, and `assistants review FILE` on one
  new file, at 0 latency vs the import;
- baseline: 20 files with one known finding each go into a baseline; then 3 new findings are
  added and 5 files' code moves 30 lines down while the server rewords every title: the re-run
  with --baseline must report exactly 3, and --baseline must add 0 requests (same tree, fresh
  caches, with and without it);
- basic: the in-process suite: throughput at --latency 0.2, diff vs whole file, prefix-cache
  share, unchanged re-run, hook with nothing staged vs `python -c pass`.
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
from dataclasses import dataclass
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


def basic(args: argparse.Namespace) -> None:
    """The in-process suite: throughput, diff vs whole file, prefix cache, re-run, hook."""

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


# -- the pipeline suite: the `assistants` CLI as a subprocess, the test server as another ------
NAIVE_SYSTEM = (
    "You are an expert code reviewer. Review the code you are given for bugs, security "
    "vulnerabilities, performance problems and maintainability issues. Answer in JSON: "
    '{"findings": [{"line": <number>, "severity": "critical|high|medium|low", '
    '"message": "...", "suggestion": "..."}]}.'
)


def serve(args: argparse.Namespace) -> None:
    """The test server with a request log: one JSON line per chat request (arrival time,
    the server's prompt-token count, and with --log-bodies the messages)."""
    import threading

    from deepseek_server import count_tokens, prompt_text

    lock = threading.Lock()
    log = open(args.log, "a", encoding="utf-8")  # noqa: SIM115 - open for the server's life

    def responder(body: dict) -> Reply:
        row = {"t": time.time(), "prompt_tokens": count_tokens(prompt_text(body["messages"]))}
        if args.log_bodies:
            row["messages"] = body["messages"]
        with lock:
            log.write(json.dumps(row) + "\n")
            log.flush()
        return Reply(json.dumps({"findings": []}))

    srv = DeepSeekServer(latency=args.latency).start()
    srv.responder = responder
    print(srv.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()


class Server:
    """``serve`` in a subprocess (its own GIL, like a real endpoint)."""

    def __init__(self, latency: float, work: Path, bodies: bool = False) -> None:
        self.log = work / f"server-{time.time_ns()}.jsonl"
        cmd = [sys.executable, __file__, "serve", "--latency", str(latency), "--log", str(self.log)]
        self.proc = subprocess.Popen(
            [*cmd, *(["--log-bodies"] if bodies else [])], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def rows(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def mark(self) -> int:
        return len(self.rows())

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    started: float  # time.time() just before the process was started
    code: int
    stdout: str
    stderr: str


def cli(args: list[str], env: dict[str, str], cwd: Path | None = None) -> Run:
    """`assistants ARGS` in a subprocess: wall, CPU (user + system) and peak RSS of that
    process alone (os.wait4 gives the child's own rusage)."""
    exe = Path(sys.executable).with_name("assistants")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "assistants"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen([*cmd, *args], env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024,
            started,
            proc.returncode,
            out.read().decode(),
            err.read().decode(),
        )


def import_time(runs: int = 3) -> float:
    """Median wall time of `python -c "import langchain_deepseek"` in this venv."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import langchain_deepseek"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def env_for(work: Path, url: str, data: str = "data") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANTS_")}
    env.update(
        ASSISTANTS_DATA_DIR=str(work / data),
        ASSISTANTS_BASE_URL=url,
        ASSISTANTS_API_FLAVOR="deepseek",
        DEEPSEEK_API_KEY="sk-bench",
        NO_COLOR="1",
    )
    return env


def forty_line_file(i: int) -> str:
    """About 40 lines of plausible Python, different in every file."""
    body = [f'"""Handlers for queue {i}."""', "", "import json", "import logging", ""]
    body.append(f"log = logging.getLogger('queue_{i}')")
    for j in range(4):
        body += [
            "",
            "",
            f"def handle_{i}_{j}(payload, retries={j + 1}):",
            f'    """Decode a message of kind {j} and return its field."""',
            "    data = json.loads(payload)",
            f"    if data.get('kind') != {j}:",
            f"        log.warning('unexpected kind %s in queue {i}', data.get('kind'))",
            "        return None",
            f"    return data.get('field_{j}', {i * j})",
        ]
    return "\n".join(body) + "\n"


def source_corpus() -> list[str]:
    """The project's own Python sources: real code, real line lengths."""
    files = sorted((ROOT / "assistants").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
    return [p.read_text(encoding="utf-8") for p in files if p.stat().st_size > 2000]


def real_repo(path: Path, files: int, lines: int) -> int:
    """``files`` modules cut from the project's own sources, ``lines`` lines in all."""
    corpus = [t.splitlines() for t in source_corpus()]
    pool = [line for text in corpus for line in text]
    per = lines // files
    path.mkdir(parents=True)
    pos, total = 0, 0
    for i in range(files):
        n = max(20, int(per * (0.5 + (i * 7919 % 100) / 100)))  # 0.5x..1.5x the mean
        chunk = (pool * 2)[pos : pos + n]
        pos = (pos + n) % len(pool)
        (path / f"mod_{i:03d}.py").write_text("\n".join(chunk) + "\n", encoding="utf-8")
        total += len(chunk)
    return total


def forty_line_repo(path: Path, files: int) -> Path:
    """A new folder of ``files`` modules q_0000.py, q_0001.py ... of ~40 lines each."""
    path.mkdir()
    for i in range(files):
        (path / f"q_{i:04d}.py").write_text(forty_line_file(i), encoding="utf-8")
    return path


def review_args(repo: Path, args: argparse.Namespace) -> list[str]:
    """``assistants review`` of ``repo``, JSON out, at the benchmark's concurrency."""
    return ["review", str(repo), "--format", "json", "-j", str(args.concurrency)]


def stream_mode(args: argparse.Namespace, work: Path, rows: list[tuple[str, str, str]]) -> None:
    """2,000 files of ~40 lines at 1 s latency: wall vs the ideal + the import of
    langchain_deepseek; then the unchanged re-run."""
    repo = forty_line_repo(work / "two-thousand", args.stream_files)
    imp = import_time()
    srv = Server(args.latency, work)
    try:
        env = env_for(work, srv.url, "data-stream")
        review = review_args(repo, args)
        first = cli(review, env)
        sent = srv.mark()
        second = cli(review, env)
        again = srv.mark() - sent
    finally:
        srv.close()
    assert first.code == 0 and second.code == 0, first.stderr[-2000:] + second.stderr[-2000:]
    ideal = math.ceil(sent / args.concurrency) * args.latency + imp
    rows.append(
        (
            f"{args.stream_files} files x ~40 lines, latency {args.latency:g}s, -j "
            f"{args.concurrency}: {sent} requests",
            f"{first.wall:.2f}s",
            f"{first.wall / ideal:.2f}x (ceil({sent}/{args.concurrency}) x {args.latency:g}s + "
            f"import langchain_deepseek {imp:.2f}s = {ideal:.2f}s); CPU {first.cpu:.1f}s, "
            f"peak RSS {first.rss_mb:.0f} MB",
        )
    )
    rows.append(
        (
            "unchanged re-run of it",
            f"{second.wall:.2f}s",
            f"{again} requests; {second.wall / first.wall:.2f}x the first run; "
            f"CPU {second.cpu:.1f}s",
        )
    )


def big_mode(args: argparse.Namespace, work: Path, rows: list[tuple[str, str, str]]) -> None:
    """5,000 files: time to the first request, peak RSS, dry-run CPU vs real-run CPU."""
    repo = forty_line_repo(work / "five-thousand", args.big_files)
    srv = Server(args.latency, work)
    try:
        env = env_for(work, srv.url, "data-big")
        review = review_args(repo, args)
        real = cli(review, env)
        log = srv.rows()
    finally:
        srv.close()
    assert real.code == 0, real.stderr[-2000:]
    dry = cli([*review, "--dry-run"], env_for(work, srv.url, "data-big-dry"))
    assert dry.code == 0, dry.stderr[-2000:]
    first_at = min(r["t"] for r in log) - real.started
    rows.append(
        (
            f"{args.big_files} files: first request after process start",
            f"{first_at:.2f}s",
            f"{len(log)} requests, run {real.wall:.1f}s wall, CPU {real.cpu:.1f}s, "
            f"peak RSS {real.rss_mb:.0f} MB",
        )
    )
    rows.append(
        (
            f"{args.big_files} files: --dry-run (fresh caches)",
            f"CPU {dry.cpu:.1f}s",
            f"{dry.cpu / real.cpu:.2f}x the real run's CPU ({real.cpu:.1f}s); "
            f"wall {dry.wall:.1f}s, peak RSS {dry.rss_mb:.0f} MB",
        )
    )


def naive_loop(url: str, repo: Path) -> None:
    """The guide's loop: one request per file, a short system prompt, the file as it is."""
    import urllib.request

    for path in sorted(repo.glob("*.py")):
        body = {
            "model": "deepseek-flash",
            "messages": [
                {"role": "system", "content": NAIVE_SYSTEM},
                {
                    "role": "user",
                    "content": f"Review {path.name}:\n```python\n{path.read_text()}```",
                },
            ],
            "response_format": {"type": "json_object"},
        }
        request = urllib.request.Request(
            f"{url.rstrip('/')}/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Bearer sk-bench"},
        )
        with urllib.request.urlopen(request) as reply:
            reply.read()


def tokens_mode(args: argparse.Namespace, work: Path, rows: list[tuple[str, str, str]]) -> None:
    """Input tokens of a review of 200 files (47.6k lines of real code) vs the naive loop,
    counted by the server (its chars/4 rule) and by DeepSeek's tokenizer."""
    from assistants.llm.tokens import count_message_tokens

    repo = work / "two-hundred"
    lines = real_repo(repo, 200, 47_600)
    srv = Server(0.0, work, bodies=True)
    try:
        env = env_for(work, srv.url, "data-tokens")
        run = cli(["review", str(repo), "--format", "json", "-j", "8", "--no-cache"], env)
        ours = srv.rows()
        naive_loop(srv.url, repo)
        naive = srv.rows()[len(ours) :]
    finally:
        srv.close()
    assert run.code == 0, run.stderr[-2000:]

    def bpe(rows_: list[dict]) -> int:
        return sum(
            count_message_tokens((m["role"], m["content"]) for m in r["messages"]) for r in rows_
        )

    server_ours = sum(r["prompt_tokens"] for r in ours)
    server_naive = sum(r["prompt_tokens"] for r in naive)
    bpe_ours, bpe_naive = bpe(ours), bpe(naive)
    rows.append(
        (
            f"200 files ({lines:,} lines): input tokens, server count",
            f"{server_ours:,}",
            f"{server_ours / server_naive:.3f}x the one-call-per-file loop ({server_naive:,}, "
            f"{len(naive)} requests; ours {len(ours)})",
        )
    )
    rows.append(
        (
            "same, DeepSeek tokenizer",
            f"{bpe_ours:,}",
            f"{bpe_ours / bpe_naive:.3f}x the loop ({bpe_naive:,})",
        )
    )


NUMBERINGS = {
    "'   12 | ' (first round)": lambda n, line: f"{n:>5} | {line}",
    "'12|'": lambda n, line: f"{n}|{line}",
    "'12 '": lambda n, line: f"{n} {line}",
    "'12<tab>'": lambda n, line: f"{n}\t{line}",
    "'12<tab>', blank lines empty (chosen)": lambda n, line: f"{n}\t{line}" if line.strip() else "",
    "'12|' every 5th line": lambda n, line: f"{n}|{line}" if n % 5 == 0 or n == 1 else f"|{line}",
}


def numbering_mode(rows: list[tuple[str, str, str]]) -> None:
    """What each line-number form costs over the plain text of real code."""
    from assistants.llm.tokens import count_tokens

    texts = source_corpus()
    plain = sum(count_tokens(t) for t in texts)
    chars = sum(len(t) for t in texts)
    for name, form in NUMBERINGS.items():
        tokens = total_chars = 0
        for text in texts:
            body = "\n".join(form(i, line) for i, line in enumerate(text.splitlines(), 1))
            tokens += count_tokens(body)
            total_chars += len(body)
        rows.append(
            (
                f"line numbers {name}",
                f"+{(tokens - plain) / plain:.1%}",
                f"of the text's tokens (+{(total_chars - chars) / chars:.1%} characters)",
            )
        )


def packing_mode(rows: list[tuple[str, str, str]]) -> None:
    """Request fill vs requests re-sent after one random edit, per boundary rule."""
    import random

    from assistants.review import units as U

    def trial(
        sizes: list[int], budget: int, spacing: float, threshold: float
    ) -> tuple[float, float, int]:
        rnd = random.Random(7)
        U.ANCHOR_SPACING, U.FILL_BEFORE_ANCHOR = spacing, threshold
        made = [U.Unit(f"src/mod_{i:04d}.py", "python", 1, 1, "", t) for i, t in enumerate(sizes)]
        base = U.pack(made, budget)
        keys = {tuple((u.path, u.tokens) for u in r.units) for r in base}
        fill = statistics.mean(r.tokens for r in base) / budget
        resent = []
        for _ in range(40):
            edited = list(made)
            j = rnd.randrange(len(made))
            grown = max(1, int(made[j].tokens * rnd.choice([0.2, 0.6, 1.5, 3.0])))
            edited[j] = U.Unit(made[j].path, "python", 1, 1, "", grown)
            after = U.pack(edited, budget)
            resent.append(
                sum(1 for r in after if tuple((u.path, u.tokens) for u in r.units) not in keys)
            )
        return fill, statistics.mean(resent), max(resent)

    rnd = random.Random(1)
    repos = {  # label: (file sizes in tokens, budget)
        "2,000 x ~400 tokens": ([int(rnd.uniform(250, 550)) for _ in range(2000)], 21_500),
        "500 mixed sizes": ([int(rnd.lognormvariate(7, 0.9)) for _ in range(500)], 21_500),
        # equal sizes, 7 files a request: the anchors can fall early in every request of both
        # the old and the new chain, which then run side by side (the hard case)
        "400 x 289 tokens, budget 2,200": ([289] * 400, 2_200),
    }
    chosen = (U.ANCHOR_SPACING, U.FILL_BEFORE_ANCHOR)
    rules = [(0.5, 0.25), (0.7, 0.25), (0.7, 0.5), (1.0, 0.25), (1.0, 0.4), (0.7, 1.01)]
    try:
        for label, (sizes, budget) in repos.items():
            for spacing, threshold in rules:
                fill, resent, worst = trial(sizes, budget, spacing, threshold)
                rule = (
                    "greedy"
                    if threshold > 1
                    else f"anchors every {spacing:.0%}, end after {threshold:.0%}"
                )
                mark = " (chosen)" if (spacing, threshold) == chosen else ""
                rows.append(
                    (
                        f"packing {label}: {rule}{mark}",
                        f"fill {fill:.0%}",
                        f"{resent:.1f} requests re-sent after one edit (mean of 40, worst {worst})",
                    )
                )
    finally:
        U.ANCHOR_SPACING, U.FILL_BEFORE_ANCHOR = chosen


def hook_mode(work: Path, rows: list[tuple[str, str, str]], runs: int = 5) -> None:
    """The pre-commit hook with one staged file, and `assistants review FILE` on one new file,
    test server at 0 latency. Each run and the bare import take turns (median of each), so a
    busy moment weighs on all alike."""
    repo = make_repo(work / "hooked")
    (repo / "app.py").write_text(forty_line_file(1), encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    srv = Server(0.0, work)
    hooks, smalls, imports = [], [], []
    try:
        for i in range(runs):
            imports.append(import_time(1))
            (repo / "app.py").write_text(forty_line_file(100 + i), encoding="utf-8")
            git(repo, "add", ".")
            run = cli(["review", "--hook"], env_for(work, srv.url, "data-hook"), cwd=repo)
            assert run.code == 0, run.stderr[-2000:]
            hooks.append(run.wall)
            (repo / "app.py").write_text(forty_line_file(200 + i), encoding="utf-8")
            run = cli(["review", "app.py"], env_for(work, srv.url, "data-hook"), cwd=repo)
            assert run.code == 0, run.stderr[-2000:]
            smalls.append(run.wall)
    finally:
        srv.close()
    imp = statistics.median(imports)
    for label, walls in (("hook, one staged file", hooks), ("review FILE, one new file", smalls)):
        wall = statistics.median(walls)
        rows.append(
            (
                f"{label}, latency 0 (median of {runs})",
                f"{wall:.2f}s",
                f'{wall / imp:.2f}x `python -c "import langchain_deepseek"` ({imp:.2f}s)',
            )
        )


def baseline_mode(work: Path, rows: list[tuple[str, str, str]]) -> None:
    """A baseline of 20 known findings; 3 new ones, 5 moved, every title reworded."""
    from itertools import count

    from marker_replies import marker_reply

    repo = make_repo(work / "baselined")
    for i in range(20):
        body = forty_line_file(i).splitlines()
        body.insert(10, f"    risky_{i} = eval(payload)  # known finding {i}")
        (repo / f"mod_{i:02d}.py").write_text("\n".join(body) + "\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    wording = count(1)

    def responder(body: dict) -> Reply:  # a new title wording for every request
        title = f"eval of untrusted input (wording {next(wording)})"
        return Reply(marker_reply(body["messages"][-1]["content"], "eval(", title=title))

    def small(data: str) -> dict[str, str]:  # a few files per request, so several requests
        return {**env_for(work, srv.url, data), "ASSISTANTS_REVIEW__REQUEST_TOKEN_BUDGET": "2500"}

    def review(env: dict[str, str], *extra: str) -> tuple[dict, int]:
        before = len(srv.chat_requests)
        run = cli(["review", ".", "--format", "json", "--fail-on", "never", *extra], env, repo)
        assert run.code == 0, run.stderr[-2000:]
        return json.loads(run.stdout), len(srv.chat_requests) - before

    with DeepSeekServer(latency=0.0) as srv:
        srv.responder = responder
        env = small("data-baseline")
        before = len(srv.chat_requests)
        made = cli(["review", "baseline", ".", "-o", ".assistants-baseline.json"], env, repo)
        assert made.code == 0, made.stderr[-2000:]
        first_requests = len(srv.chat_requests) - before
        known = json.loads((repo / ".assistants-baseline.json").read_text())["findings"]
        for i in (3, 8, 13):  # three new findings
            path = repo / f"mod_{i:02d}.py"
            path.write_text(path.read_text() + f"\n\ndef new_{i}(s):\n    return eval(s)\n")
        for i in (1, 5, 9, 14, 18):  # the known finding moves 30 lines down
            path = repo / f"mod_{i:02d}.py"
            pad = "".join(f"PAD_{i}_{j} = {j}\n" for j in range(30))
            path.write_text(pad + path.read_text(), encoding="utf-8")
        rerun, rerun_requests = review(env, "--baseline", ".assistants-baseline.json")
        plain, plain_requests = review(small("data-plain"))
        fresh, fresh_requests = review(
            small("data-fresh"), "--baseline", ".assistants-baseline.json"
        )
    assert len(known) == 20, known
    reported = len(rerun["findings"])
    assert reported == 3 and rerun["suppressed_counts"]["baseline"] == 20, rerun["findings"]
    assert len(plain["findings"]) == 23 and len(fresh["findings"]) == 3
    rows.append(
        (
            "baseline of 20 findings; 3 new, 5 moved 30 lines, titles reworded: reported",
            f"{reported}",
            f"{rerun['suppressed_counts']['baseline']} held back by the baseline; "
            f"{first_requests} requests to write the baseline; the re-run sent {rerun_requests} "
            f"(8 of 20 files changed), {rerun['usage']['cached_requests']} from the cache",
        )
    )
    rows.append(
        (
            "requests added by --baseline (same tree, fresh caches)",
            f"{fresh_requests - plain_requests}",
            f"{fresh_requests} with --baseline vs {plain_requests} without",
        )
    )


MODES = ("stream", "big", "tokens", "numbering", "packing", "hook", "baseline", "basic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    srv = sub.add_parser("serve", help="run the test server with a request log (internal)")
    srv.add_argument("--latency", type=float, default=0.0)
    srv.add_argument("--log", required=True)
    srv.add_argument("--log-bodies", action="store_true")
    parser.add_argument("--mode", action="append", choices=(*MODES, "all"), default=None)
    parser.add_argument("--latency", type=float, default=None, help="[1 s; basic: 0.2 s]")
    parser.add_argument("--files", type=int, default=200, help="basic: files")
    parser.add_argument("--stream-files", type=int, default=2000)
    parser.add_argument("--big-files", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if args.command == "serve":
        serve(args)
        return
    modes = args.mode or ["all"]
    modes = list(MODES) if "all" in modes else modes
    work = Path(tempfile.mkdtemp(prefix="bench-review-"))
    rows: list[tuple[str, str, str]] = []
    latency = args.latency
    args.latency = 1.0 if latency is None else latency
    for mode in modes:
        if mode == "stream":
            stream_mode(args, work, rows)
        elif mode == "big":
            big_mode(args, work, rows)
        elif mode == "tokens":
            tokens_mode(args, work, rows)
        elif mode == "numbering":
            numbering_mode(rows)
        elif mode == "packing":
            packing_mode(rows)
        elif mode == "hook":
            hook_mode(work, rows)
        elif mode == "baseline":
            baseline_mode(work, rows)
    width = max((len(r[0]) for r in rows), default=10)
    print(f"{'measure':<{width}}  {'value':>14}  comparison")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>14}  {note}")
    if "basic" in modes:
        args.latency = 0.2 if latency is None else latency
        basic(args)


if __name__ == "__main__":
    main()

"""Math solver: wall time of self-consistency (k samples in parallel) against one sample, at a
fixed injected latency on the DeepSeek-protocol test server; or, with --eval-dry-run-mb, the
streaming `math eval --dry-run` over a large generated JSONL file.

    python benchmarks/bench_math.py [--latency 0.5] [--samples 5]
    python benchmarks/bench_math.py --eval-dry-run-mb 100

Rows (each the median of --repeats runs; the response cache is off):
  1 sample              one request
  k samples, parallel   k different answers, so no early stop: ideal ratio 1.0 to one sample
  k samples, sequential k one-sample solves in a loop, for contrast: ratio about k
  k samples, early stop the first answers agree and the rest are slow (4x latency): the vote is
                        decided early and the slow samples are cancelled; ideal ratio 1.0

--eval-dry-run-mb N writes N MB of GSM8K-like problems (the shipped sample, numbers varied) to a
temporary folder and runs `assistants math eval FILE --dry-run` there in a fresh subprocess:
wall time, CPU time and peak RSS of that process (target for 100 MB: under 60 s, 300 MB).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT))

from call_count import CallCount  # noqa: E402
from deepseek_server import DeepSeekServer, Reply  # noqa: E402

from assistants.config import Settings, load_settings  # noqa: E402
from assistants.math.solve import solve_math  # noqa: E402


def timed(func: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def write_problems(path: Path, megabytes: float) -> int:
    """GSM8K-like problems (the shipped sample with its numbers varied) up to ``megabytes``;
    returns how many."""
    from assistants.math.eval import sample_file

    rows = [json.loads(line) for line in sample_file().read_text(encoding="utf-8").splitlines()]
    rng = random.Random(0)
    number = re.compile(r"\d+")
    target = int(megabytes * 1_000_000)
    size = count = 0

    def vary(match: re.Match[str]) -> str:
        return str(int(match.group()) + rng.randint(0, 9))

    with path.open("w", encoding="utf-8") as out:
        while size < target:
            row = rows[count % len(rows)]
            line = json.dumps(
                {
                    "id": f"gen-{count}",
                    "question": number.sub(vary, row["question"]),
                    "answer": number.sub(vary, row["answer"]),
                },
                ensure_ascii=False,
            )
            out.write(line + "\n")
            size += len(line.encode()) + 1
            count += 1
    return count


def eval_dry_run(megabytes: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "problems.jsonl"
        count = write_problems(data, megabytes)
        size = data.stat().st_size / 1_000_000
        command = [sys.executable, "-m", "assistants", "math", "eval", str(data), "--dry-run"]
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "--format", "json"], cwd=tmp, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"math eval --dry-run failed ({done.returncode}):\n{done.stderr}")
    est = json.loads(done.stdout)
    print(f"math eval --dry-run over {size:.1f} MB of JSONL ({count:,} problems)")
    print(f"  problems {est['problems']:,} · input tokens {est['input_tokens']:,}")
    print(f"  wall {wall:.1f} s · CPU {usage.ru_utime + usage.ru_stime:.1f} s")
    print(f"  peak RSS {usage.ru_maxrss / 1024:.0f} MB")
    print(f"  per problem {wall / count * 1e6:.0f} µs wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per request")
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--eval-dry-run-mb",
        type=float,
        default=None,
        metavar="MB",
        help="instead: time `math eval --dry-run` over this many MB of generated JSONL",
    )
    args = parser.parse_args()
    if args.eval_dry_run_mb is not None:
        eval_dry_run(args.eval_dry_run_mb)
        return
    k, latency = args.samples, args.latency

    with tempfile.TemporaryDirectory() as tmp, DeepSeekServer(latency=latency) as server:
        settings: Settings = load_settings(
            base_url=server.url,
            api_key="sk-bench-0000000000000000",
            api_flavor="deepseek",
            cache_enabled=False,
            ledger_enabled=False,
            data_dir=Path(tmp),
        )
        calls = CallCount()

        def distinct(body: dict[str, Any]) -> Reply:
            return Reply(f"\\boxed{{{calls.next()}}}", reasoning="thinking " * 50)

        def agreeing_then_slow(body: dict[str, Any]) -> Reply:
            n = calls.next() % k
            if 0 < n <= k // 2 + 1:  # a majority answers at the base latency
                return Reply("\\boxed{42}", reasoning="thinking " * 50)
            return Reply("\\boxed{41}", reasoning="thinking " * 50, delay=3 * latency)

        def solve(samples: int) -> Callable[[], Any]:
            return lambda: solve_math("What is 6*7?", samples=samples, settings=settings)

        def sequential() -> None:
            for _ in range(k):
                solve_math("What is 6*7?", samples=1, settings=settings)

        server.responder = distinct
        one = timed(solve(1), args.repeats)
        parallel = timed(solve(k), args.repeats)
        loop = timed(sequential, args.repeats)
        calls.reset()
        server.responder = agreeing_then_slow
        check = solve_math("What is 6*7?", samples=k, settings=settings)
        calls.reset()
        early = timed(solve(k), args.repeats)
        slow = 4 * latency

    print(f"math self-consistency, latency {latency:.2f}s per request, k={k}")
    print(f"{'case':<28}{'wall s':>8}{'ratio to 1':>12}")
    rows = [
        ("1 sample", one),
        (f"{k} samples, parallel", parallel),
        (f"{k} samples, sequential", loop),
        (f"{k} samples, early stop", early),
    ]
    for name, value in rows:
        print(f"{name:<28}{value:>8.3f}{value / one:>12.2f}")
    print(
        f"early stop: {check.votes} of {check.voters} agreed, stopped_early={check.stopped_early}; "
        f"without it the slow samples would take {slow:.2f}s"
    )


if __name__ == "__main__":
    main()

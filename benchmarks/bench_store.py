"""A shared store: 8 processes reviewing the same repository at once, paid once.

    python benchmarks/bench_store.py [--processes 8] [--files 200] [--latency 1]

Against the DeepSeek-protocol test server (a subprocess, 127.0.0.1, its request log holds each
request's messages) at ``--latency`` seconds per answer, ``--processes`` copies of
`assistants review` of the same ``--files``-file repository start together:

- separate: each process with its own data dir (no sharing: what CI runners did);
- sqlite: one data dir on this machine (the default SQLite files, shared by the processes);
- postgresql: one PostgreSQL database (a server started from the installed binaries, as the
  tests do), ASSISTANTS_STORE_URL.

For each: requests sent, distinct requests, their ratio (goal: <= 1.05), wall time. Then the
latency a store adds to one request (a cache miss: look up, take the lease, store the answer,
write the ledger row), in-process, SQLite against the local PostgreSQL.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "support"))

from bench_review import Server, env_for, real_repo  # noqa: E402
from postgres_server import PostgresServer, find_bindir  # noqa: E402


def together(n: int, repo: Path, envs: list[dict[str, str]]) -> tuple[float, list[int]]:
    """``n`` reviews of ``repo`` started at once; wall time and exit codes."""
    exe = Path(sys.executable).with_name("assistants")
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [str(exe), "review", str(repo), "--format", "json", "-j", "8"],
            env=envs[i],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    codes = []
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode not in (0, 1) or "warning" in err:
            print(err[-2000:], file=sys.stderr)
        codes.append(proc.returncode)
    return time.perf_counter() - start, codes


def count(server: Server, since: int) -> tuple[int, int]:
    rows = server.rows()[since:]
    keys = {hashlib.sha256(json.dumps(r["messages"]).encode()).hexdigest() for r in rows}
    return len(rows), len(keys)


def per_request(url: str, n: int = 200) -> float:
    """Seconds one cache miss spends in the store: get, claim, put (ends the lease), and
    the ledger row."""
    from assistants.llm.store import ResponseCache, UsageLedger

    cache, ledger = ResponseCache(url), UsageLedger(url)
    cache.get("warm-up")
    ledger.rows()
    times = []
    reply = {"content": "x" * 2000, "usage": {}}
    for i in range(n):
        key = f"{time.time_ns()}-{i}"
        start = time.perf_counter()
        cache.get(key)
        cache.claim(key, "bench", 60)
        cache.put(key, "m", reply, owner="bench")
        ledger.record(
            task="review",
            profile="coder",
            model="m",
            cache_hit_tokens=1,
            cache_miss_tokens=2,
            output_tokens=3,
            reasoning_tokens=0,
            latency_s=1.0,
            cost_usd=0.001,
            peak=0,
            cached=0,
            attempts=1,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--lines", type=int, default=47_600, help="lines in all the files")
    parser.add_argument("--latency", type=float, default=1.0)
    args = parser.parse_args()
    bindir = find_bindir()
    if bindir is None:
        sys.exit("PostgreSQL binaries (initdb) not found: install the postgresql package")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        repo = work / "repo"
        lines = real_repo(repo, args.files, args.lines)
        server = Server(args.latency, work, bodies=True)
        pg = PostgresServer(bindir).init().start()
        try:
            url = pg.fresh_url()
            rows = []
            modes = {
                "separate": [env_for(work, server.url, f"sep{i}") for i in range(args.processes)],
                "sqlite": [env_for(work, server.url, "shared")] * args.processes,
                "postgresql": [
                    {**env_for(work, server.url, f"pg{i}"), "ASSISTANTS_STORE_URL": url}
                    for i in range(args.processes)
                ],
            }
            for mode, envs in modes.items():
                mark = server.mark()
                wall, codes = together(args.processes, repo, envs)
                sent, distinct = count(server, mark)
                rows.append((mode, sent, distinct, wall, codes))
            local = per_request(f"sqlite:///{work / 'bench.sqlite3'}")
            shared = per_request(pg.fresh_url())
        finally:
            server.close()
            pg.stop()
            pg.remove()
    print(
        f"{args.processes} processes x `assistants review` of {args.files} files "
        f"({lines:,} lines, cut from this project's sources) "
        f"at {args.latency:g} s latency"
    )
    print(f"{'store':<12}{'sent':>6}{'distinct':>10}{'ratio':>8}{'wall s':>9}  exit codes")
    for mode, sent, distinct, wall, codes in rows:
        ratio = sent / distinct if distinct else float("nan")
        print(f"{mode:<12}{sent:>6}{distinct:>10}{ratio:>8.2f}{wall:>9.1f}  {codes}")
    print(
        f"store time per request (a miss: get + lease + put + ledger row), median of 200: "
        f"SQLite {local * 1000:.1f} ms, PostgreSQL (local) {shared * 1000:.1f} ms "
        f"({(shared - local) * 1000:+.1f} ms)"
    )


if __name__ == "__main__":
    os.environ.pop("ASSISTANTS_STORE_URL", None)
    main()

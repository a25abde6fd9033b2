"""Foundation benchmarks: CLI start-up and offline token counting speed.

    python benchmarks/bench_foundation.py [--runs 15]

Prints the median wall time of `assistants --help` and `assistants --version` against
`python -c pass` (the interpreter's own floor), and the DeepSeek tokenizer's speed on 1 MB of
Python source (the tokenizer load time reported apart).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def median_run(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_mb_of_source() -> str:
    files = sorted((ROOT / "assistants").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in files)
    text = corpus
    while len(text.encode()) < 1_000_000:
        text += "\n" + corpus
    return text.encode()[:1_000_000].decode(errors="ignore")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    exe = shutil.which("assistants")
    cli = [exe] if exe else [sys.executable, "-m", "assistants"]

    base = median_run([sys.executable, "-c", "pass"], args.runs)
    help_t = median_run([*cli, "--help"], args.runs)
    version_t = median_run([*cli, "--version"], args.runs)
    print(f"start-up (median of {args.runs} runs)")
    print(f"  python -c pass        {base * 1000:7.1f} ms")
    print(f"  assistants --help     {help_t * 1000:7.1f} ms   ({help_t / base:.1f}x python)")
    print(f"  assistants --version  {version_t * 1000:7.1f} ms   ({version_t / base:.1f}x)")

    from assistants.llm.tokens import _encoder, count_tokens

    start = time.perf_counter()
    _encoder()
    load = time.perf_counter() - start
    text = one_mb_of_source()
    start = time.perf_counter()
    tokens = count_tokens(text)
    elapsed = time.perf_counter() - start
    print("tokenizer (DeepSeek tokenizer.json via `tokenizers`)")
    print(f"  load                  {load * 1000:7.1f} ms")
    print(
        f"  1 MB of source        {elapsed * 1000:7.1f} ms   {tokens:,} tokens, "
        f"{1 / elapsed:.1f} MB/s, {len(text) / tokens:.2f} chars/token"
    )


if __name__ == "__main__":
    main()

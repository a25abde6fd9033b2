"""Secret-redaction benchmark: false positives on real code, recall on a planted corpus, speed.

    python benchmarks/bench_secrets.py [--cache DIR] [--baseline REF] [--list]

1. ordinary code: the source distributions of three well-known projects (pinned; fetched
   once with `pip download --no-deps --no-binary :all:` into the cache folder) go through
   redact() file by file (.py .cfg .toml .yaml .yml .ini .sh); printed: lines redacted per
   10,000 lines per project and overall (goal <= 2), and every redaction as kind + file:line
   (never the value) so a person can judge them;
2. recall: the planted corpus of tests/support/secrets_corpus.py (every form, goal 100%);
3. speed: lines per second over the same files; with --baseline REF also for the redact() of
   that git revision (e.g. --baseline main), to compare.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT))

from secrets_corpus import FORMS, SECRETS  # noqa: E402

from assistants.review.secrets import redact  # noqa: E402

PROJECTS = ("requests==2.32.3", "flask==3.0.3", "click==8.1.7")
SUFFIXES = {".py", ".cfg", ".toml", ".yaml", ".yml", ".ini", ".sh"}
MARK = re.compile(r"\[REDACTED:([a-z0-9-]+)\]")


def fetch(cache: Path) -> dict[str, Path]:
    """project -> its extracted source tree (downloaded once)."""
    cache.mkdir(parents=True, exist_ok=True)
    trees = {}
    for spec in PROJECTS:
        name, version = spec.split("==")
        tree = cache / f"{name}-{version}"
        if not tree.is_dir():
            if not list(cache.glob(f"{name}-{version}.tar.gz")):
                subprocess.run(
                    [
                        *(sys.executable, "-m", "pip", "download", "-q", "--no-deps"),
                        *("--no-binary", ":all:", "-d", str(cache), spec),
                    ],
                    check=True,
                )
            (archive,) = cache.glob(f"{name}-{version}.tar.gz")
            with tarfile.open(archive) as tar:
                tar.extractall(cache, filter="data")
        trees[spec] = tree
    return trees


def sources(tree: Path) -> list[tuple[str, str]]:
    return [
        (p.relative_to(tree).as_posix(), p.read_text("utf-8", "replace"))
        for p in sorted(tree.rglob("*"))
        if p.is_file() and p.suffix in SUFFIXES
    ]


def baseline(ref: str) -> Callable[..., Any]:
    """redact() as it was at git revision ``ref``."""
    code = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:assistants/review/secrets.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("baseline_secrets")
    sys.modules[module.__name__] = module  # dataclasses look the module up
    exec(compile(code, f"{ref}:secrets.py", "exec"), module.__dict__)
    return module.redact  # type: ignore[no-any-return]


def speed(fn: Callable[..., Any], files: list[tuple[str, str]], with_path: bool) -> float:
    lines = sum(text.count("\n") + 1 for _, text in files)
    start = time.perf_counter()
    for path, text in files:
        fn(text, path) if with_path else fn(text)
    return lines / (time.perf_counter() - start)


def recall() -> tuple[int, int, list[str]]:
    planted = [(form, path, text, secret) for form, c in FORMS.items() for path, text, secret in c]
    code = "\n".join(f'{k.upper()}_TOKEN = "{v}"' for k, v in SECRETS.items())
    planted += [
        ("code", f"settings_{k}.py", f'x = 1\n{k}_secret = "{v}"\n', v) for k, v in SECRETS.items()
    ]
    missed = [
        f"{form}: {path}"
        for form, path, text, secret in planted
        if secret in redact(text, path).text
    ]
    missed += [
        f"code: {v[:4]}..." for v in SECRETS.values() if v in redact(code, "settings.py").text
    ]
    return len(planted) + len(SECRETS) - len(missed), len(planted) + len(SECRETS), missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "assistants-bench-secrets"
    )
    parser.add_argument("--baseline", help="also time redact() of this git revision")
    parser.add_argument(
        "--list", action="store_true", help="list every redaction (kind + file:line)"
    )
    args = parser.parse_args()

    redact("warm up: password = 'x'")  # loads detect-secrets once, outside the timings
    trees = fetch(args.cache)
    total_lines = total_hits = 0
    everything: list[tuple[str, str]] = []
    print("1. ordinary code: lines redacted per 10,000 lines (goal <= 2)")
    for spec, tree in trees.items():
        files = sources(tree)
        everything += [(f"{tree.name}/{p}", t) for p, t in files]
        lines = hits = 0
        found = []
        for path, text in files:
            out = redact(text, path).text.split("\n")
            lines += len(text.splitlines())
            for n, line in enumerate(out, 1):
                kinds = MARK.findall(line)
                if kinds:
                    hits += 1
                    found.append(f"     {','.join(sorted(set(kinds)))}  {tree.name}/{path}:{n}")
        total_lines += lines
        total_hits += hits
        print(f"   {spec:20} {lines:7,} lines  {hits:3} redacted  {hits / lines * 1e4:5.2f} / 10k")
        if found:
            print("\n".join(found))
    rate = total_hits / total_lines * 1e4
    print(
        f"   {'overall':20} {total_lines:7,} lines  {total_hits:3} redacted  {rate:5.2f} / 10k  "
        f"({'ok' if rate <= 2 else 'ABOVE GOAL'})"
    )

    got, planted, missed = recall()
    print(f"2. recall on the planted corpus: {got}/{planted} = {got / planted:.0%} (goal 100%)")
    for line in missed:
        print(f"   missed {line}")

    print("3. speed (lines/second, best of 3)")
    now = max(speed(redact, everything, True) for _ in range(3))
    print(f"   redact() now          {now:10,.0f}")
    if args.baseline:
        old = baseline(args.baseline)
        before = max(speed(old, everything, False) for _ in range(3))
        print(f"   redact() at {args.baseline:10} {before:10,.0f}   (now x{now / before:.1f})")


if __name__ == "__main__":
    main()

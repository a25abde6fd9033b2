"""Rebuild the problem sets shipped in assistants/data from their pinned sources.

    python scripts/build_math_sets.py --gsm8k path/to/test.jsonl          # write
    python scripts/build_math_sets.py --gsm8k path/to/test.jsonl --check  # compare, exit 1

gsm8k-50 (assistants/data/gsm8k_sample.jsonl): the first 50 lines of the GSM8K test split,
``grade_school_math/data/test.jsonl`` of the repository openai/grade-school-math at the
commit pinned below (MIT License, Copyright (c) 2021 OpenAI; licence and attribution in
assistants/data/GSM8K-LICENSE and GSM8K-README.md). ``question`` and ``answer`` are kept
unchanged; an ``id`` (``gsm8k-test-NNNN``, the 1-based line number) is added first.

The source file is not on a package registry, so it is passed in: get it from a clone of the
repository at the pinned commit. No MATH or MATH-500 subset is shipped: no package on PyPI or
npm carries those problems (checked 2026-11: the evaluation harnesses on PyPI download them
from a dataset hub at run time), so the loader reads them from a file the user provides.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "assistants" / "data"

GSM8K_SOURCE = {
    "repository": "openai/grade-school-math",
    "commit": "b52325ad96ea38979fdc222e881ff5d105f95295",
    "path": "grade_school_math/data/test.jsonl",
    "licence": "MIT",
}
GSM8K_COUNT = 50
GSM8K_TARGET = DATA / "gsm8k_sample.jsonl"


def gsm8k_subset(source_lines: Iterable[str], count: int = GSM8K_COUNT) -> str:
    """The shipped JSONL text: the first ``count`` problems of the source, each with an id."""
    out = []
    for number, line in enumerate(source_lines, 1):
        if len(out) == count:
            break
        row = json.loads(line)
        item = {
            "id": f"gsm8k-test-{number:04d}",
            "question": row["question"],
            "answer": row["answer"],
        }
        out.append(json.dumps(item, ensure_ascii=False) + "\n")
    if len(out) < count:
        raise SystemExit(f"the source has only {len(out)} problems (need {count})")
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--gsm8k",
        type=Path,
        required=True,
        help=f"{GSM8K_SOURCE['path']} of {GSM8K_SOURCE['repository']} "
        f"at {GSM8K_SOURCE['commit'][:12]}",
    )
    parser.add_argument("--check", action="store_true", help="compare with the shipped file")
    args = parser.parse_args(argv)
    with args.gsm8k.open(encoding="utf-8") as source:
        text = gsm8k_subset(source)
    if args.check:
        same = GSM8K_TARGET.read_text(encoding="utf-8") == text
        print(f"{GSM8K_TARGET.name}: {'identical' if same else 'DIFFERS'}")
        return 0 if same else 1
    GSM8K_TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {GSM8K_TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

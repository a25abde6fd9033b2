"""House rules by path: what two ways of sending a file's rules cost in input tokens.

    python benchmarks/bench_house_rules.py

Offline (DeepSeek's tokenizer, no server). The files of one request (whole small modules, as
the reviewer numbers them) carry rules from ``review.paths``:

- grouped (what we send): each rule's text once per request, in a numbered list before the
  blocks; a FILE marker names its rules (``rules=1,3``);
- per file: each file's rule texts on lines right before its FILE marker.

Scenarios: one matching file in a request of 12; 4 of 12 (one rule); 8 of 12 under two
rules each; every file of 12 under one rule. Prints the rule tokens added by each way.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistants.llm.tokens import count_tokens  # noqa: E402
from assistants.prompts import render  # noqa: E402
from assistants.review.house import PathRules  # noqa: E402
from assistants.review.units import BYTE_BOUND, Doc, doc_units  # noqa: E402

RULES = {
    "migrations/**": "Check that every migration is reversible: a down step exists and "
    "restores the previous schema; no data is dropped without a backup step.",
    "api/**": "Public endpoints keep backwards compatibility: no removed fields, no changed "
    "types, new fields optional. Every handler validates its input.",
    "**/*_test.py": "Tests must not sleep or use the network.",
}


def module(i: int) -> str:
    lines = [f'"""Module {i}."""', "", "import json", ""]
    for j in range(4):
        lines += [f"def handler_{i}_{j}(payload):", "    data = json.loads(payload)"]
        lines += [f"    return data.get('k{j}')", ""]
    return "\n".join(lines)


def request_tokens(paths: list[str], way: str) -> int:
    """Input tokens of the user message for ``paths``, rules sent ``way``: "none",
    "grouped" or "per-file"."""
    rules = PathRules(RULES if way != "none" else {})
    grouped = way == "grouped"
    units = []
    for i, path in enumerate(paths):
        doc = Doc.of(path, "python", module(i))
        doc.rules = rules.match(path) if grouped else ()
        units += doc_units(doc, BYTE_BOUND, 10**9)
    used = {n for u in units for n in u.rules}
    text = render(
        "review/request.j2",
        prompts_dir=None,
        mode="path",
        units=[u.context() for u in units],
        rules=rules.used(used) if grouped else [],
    )
    if way == "per-file":  # the other way: the rule texts right before each FILE marker
        for path, unit in zip(paths, units, strict=True):
            mine = [r for r in rules.rules if r.number in rules.match(path)]
            if mine:
                note = "".join(f"Rule for the next file ({r.glob}): {r.text}\n" for r in mine)
                text = text.replace(unit.block, note + unit.block)
    return count_tokens(text)


def main() -> None:
    plain = [f"src/mod_{i:02d}.py" for i in range(12)]
    scenarios = {
        "1 of 12 files ruled": ["migrations/0001_init.py", *plain[1:]],
        "4 of 12, one rule": [f"migrations/{i:04d}_step.py" for i in range(4)] + plain[4:],
        "8 of 12, two rules each": [f"api/v{i}_test.py" for i in range(8)] + plain[8:],
        "12 of 12, one rule": [f"migrations/{i:04d}_step.py" for i in range(12)],
    }
    base = request_tokens(plain, "none")
    print(f"request of 12 files, no rules: {base:,} tokens; rule tokens added:")
    print(f"{'scenario':<26} {'grouped (ours)':>15} {'per file':>10}")
    for name, paths in scenarios.items():
        unruled = request_tokens(paths, "none")
        grouped = request_tokens(paths, "grouped") - unruled
        per_file = request_tokens(paths, "per-file") - unruled
        print(f"{name:<26} {grouped:>+15,} {per_file:>+10,}")


if __name__ == "__main__":
    main()

"""The shipped problem sets: they load, carry their licence, and the build script re-creates
them byte for byte from a source file in the upstream layout."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from assistants import errors
from assistants.math.eval import describe_layout, load_problems
from assistants.math.sets import DATA, SETS, set_file

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_math_sets.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_math_sets", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(SETS))
def test_shipped_sets_load_with_their_licence(name: str) -> None:
    layouts: Counter[str] = Counter()
    problems = load_problems(set_file(name), layouts=layouts)
    assert len(problems) == 50
    assert describe_layout(layouts) == "gsm8k"
    assert (DATA / "GSM8K-LICENSE").read_text().startswith("MIT License")
    assert "openai/grade-school-math" in (DATA / "GSM8K-README.md").read_text()


def test_unknown_set_is_an_input_error() -> None:
    with pytest.raises(errors.InputError, match="no shipped set") as caught:
        set_file("math-500")
    assert caught.value.hint is not None and "gsm8k-50" in caught.value.hint


def test_build_script_recreates_the_shipped_gsm8k_set(tmp_path: Path) -> None:
    shipped = (DATA / "gsm8k_sample.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in shipped.splitlines()]
    # the upstream file: question and answer only, ASCII-escaped, more lines after ours
    upstream = tmp_path / "test.jsonl"
    extra = [{"question": "later?", "answer": "#### 1"}] * 3
    upstream.write_text(
        "".join(
            json.dumps({"question": r["question"], "answer": r["answer"]}) + "\n"
            for r in [*rows, *extra]
        ),
        encoding="utf-8",
    )
    build = _script()
    with upstream.open(encoding="utf-8") as source:
        assert build.gsm8k_subset(source) == shipped
    assert build.main(["--gsm8k", str(upstream), "--check"]) == 0
    upstream.write_text(upstream.read_text().replace("Janet", "Jane", 1))
    assert build.main(["--gsm8k", str(upstream), "--check"]) == 1

"""Scripted math eval runs over the test server: a problems file of ``n`` sums, and a results
file written by the real ``eval_math`` where the model answers right exactly on the items
chosen (wrong on the others)."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from deepseek_server import DeepSeekServer, Reply

_PROBLEM = re.compile(r"q(\d+): what is (\d+) \+ 1\?")


def write_problems(path: Path, n: int) -> Path:
    """``n`` problems ``qI: what is I + 1?`` (answer I + 1), ids ``q0`` ... ``q{n-1}``."""
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            row = {"id": f"q{i}", "problem": f"q{i}: what is {i} + 1?", "answer": str(i + 1)}
            f.write(json.dumps(row) + "\n")
    return path


def answer_right_on(server: DeepSeekServer, right: Collection[int]) -> None:
    """The server answers problem ``qI`` right (``\\boxed{I+1}``) when ``I`` is in ``right``,
    else wrong (``\\boxed{I+2}``)."""

    def respond(body: dict[str, Any]) -> Reply:
        found = _PROBLEM.search(str(body["messages"][-1]["content"]))
        assert found is not None, "not a problem of write_problems"
        i = int(found.group(1))
        answer = i + 1 if i in right else i + 2
        return Reply(f"So the answer is \\boxed{{{answer}}}.", reasoning="adding")

    server.responder = respond


def scripted_run(
    server: DeepSeekServer, problems: Path, output: Path, right: Collection[int]
) -> Path:
    """A results file of ``eval_math`` over ``problems`` where exactly ``right`` are right
    (the response cache off, so that each run asks the server)."""
    from assistants.config import load_settings
    from assistants.math.eval import eval_math

    answer_right_on(server, right)
    eval_math(problems, output=output, settings=load_settings(cache_enabled=False))
    return output

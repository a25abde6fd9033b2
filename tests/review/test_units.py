"""Request building: numbered units, large files split on definitions, diffs split by hunks,
packing that keeps requests stable when one file changes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fakes import ScriptedChatModel
from repos import git, make_repo
from review_samples import reply, review_settings

from assistants.config import load_settings
from assistants.review.run import review_diff, review_path


def test_large_file_split_on_definitions_and_nothing_dropped(tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    funcs = [
        f"def handler_{i}(request):\n"
        + "".join(f"    step_{j} = request.get('field_{j}', {i * j})\n" for j in range(25))
        + "    return step_0\n"
        for i in range(40)
    ]
    (root / "big.py").write_text("\n\n".join(funcs), encoding="utf-8")
    lines = (root / "big.py").read_text().splitlines()
    seen: list[str] = []

    def answer(messages: list) -> str:
        seen.append(messages[-1].content)
        return reply()

    model = ScriptedChatModel(replies=[answer] * 50)
    cfg = review_settings(review={"request_token_budget": 3000})
    plan = review_path(root, settings=cfg, dry_run=True)
    assert plan.plan is not None and len(plan.plan.requests) > 3
    assert all(r.input_tokens < 3000 + 200 for r in plan.plan.requests)
    review = review_path(root, settings=cfg, model=model)
    # every part sent once (two small parts may share a request)
    assert review.files[0].parts == sum(t.count("<<<FILE ") for t in seen) > 3
    numbered = sorted(
        int(m.group(1)) for text in seen for m in re.finditer(r"^(\d+)\t", text, re.M)
    )
    # every line sent exactly once: numbered, or empty when blank
    assert numbered == [n for n, line in enumerate(lines, 1) if line.strip()]
    bodies = [
        body
        for text in seen
        for body in re.findall(r"^<<<FILE .*?>>>\n(.*?)\n<<<END FILE", text, re.M | re.S)
    ]
    assert sum(len(body.split("\n")) for body in bodies) == len(lines)
    for text in seen:  # each part starts on a definition (or the file's first line)
        first = re.search(r"^(\d+)\t(.*)$", text, re.M)
        assert first and (first.group(2).startswith("def handler_") or first.group(1) == "1")


def test_large_diff_split_by_hunks_keeps_every_change(tmp_path: Path) -> None:

    repo = make_repo(tmp_path / "repo")
    funcs = [f"def f{i}(x):\n    y = x + {i}\n    return y\n\n\n" for i in range(300)]
    (repo / "m.py").write_text("".join(funcs), encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    text = "".join(funcs)
    for i in range(0, 300, 10):
        text = text.replace(f"    y = x + {i}\n", f"    y = x - {i}\n")
    (repo / "m.py").write_text(text, encoding="utf-8")
    changed = {n for n, line in enumerate(text.splitlines(), 1) if " - " in line}
    seen: list[str] = []

    def answer(messages: list) -> str:
        seen.append(messages[-1].content)
        return reply()

    model = ScriptedChatModel(replies=[answer], repeat_last=True)
    cfg = review_settings(review={"request_token_budget": 1500})
    review = review_diff(repo=repo, settings=cfg, model=model)
    assert review.files[0].parts == len(seen) > 1
    sent = {int(m.group(1)) for t in seen for m in re.finditer(r"^(\d+)\+\t", t, re.M)}
    assert sent == changed and review.files[0].changed_lines == 30


@pytest.mark.parametrize(("budget", "edited"), [(2500, 0), (2500, 33), (3300, 0), (3300, 17)])
def test_editing_one_file_resends_only_nearby_requests(
    tmp_path: Path, budget: int, edited: int
) -> None:
    root = tmp_path / "fifty"
    root.mkdir()

    def module(i: int, extra: int = 0) -> str:
        funcs = [f"def handler_{i}_{j}(p):\n    return p.get('f{j}', {i * j})\n" for j in range(8)]
        return "\n\n".join(funcs + ["def extra(x):\n    return x + 1\n"] * extra)

    for i in range(50):
        (root / f"mod_{i:02d}.py").write_text(module(i), encoding="utf-8")
    cfg = load_settings(review={"request_token_budget": budget})  # response cache on
    first = ScriptedChatModel(replies=[reply()], repeat_last=True)
    review_path(root, settings=cfg, model=first)
    assert len(first.calls) >= 5
    # one file grows fivefold: greedy packing would move every later boundary; ours re-sends
    # the request that holds it, the one it spills into, and at most two around them
    (root / f"mod_{edited:02d}.py").write_text(module(edited, extra=30), encoding="utf-8")
    second = ScriptedChatModel(replies=[reply()], repeat_last=True)
    again = review_path(root, settings=cfg, model=second)
    assert len(second.calls) <= 4
    assert again.usage.cached_requests >= len(first.calls) - 4


def test_requests_are_byte_identical_across_runs(project: Path) -> None:
    first = ScriptedChatModel(replies=[reply()])
    second = ScriptedChatModel(replies=[reply()])
    review_path(project, settings=review_settings(), model=first)
    review_path(project, settings=review_settings(), model=second)
    a = [m.content for m in first.calls[0]["messages"]]
    b = [m.content for m in second.calls[0]["messages"]]
    assert a == b
    assert first.calls[0]["messages"][0].type == "system"  # static part first

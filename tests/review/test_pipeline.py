"""The review pipeline: requests leave while later files are still being read, progress
counts files, every line the model sees carries its number, dry-run counts are the sent
requests' counts, and an unchanged re-run is served from the caches without loading the
LangChain stack or the tokenizer."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from deepseek_server import DeepSeekServer, Reply
from fakes import ScriptedChatModel
from repos import git, make_repo
from review_samples import reply, review_settings

from assistants.llm.tokens import count_message_tokens
from assistants.review import files as files_module
from assistants.review.run import review_diff, review_path

BREAKERS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def module(i: int) -> str:
    return "".join(
        f"def handler_{i}_{j}(payload):\n    return payload.get('field_{j}', {i * j})\n\n"
        for j in range(6)
    )


def file_blocks(text: str) -> list[str]:
    """The bodies between the markers of a request's user message."""
    return re.findall(r"<<<FILE (\w+) [^\n]*>>>\n(.*?)\n<<<END FILE \1>>>", text, re.S)


def test_first_request_leaves_before_the_last_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(40):
        (root / f"mod_{i:02d}.py").write_text(module(i), encoding="utf-8")
    asked = threading.Event()
    waited: list[bool] = []
    real_read = files_module.FileStream._read

    def read(self: files_module.FileStream, rel: str):  # type: ignore[no-untyped-def]
        if rel == "mod_39.py":  # the last file waits until the model has been asked
            waited.append(asked.wait(timeout=60))
        return real_read(self, rel)

    monkeypatch.setattr(files_module.FileStream, "_read", read)

    def answer(messages: list) -> str:
        asked.set()
        return reply()

    model = ScriptedChatModel(replies=[answer], repeat_last=True)
    seen: list[tuple[int, int]] = []
    cfg = review_settings(review={"request_token_budget": 2500})
    review = review_path(root, settings=cfg, model=model, progress=lambda d, t: seen.append((d, t)))
    assert waited == [True]  # a request was sent while the last file was still unread
    assert len(model.calls) > 3 and len(review.files) == 40
    # progress counts files, as they finish
    assert seen[-1] == (40, 40) and all(t == 40 for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_progress_counts_skipped_files_as_settled(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    root.mkdir()
    (root / "a.py").write_text(module(1), encoding="utf-8")
    (root / "b.py").write_text("", encoding="utf-8")  # empty: skipped while reading
    (root / "c.py").write_text(module(2), encoding="utf-8")
    seen: list[tuple[int, int]] = []
    model = ScriptedChatModel(replies=[reply()], repeat_last=True)
    review_path(root, settings=review_settings(), model=model, progress=lambda *a: seen.append(a))
    assert seen[-1] == (3, 3)


def test_every_line_in_a_file_block_starts_with_its_number(tmp_path: Path) -> None:
    root = tmp_path / "breakers"
    root.mkdir()
    lines = [f"x_{i} = 'a{c}b'  # {c}13\t1234 not a line" for i, c in enumerate(BREAKERS)]
    (root / "odd.py").write_text("\n".join(lines) + "\nok = 1\n", encoding="utf-8")
    model = ScriptedChatModel(replies=[reply()])
    review_path(root, settings=review_settings(), model=model)
    user = model.calls[0]["messages"][-1].content
    ((body,),) = [[b for _, b in file_blocks(user)]]
    shown = body.splitlines()
    assert len(shown) == len(lines) + 1
    for n, line in enumerate(shown, 1):
        assert line.startswith(f"{n}\t")
    assert "\\r" in shown[0] and "\\x0b" in shown[1] and "\\u2028" in shown[7]
    assert "\\x85" in shown[6] and "\\u2029" in shown[8]


def test_diff_lines_with_line_breakers_keep_their_marks(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "m.py").write_text("a = 1\nb = 'x\u2028y'\nc = 3\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    (repo / "m.py").write_text("a = 1\nb = 'x\ry\x0cz'\nc = 3\n", encoding="utf-8")
    model = ScriptedChatModel(replies=[reply()])
    review_diff(repo=repo, settings=review_settings(), model=model)
    user = model.calls[0]["messages"][-1].content
    for _, body in file_blocks(user):
        for line in body.splitlines():
            assert re.match(r"(\d+[+ ]\t|-\t|@@ lines \d+-\d+ @@$)", line), line


def test_dry_run_counts_are_those_of_the_requests_sent(tmp_path: Path) -> None:
    root = tmp_path / "plan"
    root.mkdir()
    for i in range(12):
        (root / f"m{i:02d}.py").write_text(module(i) * (1 + i % 3), encoding="utf-8")
    big = "".join(
        f"def f{i}(x):\n" + "".join(f"    y{j} = x * {j}  # {i}\n" for j in range(30)) + "\n"
        for i in range(30)
    )
    (root / "zz_big.py").write_text(big, encoding="utf-8")
    cfg = review_settings(review={"request_token_budget": 4000})
    plan = review_path(root, settings=cfg, dry_run=True).plan
    model = ScriptedChatModel(replies=[reply()], repeat_last=True)
    review_path(root, settings=cfg, model=model)
    sent = [
        count_message_tokens((m.type, str(m.content)) for m in call["messages"])
        for call in model.calls
    ]
    assert plan is not None and len(plan.requests) == len(sent) > 3
    assert sorted(r.input_tokens for r in plan.requests) == sorted(sent)


RERUN = """
import json, sys
from assistants.review.run import review_path
from assistants.llm import tokens
review = review_path(sys.argv[1])
print(json.dumps({
    "requests": review.usage.requests,
    "cached": review.usage.cached_requests,
    "files": len(review.files),
    "langchain": sorted(m for m in sys.modules if m.startswith("langchain")),
    "tokenizer_loaded": tokens._tokenizer.cache_info().currsize,
}))
"""


def test_unchanged_rerun_loads_neither_langchain_nor_the_tokenizer(
    tmp_path: Path, server: DeepSeekServer
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    for i in range(6):
        (root / f"m{i}.py").write_text(module(i), encoding="utf-8")
    server.responder = lambda body: Reply(json.dumps({"findings": []}))

    def review() -> dict:
        out = subprocess.run(
            [sys.executable, "-c", RERUN, str(root)], capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    first = review()
    assert first["requests"] >= 1 and "langchain_deepseek" in first["langchain"]
    sent = len(server.chat_requests)
    again = review()
    assert len(server.chat_requests) == sent  # zero requests
    assert again["cached"] == first["requests"] and again["files"] == 6
    assert again["langchain"] == [] and again["tokenizer_loaded"] == 0


SMALL = """
import json, sys
from pathlib import Path
from assistants.llm import tokens
from assistants.review.run import review_path
Path(sys.argv[1]).write_text(sys.argv[2])
review = review_path(sys.argv[1])
print(json.dumps({"requests": review.usage.requests, "tokenizer_loaded":
    tokens._tokenizer.cache_info().currsize, "langchain": "langchain_deepseek" in sys.modules}))
"""


def test_a_small_review_of_new_text_sends_without_loading_the_tokenizer(
    tmp_path: Path, server: DeepSeekServer
) -> None:
    server.responder = lambda body: Reply(json.dumps({"findings": []}))
    target = tmp_path / "one.py"

    def review(text: str) -> dict:
        out = subprocess.run(
            [sys.executable, "-c", SMALL, str(target), text],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    review(module(1))  # the first run ever counts the fixed system prompt (then cached)
    second = review(module(2))  # new text: it is sent, and fits the budget by its bytes
    assert second == {"requests": 1, "tokenizer_loaded": 0, "langchain": True}
    (user,) = [r.body["messages"][-1]["content"] for r in server.chat_requests[-1:]]
    assert "handler_2_0" in user

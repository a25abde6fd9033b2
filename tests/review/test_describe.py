"""`assistants review describe`: a pull-request description from a diff, with the review's
packing, redaction, cache and ledger; big diffs are described in parts and combined."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from deepseek_server import DeepSeekServer, Reply
from fakes import ScriptedChatModel
from repos import git, make_repo, write
from review_replies import blocks
from review_samples import DEFS_PY, review_settings
from secrets_corpus import SECRETS

from assistants import describe_diff
from assistants.cli import cli
from assistants.config import load_settings
from assistants.errors import InputError, StructuredOutputError
from assistants.review.models import PullRequestDescription

OLD_APP = "def total(xs):\n    return sum(xs)\n\n\ndef mean(xs):\n    return total(xs) / len(xs)\n"
NEW_APP = (
    "def total(xs):\n    return sum(xs)\n\n\ndef mean(xs):\n"
    "    if not xs:\n        return 0.0\n    return total(xs) / len(xs)\n"
)
HALF_DEFS = "\n".join(DEFS_PY.splitlines()[:70]) + "\n"  # two of them: over a 1,000-token budget
CONFIG = f'TOKEN = "{SECRETS["github"]}"\n'


def description(*files: tuple[str, str], title: str = "Guard mean against empty input") -> str:
    return json.dumps(
        {
            "title": title,
            "summary": "Makes mean() return 0.0 for an empty list instead of failing.",
            "walkthrough": [{"file": f, "change": c} for f, c in files],
            "risks": ["callers that relied on ZeroDivisionError"],
            "tests": ["mean([]) returns 0.0"],
        }
    )


def synthesis(title: str = "Rework the handlers") -> str:
    return json.dumps(
        {"title": title, "summary": "Both parts.", "risks": ["all handlers"], "tests": ["run it"]}
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    write(root / "stats.py", OLD_APP)
    write(root / "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    write(root / "stats.py", NEW_APP)
    write(root / "config.py", CONFIG)
    write(root / "logo.png", b"\x89PNG\r\n\x1a\n\x00\x01")
    git(root, "add", ".")
    monkeypatch.chdir(root)
    return root


def test_one_request_describes_a_small_diff(repo: Path) -> None:
    fake = ScriptedChatModel(
        replies=[description(("stats.py", "mean() handles []"), ("elsewhere.py", "invented"))]
    )
    result = describe_diff("HEAD", model=fake, settings=review_settings())
    assert len(fake.calls) == 1
    sent = "\n".join(str(m.content) for m in fake.calls[0]["messages"])
    assert SECRETS["github"] not in sent and "[REDACTED:" in sent
    assert "pull-request descriptions" in str(fake.calls[0]["messages"][0].content)
    assert result.title == "Guard mean against empty input"
    assert result.parts == 1
    rows = {r.path: (r.change, r.added, r.removed) for r in result.walkthrough}
    # counts from the diff: stats.py gains 2 lines and loses none; config.py is new
    assert rows == {"config.py": (None, 1, 0), "stats.py": ("mean() handles []", 2, 0)}
    assert result.unknown_files == 1  # the invented file is not reported
    assert [s.path for s in result.skipped] == ["logo.png"]
    assert result.secrets_redacted == 1
    assert result.usage.requests == 1

    md = result.to_markdown()
    assert md.startswith("## Guard mean against empty input\n")
    assert "| `stats.py` (+2 −0) | mean() handles [] |" in md
    assert "| `config.py` (+1 −0) | _(not described)_ |" in md
    assert "- callers that relied on ZeroDivisionError" in md
    assert result._repr_markdown_() == md
    again = PullRequestDescription.model_validate_json(result.render("json"))
    assert again == result


def test_a_big_diff_is_described_in_parts_and_combined(repo: Path) -> None:
    write(repo / "a_defs.py", HALF_DEFS)
    write(repo / "b_defs.py", HALF_DEFS.replace("return y", "return -y"))
    git(repo, "add", ".")
    settings = load_settings(review={"request_token_budget": 1001, "include": ["*_defs.py"]})

    def answer(messages: list[Any]) -> str:
        user = str(messages[-1].content)
        if "<<<PARTS" in user:
            return synthesis()
        (path,) = re.findall(r'<<<FILE \w+ path="([^"]+)"', user)
        return description((path, f"adds {path}"), title=f"Add {path}")

    fake = ScriptedChatModel(replies=[answer], repeat_last=True)
    result = describe_diff("HEAD", model=fake, settings=settings)
    assert len(fake.calls) == 3 and result.parts == 2
    reduce_user = str(fake.calls[-1]["messages"][-1].content)
    assert "Add a_defs.py" in reduce_user and "Add b_defs.py" in reduce_user
    assert "<<<FILE" not in reduce_user  # the parts' answers, not the code again
    assert result.title == "Rework the handlers"
    assert [(r.path, r.change) for r in result.walkthrough] == [
        ("a_defs.py", "adds a_defs.py"),
        ("b_defs.py", "adds b_defs.py"),
    ]
    assert result.risks == ["all handlers"]

    # deterministic requests: the unchanged re-run is served by the response cache
    again = describe_diff("HEAD", model=fake, settings=settings)
    assert len(fake.calls) == 3
    assert again.title == result.title and again.usage.cached_requests == 3


def test_an_off_schema_reply_is_an_error_not_a_description(repo: Path) -> None:
    fake = ScriptedChatModel(replies=['{"title": "x"}'], repeat_last=True)
    with pytest.raises(StructuredOutputError):
        describe_diff("HEAD", model=fake, settings=review_settings())
    assert len(fake.calls) == 2  # the answer and one repair round


def test_nothing_to_describe_is_an_input_error(repo: Path) -> None:
    git(repo, "commit", "-qm", "all of it")
    with pytest.raises(InputError, match="nothing to describe"):
        describe_diff("HEAD", settings=review_settings(), model=ScriptedChatModel(replies=[]))


def test_the_dry_run_needs_no_key_and_plans_the_combining_request(repo: Path) -> None:
    write(repo / "a_defs.py", HALF_DEFS)
    write(repo / "b_defs.py", HALF_DEFS)
    git(repo, "add", ".")
    small = describe_diff("HEAD", dry_run=True, include=["stats.py"], settings=review_settings())
    assert small.plan is not None and [r.files for r in small.plan.requests] == [["stats.py"]]
    big = describe_diff(
        "HEAD",
        dry_run=True,
        include=["*_defs.py"],
        settings=review_settings(review={"request_token_budget": 1001}),
    )
    assert big.plan is not None and big.parts == 2
    files = [r.files for r in big.plan.requests]
    assert files == [["a_defs.py"], ["b_defs.py"], ["(combines the 2 parts)"]]
    assert all(r.input_tokens > 0 for r in big.plan.requests)
    assert "(dry run)" in big.to_markdown() and "3 request(s)" in big.to_markdown()


# -- over HTTP, through the command line -------------------------------------------------
def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["review", "describe", *args], catch_exceptions=False)


def test_describe_over_http(server: DeepSeekServer, repo: Path, data_dir: Path) -> None:
    def responder(body: dict[str, Any]) -> Reply:
        paths = [p for p, _ in blocks(body)]
        return Reply(description(*((p, f"changes {p}") for p in paths)))

    server.responder = responder
    result = run("--diff", "HEAD", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["title"] == "Guard mean against empty input"
    assert [(r["path"], r["change"]) for r in out["walkthrough"]] == [
        ("config.py", "changes config.py"),
        ("stats.py", "changes stats.py"),
    ]
    (request,) = server.chat_requests
    assert SECRETS["github"] not in request.raw_body.decode()
    assert (request.body or {})["response_format"] == {"type": "json_object"}
    with sqlite3.connect(data_dir / "usage.sqlite3") as db:
        assert db.execute("SELECT task FROM calls").fetchall() == [("describe",)]

    # markdown into a file; the unchanged re-run costs no request
    result = run("--diff", "HEAD", "-o", "pr.md")
    assert result.exit_code == 0, result.output
    assert len(server.chat_requests) == 1
    text = (repo / "pr.md").read_text(encoding="utf-8")
    assert text.startswith("## Guard mean against empty input")
    assert "### What to test" in text


def test_describe_needs_exactly_one_of_diff_and_staged(repo: Path) -> None:
    for args in ((), ("--staged", "--diff", "HEAD")):
        result = run(*args)
        assert result.exit_code == 2 and "give --diff REF or --staged" in result.stderr


def test_the_staged_dry_run_from_the_command_line(repo: Path) -> None:
    result = run("--staged", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["dry_run"] is True and out["mode"] == "staged"
    assert out["plan"]["requests"][0]["files"] == ["config.py", "stats.py"]

"""--lang reaches every assistant's prompt; the default English prompt has no such line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from deepseek_server import Reply
from fakes import ScriptedChatModel

from assistants import review_path, solve_math
from assistants.cli import cli
from assistants.config import load_settings


def _system(fake: ScriptedChatModel) -> str:
    return str(fake.calls[0]["messages"][0].content)


def test_review_prompt_follows_lang(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def f(x):\n    return x / 0\n")
    for lang, expected in (("zh", True), ("en", False)):
        fake = ScriptedChatModel(replies=['{"findings": []}'])
        review_path([tmp_path], settings=load_settings(lang=lang, cache_enabled=False), model=fake)
        assert ("Write title and explanation in Chinese" in _system(fake)) is expected


def test_math_prompt_follows_lang() -> None:
    for lang, expected in (("de", True), ("en", False)):
        fake = ScriptedChatModel(replies=["So: \\boxed{2}"])
        sol = solve_math("1+1?", settings=load_settings(lang=lang, cache_enabled=False), model=fake)
        assert sol.answer_plain == "2"
        assert ("solution text in German" in _system(fake)) is expected


def test_cli_lang_option_reaches_the_request(server, tmp_path: Path) -> None:
    server.enqueue(Reply("Also: \\boxed{4}", reasoning="2+2"))
    result = CliRunner().invoke(cli, ["math", "solve", "2+2?", "--lang", "fr"])
    assert result.exit_code == 0, result.output
    assert "French" in server.chat_requests[0].body["messages"][0]["content"]

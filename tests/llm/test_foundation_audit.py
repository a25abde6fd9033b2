"""Audit of the foundation: the failures a demanding user meets, each with a clear outcome."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from deepseek_server import TEST_KEY, DeepSeekServer, Reply
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from assistants import errors
from assistants.cli import cli
from assistants.config import load_settings
from assistants.llm import LLM
from assistants.llm.usage import load_prices


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), input=input)


def one_line_error(result: Any) -> str:
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- the response cache and the usage ledger ---------------------------------------------------


def test_corrupt_cache_and_ledger_never_cost_the_answer(server: DeepSeekServer, data_dir: Path):
    (data_dir / "cache.sqlite3").write_bytes(b"not a database " * 400)
    (data_dir / "usage.sqlite3").write_bytes(b"not a database " * 400)
    server.enqueue("the answer")
    reply = LLM("chat").complete([("user", "q")])
    assert reply.content == "the answer"


def test_data_dir_that_is_a_file_never_costs_the_answer(server, tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("ASSISTANTS_DATA_DIR", str(blocker))
    server.enqueue("kept")
    result = run("chat", "q")
    assert result.exit_code == 0, result.output
    assert "kept" in result.stdout


@pytest.mark.parametrize("command", [("usage",), ("cache", "info"), ("cache", "clear")])
def test_corrupt_stores_are_one_line_errors(data_dir: Path, command: tuple[str, ...]) -> None:
    (data_dir / "cache.sqlite3").write_bytes(b"not a database " * 400)
    (data_dir / "usage.sqlite3").write_bytes(b"not a database " * 400)
    result = run(*command)
    assert result.exit_code == 3
    assert "sqlite3" in one_line_error(result)


def test_cache_entry_of_another_version_is_a_miss(server: DeepSeekServer) -> None:
    llm = LLM("chat")
    server.enqueue("first")
    llm.complete([("user", "q")])
    assert llm.cache is not None
    import sqlite3

    with sqlite3.connect(llm.cache.path) as conn:
        conn.execute("UPDATE responses SET reply = '{\"content\": 1}'")
    server.enqueue("second")
    assert llm.complete([("user", "q")]).content == "second"


# -- replies that are not what the protocol promises --------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    "body, content_type",
    [("{not json", "application/json"), ("<html>502 Bad Gateway</html>", "text/html")],
)
def test_http_200_with_a_malformed_body_is_typed(server, stream, body, content_type) -> None:
    for _ in range(5):
        server.enqueue(Reply(raw_body=body, raw_content_type=content_type))
    callback = (lambda _t: None) if stream else None
    with pytest.raises(errors.ServerError, match="not a chat completion"):
        LLM("chat").complete([("user", "q")], on_content=callback)


def test_http_200_with_a_malformed_body_is_retried(server: DeepSeekServer) -> None:
    server.enqueue(Reply(raw_body="{not json"), Reply("fine"))
    assert LLM("chat").complete([("user", "q")]).content == "fine"


def test_cli_malformed_body_is_one_line(server: DeepSeekServer, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    server.enqueue(Reply(raw_body="<html>hi</html>", raw_content_type="text/html"))
    result = run("chat", "q")
    assert result.exit_code == 5
    assert "not a chat completion" in one_line_error(result)


def test_stream_broken_after_text_was_shown_is_not_retried(server: DeepSeekServer) -> None:
    server.enqueue(Reply("abcdefghij" * 10, chunk_size=5, drop_mid_stream=True), Reply("again"))
    shown: list[str] = []
    with pytest.raises(errors.APIConnectionError, match="broke off midway"):
        LLM("chat").complete([("user", "q")], on_content=shown.append)
    assert "again" not in "".join(shown)  # nothing shown twice, no second answer appended
    assert len(server.chat_requests) == 1


def test_stream_broken_is_retried_with_on_retry_or_when_nothing_was_shown(server) -> None:
    server.enqueue(Reply("abcdefghij" * 10, chunk_size=5, drop_mid_stream=True), Reply("again"))
    shown: list[str] = []
    restarts: list[bool] = []

    def restart() -> None:
        restarts.append(True)
        shown.clear()

    reply = LLM("chat").complete([("user", "q")], on_content=shown.append, on_retry=restart)
    assert reply.content == "again" and "".join(shown) == "again" and restarts == [True]
    # thinking mode streams without callbacks: nothing shown, so the retry is free
    server.enqueue(Reply("x" * 100, reasoning="r" * 100, drop_mid_stream=True), Reply("ok2"))
    assert LLM("reasoner").complete([("user", "q2")]).content == "ok2"


@pytest.mark.parametrize("profile", ["chat", "reasoner"])
def test_keepalives_alone_do_not_hold_the_call_forever(server, monkeypatch, profile) -> None:
    monkeypatch.setenv("ASSISTANTS_TIMEOUT", "0.5")
    monkeypatch.setenv("ASSISTANTS_PROFILES__REASONER__TIMEOUT", "0.5")
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    server.enqueue(Reply("late", delay=5, keepalives=25))
    with pytest.raises(errors.APITimeoutError):
        LLM(profile).complete([("user", "q")])


def test_retry_after_longer_than_retry_max_wait_fails_at_once(server: DeepSeekServer) -> None:
    server.fail_next(429, times=3, retry_after=3600)  # retry_max_wait is 0.2 in tests
    with pytest.raises(errors.RateLimitError, match="asks to wait 3600 s") as info:
        LLM("chat").complete([("user", "q")])
    assert "ASSISTANTS_RETRY_MAX_WAIT" in (info.value.hint or "")
    assert len(server.chat_requests) == 1


@pytest.mark.parametrize("status", [400, 500])
def test_key_echoed_by_the_endpoint_is_never_repeated(server, monkeypatch, status) -> None:
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    server.enqueue(Reply(status=status, error_message=f"bad key {TEST_KEY} here"))
    with pytest.raises(errors.APIError) as info:
        LLM("chat").complete([("user", "q")])
    assert TEST_KEY not in str(info.value) and TEST_KEY not in repr(info.value.args)


# -- settings --------------------------------------------------------------------------------


def test_broken_pyproject_names_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.assistants]\ntimeout = \n")
    result = run("config")
    assert result.exit_code == 3
    line = one_line_error(result)
    assert str(tmp_path / "pyproject.toml") in line and "line 2" in line


def test_unknown_key_in_pyproject_is_an_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.assistants]\nconcurency = 4\n")
    with pytest.raises(errors.ConfigError, match="unknown setting 'concurency'") as info:
        load_settings()
    assert "concurrency" in (info.value.hint or "")


def test_invalid_value_names_setting_and_source(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANTS_PROFILES__CODER__THINKING", "maybe")
    with pytest.raises(errors.ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert "profiles.coder.thinking" in message
    assert "ASSISTANTS_PROFILES__CODER__THINKING" in message
    monkeypatch.setenv("ASSISTANTS_PROFILES__CODER__THINKING", "yes")
    assert load_settings().profiles.coder.thinking is True


@pytest.mark.parametrize(
    "content",
    ["[1, 2]", '{"models": []}', '{"models": {"deepseek-flash": {"cache_hit": 1}}}'],
)
def test_bad_price_file_is_one_line(tmp_path: Path, content: str) -> None:
    path = tmp_path / f"prices-{abs(hash(content))}.json"
    path.write_text(content)
    with pytest.raises(errors.ConfigError) as info:
        load_prices(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


# -- the chat command and stream_chat -------------------------------------------------------------


def test_chat_with_empty_stdin_is_a_usage_error(server: DeepSeekServer) -> None:
    result = run("chat", input="  \n")
    assert result.exit_code == 2
    assert server.chat_requests == []


def test_chat_prints_reasoning_verbatim(server: DeepSeekServer) -> None:
    server.enqueue(Reply("answer [/] here", reasoning="I think [/] and [bold]x"))
    result = run("chat", "--task", "math", "--show-reasoning", "q")
    assert result.exit_code == 0, result.output
    assert "answer [/] here" in result.stdout
    assert "I think [/] and [bold]x\n" in result.stderr


class _GatedModel(BaseChatModel):
    """Streams chunk after chunk; after the first, waits until the test opens the gate."""

    gate: Any
    produced: list[int]

    @property
    def _llm_type(self) -> str:
        return "gated-fake"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        raise NotImplementedError

    def _stream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        for i in range(50):
            if i == 1:
                self.gate.wait(10)
            self.produced.append(i)
            yield ChatGenerationChunk(message=AIMessageChunk(content=f"{i} "))


def test_abandoned_stream_chat_ends_the_request() -> None:
    from assistants import stream_chat

    gate = threading.Event()
    model = _GatedModel(gate=gate, produced=[])
    pieces = stream_chat("count", model=model, settings=load_settings(cache_enabled=False))
    assert next(pieces) == "0 "
    pieces.close()  # the caller stops reading (break, or the generator is dropped)
    gate.set()
    for worker in threading.enumerate():
        if worker.name == "assistants-stream":
            worker.join(10)
    assert len(model.produced) < 50


def test_unpriced_model_on_deepseek_is_noted(server, monkeypatch) -> None:
    from assistants.llm import core

    notes: list[str] = []
    monkeypatch.setattr(core.log, "warning", lambda message, *a: notes.append(message % a))
    monkeypatch.setenv("ASSISTANTS_MODEL", "deepseek-future-audit")
    LLM("chat")
    assert any("no price for deepseek-future-audit" in note for note in notes)


def test_usage_since_must_be_a_date(data_dir: Path) -> None:
    assert run("usage", "--since", "yesterday").exit_code == 2
    result = run("usage", "--since", "2030-01-01")
    assert result.exit_code == 0 and "since 2030-01-01" in result.stdout


def test_dotenv_that_is_not_utf8_names_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes(b"DEEPSEEK_API_KEY=sk-\xff\xfe\n")
    with pytest.raises(errors.ConfigError, match=r"\.env is not UTF-8"):
        load_settings()


def test_insufficient_resource_after_shown_text_is_not_retried(server: DeepSeekServer) -> None:
    server.enqueue(Reply("partial", finish_reason="insufficient_system_resource"), Reply("more"))
    shown: list[str] = []
    with pytest.raises(errors.ServerError, match="insufficient_system_resource"):
        LLM("chat").complete([("user", "q")], on_content=shown.append)
    assert "".join(shown) == "partial"
    assert server.pending == 1  # not retried
    shown.clear()
    server.reset()
    server.enqueue(Reply("again", finish_reason="insufficient_system_resource"), Reply("more"))
    reply = LLM("chat").complete([("user", "q")], on_content=shown.append, on_retry=shown.clear)
    assert reply.content == "more" and "".join(shown) == "more"


# -- prompt templates ----------------------------------------------------------------------------


def test_broken_override_template_is_one_line(tmp_path: Path) -> None:
    from assistants.prompts import render

    (tmp_path / "llm").mkdir()
    (tmp_path / "llm" / "repair.j2").write_text("{% if problem %}unclosed\n")
    with pytest.raises(errors.ConfigError, match=r"repair\.j2, line \d") as info:
        render("llm/repair.j2", prompts_dir=tmp_path, problem="x")
    assert "\n" not in str(info.value)


def test_missing_prompts_folder_is_an_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANTS_PROMPTS_DIR", str(tmp_path / "typo"))
    result = run("prompts", "list")
    assert result.exit_code == 3
    assert "does not exist" in one_line_error(result)


def test_unwritable_output_keeps_the_report(tmp_path: Path) -> None:
    from assistants.cli._common import emit

    blocker = tmp_path / "a-file"
    blocker.write_text("x")

    @click.command()
    def report() -> None:
        emit("the report", blocker / "out.txt")

    result = CliRunner().invoke(report)
    assert "the report" in result.stdout
    assert isinstance(result.exception, errors.InputError)
    assert "went to stdout" in str(result.exception)


def test_reasoning_without_an_answer_says_so(server: DeepSeekServer) -> None:
    server.enqueue(Reply("", reasoning="thinking hard " * 20))
    with pytest.raises(errors.EmptyResponseError, match=r"reasoned .* but gave no answer") as info:
        LLM("reasoner").complete([("user", "q")])
    assert (info.value.reasoning or "").startswith("thinking hard")


@pytest.mark.parametrize(
    "body, detail",
    [
        (
            '{"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": []}',
            "no choices",
        ),
        ('{"error": {"message": "quota exceeded"}}', "reports an error: quota exceeded"),
        ("{}", "choices"),
    ],
)
def test_http_200_without_a_completion_is_typed(server, monkeypatch, body, detail) -> None:
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    server.enqueue(Reply(raw_body=body))
    with pytest.raises(errors.ServerError, match="not a chat completion") as info:
        LLM("chat").complete([("user", "q")])
    assert detail in str(info.value)

"""assistants chat: streaming, reasoning on stderr, JSON, stdin."""

from __future__ import annotations

import json

from cli_runner import run
from deepseek_server import DeepSeekServer, Reply


def test_chat_streams_and_records_usage(server) -> None:
    server.enqueue(Reply("Paris is the capital.", reasoning="recall"))
    result = run("chat", "--task", "math", "--show-reasoning", "Capital?")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Paris is the capital."
    assert "recall" in result.stderr
    assert server.chat_requests[0].body["thinking"] == {"type": "enabled"}
    usage = run("usage", "--by", "task", "--json")
    rows = json.loads(usage.output)
    assert rows[0]["key"] == "chat" and rows[0]["calls"] == 1
    info = run("cache", "info")
    assert "entries: 1" in info.output
    cleared = run("cache", "clear")
    assert "removed 1" in cleared.output


def test_chat_json_and_stdin(server) -> None:
    server.enqueue(Reply("pong"))
    result = run("chat", "--json", "--system", "terse", input="ping")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["content"] == "pong" and data["usage"]["requests"] == 1
    assert server.chat_requests[0].body["messages"][0]["content"] == "terse"


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


def test_data_dir_that_is_a_file_never_costs_the_answer(server, tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("ASSISTANTS_DATA_DIR", str(blocker))
    server.enqueue("kept")
    result = run("chat", "q")
    assert result.exit_code == 0, result.output
    assert "kept" in result.stdout

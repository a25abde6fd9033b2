"""The test server as a local OpenAI-compatible endpoint (llama.cpp, vLLM ...): not DeepSeek's
flavor, so the context window is asked of it; the learned windows are forgotten around it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from deepseek_server import TEST_KEY, DeepSeekServer


@contextmanager
def running_server(
    monkeypatch: pytest.MonkeyPatch, *, flavor: str = "deepseek", v1: bool = False, **options: Any
) -> Iterator[DeepSeekServer]:
    """A running server on 127.0.0.1 (``options`` as for :class:`DeepSeekServer`), stopped
    after; the settings point at it (``/v1`` appended when ``v1``) with the test key and
    ``api_flavor`` = ``flavor``."""
    srv = DeepSeekServer(**options).start()
    monkeypatch.setenv("ASSISTANTS_BASE_URL", f"{srv.url}/v1" if v1 else srv.url)
    monkeypatch.setenv("DEEPSEEK_API_KEY", TEST_KEY)
    monkeypatch.setenv("ASSISTANTS_API_FLAVOR", flavor)
    try:
        yield srv
    finally:
        srv.stop()


@contextmanager
def local_server(
    monkeypatch: pytest.MonkeyPatch, *, v1: bool = True, **options: Any
) -> Iterator[DeepSeekServer]:
    """A running server (``options`` as for :class:`DeepSeekServer`, e.g. ``context_window``);
    the settings point at it (``/v1`` appended when ``v1``) with ``api_flavor = "openai"``."""
    from assistants.llm.window import forget_windows

    forget_windows()
    try:
        with running_server(monkeypatch, flavor="openai", v1=v1, **options) as srv:
            yield srv
    finally:
        forget_windows()

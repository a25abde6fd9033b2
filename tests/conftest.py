"""Shared fixtures: every test runs isolated (its own data dir, no outside key or settings)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SUPPORT = Path(__file__).resolve().parent / "support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

from postgres_server import postgres_server  # noqa: E402, F401  (the session fixture)


@pytest.fixture(autouse=True)
def _isolate(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """No DEEPSEEK_API_KEY / ASSISTANTS_* leaks in; data (cache, ledger) in a temp dir; no
    pyproject.toml or .env of the checkout is picked up (cwd is a clean temp dir). After the
    test, the stores' pooled connections are closed (each test has its own data dir, and a
    serial run would otherwise hold a thousand open files)."""
    for name in list(os.environ):
        if name.startswith(("ASSISTANTS_", "DEEPSEEK_")) or name in {"NO_COLOR", "FORCE_COLOR"}:
            monkeypatch.delenv(name, raising=False)
    data = tmp_path_factory.mktemp("data")
    work = tmp_path_factory.mktemp("cwd")
    monkeypatch.setenv("ASSISTANTS_DATA_DIR", str(data))
    monkeypatch.setenv("ASSISTANTS_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("ASSISTANTS_RETRY_BACKOFF", "0.01")
    monkeypatch.setenv("ASSISTANTS_RETRY_MAX_WAIT", "0.2")
    monkeypatch.chdir(work)
    from assistants import config

    monkeypatch.setattr(config, "_warned", set())  # each test sees its own warnings
    answers = sys.modules.get("assistants.llm.answers")
    if answers is not None:
        monkeypatch.setattr(answers, "_warned", set())  # a store's one warning, per test
    yield data
    db = sys.modules.get("assistants.llm.db")
    if db is not None:
        db.dispose_all()


@pytest.fixture
def data_dir(_isolate: Path) -> Path:
    return _isolate


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A running DeepSeek-protocol server on 127.0.0.1; settings point at it."""
    from local_server import running_server

    with running_server(monkeypatch) as srv:
        yield srv


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The test runs on each store backend: the SQLite files in the data dir (the default), and
    a fresh database on the test PostgreSQL server (ASSISTANTS_STORE_URL)."""
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        monkeypatch.setenv("ASSISTANTS_STORE_URL", server.fresh_url())
    yield request.param
    from assistants.llm import db

    db.dispose_all()  # no connections left open to a test's database

"""Fixtures shared by the review tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_samples import SHELL_APP


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder holding one file, app.py, with a shell=True call (SHELL_APP)."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(SHELL_APP, encoding="utf-8")
    return root

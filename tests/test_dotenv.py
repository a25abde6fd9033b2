"""A project's .env: unparsable lines are reported once, in one line, and ignored."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from assistants.cli import cli


def test_a_garbage_dotenv_is_reported_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text('this is garbage\n===\nASSISTANTS_CONCURRENCY=3\n{"x": 1}\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0
    warnings = [line for line in result.output.splitlines() if "NAME=value" in line]
    assert warnings == [f"warning: {tmp_path / '.env'}: lines 1, 2, 4 are not NAME=value; ignored"]
    assert "python-dotenv" not in result.output
    assert any(
        line.split()[:3] == ["concurrency", "3", ".env"] for line in result.output.splitlines()
    )

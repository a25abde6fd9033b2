"""Running the ``assistants`` command line in-process, and reading its one-line errors."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from assistants.cli import cli


def run(*args: str, input: str | None = None) -> Any:
    """``assistants ARGS`` in-process (stdout and stderr kept apart)."""
    return CliRunner().invoke(cli, list(args), input=input)


def one_line_error(result: Any) -> str:
    """The single ``error: ...`` line on stderr (and no traceback anywhere)."""
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]

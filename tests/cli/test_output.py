"""Writing reports: a report that cannot be written to --output still reaches stdout."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from assistants import errors


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

"""Anchoring: each finding's file, quote and lines checked against the text that was sent;
unknown files rejected, duplicates merged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedChatModel
from repos import write
from review_samples import (
    APP_SHELL,
    model_finding,
    reply,
    review_settings,
    shell_finding,
)

from assistants.review.anchor import resolve_path
from assistants.review.run import review_path


def test_anchor_kept_corrected_or_flagged(project: Path) -> None:
    model = ScriptedChatModel(
        replies=[
            reply(
                model_finding(
                    "app.py", 5, "    return subprocess.call(cmd, shell=True)", title="shell"
                ),
                # wrong line: the quote is on line 9, the model said 3
                model_finding("./app.py", 3, "return sum(xs) / len(xs)", "medium", title="empty"),
                # a quote that is nowhere in the file
                model_finding("app.py", 2, "os.system(x)", "low", title="ghost"),
            )
        ]
    )
    review = review_path(project, settings=review_settings(), model=model)
    by_title = {f.title: f for f in review.findings}
    assert (by_title["shell"].line_start, by_title["shell"].anchored) == (5, True)
    assert by_title["shell"].model_line is None
    assert (by_title["empty"].line_start, by_title["empty"].anchored) == (9, True)
    assert by_title["empty"].model_line == 3
    assert (by_title["ghost"].line_start, by_title["ghost"].anchored) == (2, False)
    assert review.coverage.files_reviewed == 1 and review.usage.requests == 1


def test_findings_for_unknown_files_are_rejected_and_duplicates_merged(project: Path) -> None:
    model = ScriptedChatModel(
        replies=[
            reply(
                model_finding("../../etc/passwd", 1, "root"),
                model_finding(
                    "app.py", 5, "return subprocess.call(cmd, shell=True)", "medium", title="Shell"
                ),
                model_finding(
                    "app.py",
                    5,
                    "return subprocess.call(cmd, shell=True)",
                    "critical",
                    title="shell",
                ),
            )
        ]
    )
    review = review_path(project, settings=review_settings(), model=model)
    assert review.rejected == {"duplicates-merged": 1, "unknown-file": 1}
    assert [(f.severity, f.line_start) for f in review.findings] == [("critical", 5)]


RESPACED = "return subprocess.call( cmd,shell=True)"


MARKED = "+    return subprocess.call(cmd, shell=True)"


def test_paths_quotes_and_lines_the_model_gets_slightly_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "src" / "app.py", APP_SHELL + "\n\nVERSION = 1\n")
    monkeypatch.chdir(tmp_path)
    path = "src/app.py"
    model = ScriptedChatModel(
        replies=[
            json.dumps(
                {
                    "findings": [
                        shell_finding(file=str((tmp_path / path).resolve()), title="absolute"),
                        shell_finding(file="src\\app.py", title="backslashes", category="bug"),
                        shell_finding(
                            file="src/app.py:5", title="line suffix", category="performance"
                        ),
                        # re-spaced quote, wrong line
                        shell_finding(
                            file=path,
                            line_start=4,
                            quote=RESPACED,
                            title="respaced",
                            category="maintainability",
                        ),
                        # a diff mark copied into the quote
                        shell_finding(
                            file=path,
                            line_start=2,
                            quote=MARKED,
                            title="diff mark",
                            category="style",
                        ),
                        # beyond the end of the file: clamped, and the model's line kept
                        shell_finding(file=path, line_start=40, quote="", title="beyond"),
                    ]
                }
            )
        ]
    )
    review = review_path("src", settings=review_settings(), model=model)
    by_title = {f.title: f for f in review.findings}
    assert review.rejected.get("unknown-file", 0) == 0
    for title in ("absolute", "backslashes", "line suffix"):
        assert (by_title[title].path, by_title[title].line_start) == (path, 5)
    for title, said in (("respaced", 4), ("diff mark", 2)):
        f = by_title[title]
        assert (f.line_start, f.anchored, f.model_line) == (5, True, said)
    beyond = by_title["beyond"]
    assert (beyond.line_start, beyond.anchored, beyond.model_line) == (8, False, 40)


def test_absolute_path_picks_the_file_it_names_among_same_named_files() -> None:
    known: dict[str, Any] = {"a.py": None, "src/a.py": None}
    assert resolve_path("/home/me/proj/src/a.py", known) == "src/a.py"
    assert resolve_path("/home/me/proj/a.py", known) == "a.py"
    assert resolve_path("src\\a.py:12", known) == "src/a.py"
    assert resolve_path("lib/other.py", known) is None

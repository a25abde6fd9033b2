"""Inline suppressions: `assistants: ignore` in a comment of any language, on the finding's
line or alone on the line above, optionally for listed categories only."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import ScriptedChatModel
from marker_replies import marker_reply
from review_samples import review_settings

from assistants.review.run import review_path
from assistants.review.suppress import ignored_categories

MARK = "RISKY"

# file name → (a finding's line held back on the same line, held back from the line above)
LANGUAGES = {
    "app.py": (
        "x = RISKY()  # assistants: ignore\n",
        "# assistants: ignore[security]\ny = RISKY()\n",
    ),
    "app.js": (
        "const x = RISKY(); // assistants: ignore\n",
        "/* assistants: ignore[security] */\nconst y = RISKY();\n",
    ),
    "run.sh": (
        'x="$(RISKY)"  # assistants: ignore[security, bug]\n',
        "# keep: assistants: ignore\ny=$(RISKY)\n",
    ),
    "ci.yml": (
        "run: RISKY  # assistants: ignore\n",
        "# assistants: ignore[security]\nscript: RISKY\n",
    ),
}


def review_file(root: Path, name: str, text: str, category: str = "security") -> object:
    (root / name).write_text(text, encoding="utf-8")
    model = ScriptedChatModel(
        replies=[lambda m: marker_reply(m[-1].content, MARK, category=category)],
        repeat_last=True,
    )
    return review_path(root / name, settings=review_settings(), model=model)


@pytest.mark.parametrize("name", sorted(LANGUAGES))
def test_suppressed_on_the_line_and_from_the_line_above(tmp_path: Path, name: str) -> None:
    same, above = LANGUAGES[name]
    plain = f"z = {MARK}()\n"
    review = review_file(tmp_path, name, same + "\n" + above + "\n" + plain)
    assert [f.line_start for f in review.findings] == [6]  # only the plain one is reported
    assert sorted(f.line_start for f in review.suppressed) == [1, 4]
    assert {f.suppression for f in review.suppressed} == {"inline"}
    assert review.suppressed_counts == {"inline": 2, "baseline": 0}
    assert review.exit_code("low") == 1  # the gate sees the reported one only


def test_a_category_list_holds_back_only_those_categories(tmp_path: Path) -> None:
    text = f"x = {MARK}()  # assistants: ignore[style, security]\n"
    assert review_file(tmp_path, "a.py", text, "security").findings == []
    assert len(review_file(tmp_path, "a.py", text, "bug").findings) == 1


def test_a_trailing_comment_on_the_line_above_does_not_reach_the_next_line(
    tmp_path: Path,
) -> None:
    text = f"a = {MARK}()  # assistants: ignore\nb = {MARK}()\n"
    review = review_file(tmp_path, "a.py", text)
    assert [f.line_start for f in review.findings] == [2]
    assert [f.line_start for f in review.suppressed] == [1]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("x = 1  # assistants: ignore", "all"),
        ("x = 1 // assistants: ignore[security]", {"security"}),
        ("/* assistants: ignore[Bug,  style] */", {"bug", "style"}),
        ("SELECT 1; -- assistants: ignore[performance]", {"performance"}),
        ("<!-- assistants: ignore -->", "all"),
        ("(setq x 1) ; assistants: ignore", "all"),
        ("\\input{x} % assistants: ignore[style]", {"style"}),
        ("REM assistants: ignore", "all"),
        ("{- assistants: ignore -}", "all"),
        ("x = 1  # ASSISTANTS: IGNORE", "all"),
        ('x = "assistants: ignore"', None),  # in a string, no comment: not a directive
        ("x = 1  # assistants: ignored words", None),
        ("x = 1  # assistants ignore", None),
        ("x = 1", None),
    ],
)
def test_the_directive_in_many_comment_syntaxes(line: str, expected: object) -> None:
    found = ignored_categories(line)
    if expected == "all":
        assert found == {"bug", "security", "performance", "maintainability", "style"}
    else:
        assert found == expected

"""A realistic context for every template under prompts/ (tests/test_prompts_all.py)."""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, dict[str, Any]] = {
    "llm/json_schema.j2": {"schema": '{"type": "object"}'},
    "llm/repair.j2": {"problem": "- score: Input should be less than or equal to 5"},
    "math/system.j2": {"language": "Chinese (简体中文)"},
    "paper/system.j2": {"language": "English"},
    "paper/paper.j2": {
        "part": None,
        "parts": None,
        "sections": None,
        "title": "Widgets at Scale",
        "page_count": 2,
        "references_cut": True,
        "text": "[page 1]\nAbstract\nWe scale widgets.\n[page 2]\n1 Introduction\nWidgets.",
        "tables": "[Table 1, page 2] Table 1: Accuracy.\nMethod    Acc\nOurs      91.2",
    },
    "paper/analyze.j2": {},
    "paper/ask.j2": {"question": "Which datasets are used?"},
    "paper/map.j2": {"part": 2, "parts": 3},
    "paper/notes.j2": {
        "title": "Widgets at Scale",
        "notes": [{"part": 1, "parts": 2, "sections": "1 Introduction", "json": "{}"}],
    },
    "paper/reduce.j2": {"title": "Widgets at Scale", "parts": 2},
    "paper/review.j2": {"reviewer": 1, "reviewers": 3},
    "paper/compare.j2": {},
    "paper/library_system.j2": {"language": "English"},
    "paper/library_ask.j2": {"question": "Which method has the best recall?"},
    "paper/library.j2": {
        "papers": 30,
        "passages": [
            {
                "label": "Lovelace and Turing 2024",
                "page": 5,
                "title": "Widgets at Scale",
                "source": "widgets.pdf",
                "text": "Recall at 100 is 0.912.",
            }
        ],
    },
    "paper/reflect.j2": {
        "reviewer": 2,
        "reviewers": 3,
        "round": 1,
        "rounds": 2,
        "review": '{"summary": "A widget paper.", "overall": 6}',
    },
    "paper/meta_review.j2": {"title": "Widgets at Scale", "reviews": ['{"overall": 6}']},
    "review/system.j2": {
        "mode": "diff",
        "instructions": "Prefer pathlib over os.path.",
        "language": "German",
        "guide": {
            "where": "main:REVIEW.md",
            "text": "# Review guide\nEvery SQL query goes through the query builder.",
            "marker": "fedcba987654",
        },
    },
    "review/request.j2": {
        "mode": "path",
        "rules": [{"number": 2, "glob": "migrations/**", "text": "check reversibility"}],
        "units": [
            {
                "marker": "0123456789ab",
                "path_json": '"src/app.py"',
                "language": "python",
                "start": 1,
                "end": 2,
                "part": 1,
                "parts": 1,
                "rules": [2],
                "body": "1\timport os\n2\tprint(os.getcwd())",
                "block": '<<<FILE 0123456789ab path="src/app.py" language=python lines=1-2>>>\n'
                "1\timport os\n2\tprint(os.getcwd())\n<<<END FILE 0123456789ab>>>\n",
            }
        ],
    },
    "math/user.j2": {"problem": "What is 1/2 + 1/4?"},
    "review/describe_system.j2": {"language": "Chinese (简体中文)"},
    "review/describe.j2": {
        "mode": "diff",
        "rules": [],
        "units": [
            {
                "block": '<<<FILE 0123456789ab path="src/app.py" language=python lines=1-2>>>\n'
                "@@ lines 1-2 @@\n1 \timport os\n2+\tprint(os.getcwd())\n"
                "<<<END FILE 0123456789ab>>>\n",
            }
        ],
    },
    "review/describe_reduce.j2": {
        "marker": "0123456789ab",
        "parts": [
            '{"part": 1, "files": ["a.py"], "title": "Add a", "summary": "Adds a.", '
            '"risks": [], "tests": ["run a"]}'
        ],
    },
}

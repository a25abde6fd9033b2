"""Secrets written the way config and shell files write them (YAML, INI, TOML, .properties,
shell, command lines, URLs, Kubernetes Secret manifests, short passwords, JSON inside strings,
notebooks): redacted in unit tests and never present in a request body the server received."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from deepseek_server import DeepSeekServer
from repos import git, make_repo, write
from review_replies import answer, blocks
from secrets_corpus import FORMS, ORDINARY_CONFIG

from assistants.cli import cli
from assistants.review.notebooks import is_notebook, notebook_source
from assistants.review.secrets import redact

CASES = [(form, *case) for form, cases in FORMS.items() for case in cases]
SECRETS = [secret for _, _, _, secret in CASES]


@pytest.mark.parametrize(("form", "path", "text", "secret"), CASES)
def test_each_form_is_redacted_and_lines_kept(form: str, path: str, text: str, secret: str) -> None:
    result = redact(text, path)
    assert secret not in result.text, form
    assert result.text.count("\n") == text.count("\n")
    assert result.count >= 1 and "[REDACTED:" in result.text
    assert all(kind in result.text for kind in result.kinds)  # says what, never the value


@pytest.mark.parametrize(("path", "line"), ORDINARY_CONFIG)
def test_ordinary_config_lines_stay_readable(path: str, line: str) -> None:
    result = redact(line, path)
    assert result.text == line and result.count == 0


def test_config_values_are_literals_but_code_names_are_not() -> None:
    assert redact("password: hunter2x", "app.yaml").count == 1
    assert redact("password = hunter2x", "app.py").count == 0  # a variable in code
    assert redact("export GITHUB_TOKEN=Zq8Lm2Vx7KpR4wTz", "ci.sh").count == 1
    shown = redact('password: "Tr0ub4dor-Zq81"  # rotate', "a.yaml").text
    assert shown == 'password: "[REDACTED:secret-assignment]"  # rotate'


def test_fixture_credentials_in_urls_and_headers_are_not_secrets() -> None:
    for line in (
        '"http://user:pass@example.com/path"',
        '"amqp://guest:guest@localhost//"',
        '"http://{}:{}@{}:9000/path".format(user, pw, host)',
        '"Basic dGVzdDp0ZXN0"',  # test:test
    ):
        assert redact(line, "test_x.py").count == 0, line


def test_k8s_secret_values_only_in_secret_documents() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  mode: fast\n---\n"
        "apiVersion: v1\nkind: Secret\ndata:\n  token: d0s5dlEybUw3elhw\nmetadata:\n  name: x\n"
    )
    result = redact(text, "k8s.yaml")
    assert "mode: fast" in result.text and "d0s5dlEybUw3elhw" not in result.text
    assert "  name: x" in result.text and result.kinds == {"k8s-secret": 1}


# -- notebooks ----------------------------------------------------------------------------
def notebook(*cells: tuple[str, str], outputs: str = "") -> str:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
            "cells": [
                {
                    "cell_type": kind,
                    "metadata": {},
                    "source": source.splitlines(keepends=True),
                    **(
                        {"outputs": [{"output_type": "stream", "text": [outputs]}]}
                        if kind == "code"
                        else {}
                    ),
                }
                for kind, source in cells
            ],
        },
        indent=1,
    )


NOTEBOOK = notebook(
    ("markdown", "# Load the data"),
    ("code", 'import db\nconn = db.connect(host="db", password="Sx9!kQ2mLz")\nconn.ping()'),
    outputs="connected with token ghp_" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8",
)


def test_notebook_source_joins_cells_and_drops_outputs() -> None:
    source, language = notebook_source(NOTEBOOK.encode())
    assert language == "python" and is_notebook("a/B.IPYNB")
    assert source.decode() == (
        "# %% [markdown] cell 1\n# Load the data\n\n"
        '# %% [code] cell 2\nimport db\nconn = db.connect(host="db", password="Sx9!kQ2mLz")\n'
        "conn.ping()\n"
    )
    assert notebook_source(b"not json") == (b"not json", "json")


# -- over HTTP ----------------------------------------------------------------------------
ORDINARY = {
    "models.py": "from dataclasses import dataclass\n\n\n@dataclass\nclass Form:\n"
    "    password_field: str\n    token_count: int = 0\n",
    "k8s/deploy.yaml": "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n"
    "        name: my-app-secret\n        key: password\nvolumes:\n  - secret:\n"
    "      secretName: my-app-secret\n",
}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    for _, path, text, _ in CASES:
        write(root / path, (root / path).read_text() + text if (root / path).exists() else text)
    for path, text in ORDINARY.items():
        write(root / path, text)
    write(root / "notebooks/analysis.ipynb", NOTEBOOK)
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    monkeypatch.chdir(root)
    return root


def review(server: DeepSeekServer, *args: str) -> tuple[dict[str, Any], list[str]]:
    server.responder = lambda body: answer([])
    result = CliRunner().invoke(
        cli, ["review", *args, "--format", "json", "--fail-on", "never"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    raws = [r.raw_body.decode() for r in server.chat_requests]
    assert raws
    return json.loads(result.stdout), raws


def test_no_planted_secret_reaches_the_server(server: DeepSeekServer, repo: Path) -> None:
    # files no folder review picks up (.properties, .cnf) are named explicitly
    extra = sorted({p for _, p, _, _ in CASES if p.endswith((".properties", ".cnf"))})
    report, raws = review(server, ".", *extra)
    sent = {f["path"] for f in report["files"]}
    assert {p for _, p, _, _ in CASES} <= sent
    assert "notebooks/analysis.ipynb" in sent
    body = "\n".join(raws)
    for secret in [*SECRETS, "Sx9!kQ2mLz", "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8"]:
        assert secret not in body
    for kind in ("secret-assignment", "cli-credentials", "url-credentials", "k8s-secret"):
        assert f"[REDACTED:{kind}]" in body
    assert report["secrets_redacted"] >= len(CASES)
    # ordinary code and manifests stay readable
    for line in ("password_field: str", "secretName: my-app-secret", "key: password"):
        assert line in body


def test_a_notebook_is_reviewed_as_its_cells(server: DeepSeekServer, repo: Path) -> None:
    for args in (("notebooks/analysis.ipynb",), ("notebooks",)):
        server.chat_requests.clear()
        report, raws = review(server, *args)
        assert [f["path"] for f in report["files"]] == ["notebooks/analysis.ipynb"]
        ((path, block),) = blocks(json.loads(raws[0]))
        assert path == "notebooks/analysis.ipynb"
        assert "# %% [code] cell 2" in block and "conn.ping()" in block
        assert '"cell_type"' not in block and "connected with token" not in block
        assert "Sx9!kQ2mLz" not in raws[0]

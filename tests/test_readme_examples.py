"""The README's examples run, against the DeepSeek test server (with plausible answers).

Convention for README.md (only marked blocks run; others are just text):

* ````` ```python title="example" ````` — executed in a fresh namespace per block, with the
  working folder a temporary one holding a copy of the repository's ``examples/``.
* ````` ```console title="example" ````` — every line starting with ``$ `` is a shell command
  (run with ``bash``; a line ending in ``\\`` continues on the next). It must exit 0, or the
  code written after it as ``# exit N`` (``$ assistants review examples/  # exit 1``). Lines
  without ``$ `` are expected output and are not checked. ``cd DIR`` and ``export NAME=VALUE``
  carry over to the next commands of the block; ``pip install ...`` lines are not run (the
  package under test is already installed).

Commands find the ``assistants`` console script of this interpreter first on ``PATH``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLES_DIR = ROOT / "examples"
COMMAND_TIMEOUT = 300

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_EXAMPLE_ATTR = re.compile(r"""\btitle\s*=\s*(["'])example\1""")
_EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
_SKIPPED = re.compile(r"^(python3? -m )?pip3? install\b")


@dataclass
class Command:
    line: int
    text: str
    exit_code: int = 0


@dataclass
class Example:
    kind: str  # "python" or "console"
    line: int  # line of the opening fence (1-based)
    code: str
    source: str = "README.md"
    commands: list[Command] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.source}:{self.line}-{self.kind}"


class ExampleFailed(AssertionError):
    """An example raised, or a command exited with another code than documented."""


def parse_examples(markdown: str, source: str = "README.md") -> list[Example]:
    """Every ``python``/``console`` fenced block marked ``title="example"``, in order."""
    lines = markdown.splitlines()
    found: list[Example] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        info = opening["info"].strip()
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = _FENCE.match(lines[j])
            if (
                closing
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"].strip()
            ):
                break
            raw = lines[j]
            strip = min(indent, len(raw) - len(raw.lstrip(" ")))
            body.append(raw[strip:])
            j += 1
        language = info.split(maxsplit=1)[0].lower() if info else ""
        if language in ("python", "console") and _EXAMPLE_ATTR.search(info):
            example = Example(language, i + 1, "\n".join(body) + "\n", source)
            if language == "console":
                example.commands = _commands(body, i + 2)
            found.append(example)
        i = j + 1
    return found


def _commands(body: list[str], first_line: int) -> list[Command]:
    commands: list[Command] = []
    k = 0
    while k < len(body):
        row = body[k]
        if not row.startswith("$ "):
            k += 1
            continue
        line = first_line + k
        text = row[2:]
        while text.endswith("\\") and k + 1 < len(body):
            k += 1
            text = text[:-1].rstrip() + " " + body[k].strip()
        code = 0
        marker = _EXIT.search(text)
        if marker:
            code = int(marker.group(1))
            text = text[: marker.start()]
        commands.append(Command(line, text.strip(), code))
        k += 1
    return commands


def example_env() -> dict[str, str]:
    """The current environment, with this interpreter's scripts first on PATH."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    env.setdefault("NO_COLOR", "1")
    env.setdefault("COLUMNS", "100")
    return env


def run_example(example: Example, workdir: Path, env: dict[str, str] | None = None) -> list[str]:
    """Run one example in ``workdir``; raise :class:`ExampleFailed` when it fails. Returns the
    output of console commands (for the tests of this runner)."""
    if example.kind == "python":
        _run_python(example, workdir)
        return []
    return _run_console(example, workdir, env or example_env())


def _run_python(example: Example, workdir: Path) -> None:
    namespace: dict[str, Any] = {"__name__": "__readme_example__"}
    here = Path.cwd()
    os.chdir(workdir)
    try:
        code = compile(example.code, f"{example.source}:{example.line}", "exec")
        exec(code, namespace)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt count as failures too
        if isinstance(exc, KeyboardInterrupt):
            raise
        detail = "".join(traceback.format_exception(exc)[-8:])
        raise ExampleFailed(
            f"{example.source} line {example.line}: the python example failed\n{detail}"
        ) from exc
    finally:
        os.chdir(here)


def _run_console(example: Example, workdir: Path, env: dict[str, str]) -> list[str]:
    cwd = workdir
    outputs = []
    for command in example.commands:
        if _SKIPPED.match(command.text):
            continue
        words = shlex.split(command.text) if command.text else []
        if words[:1] == ["cd"] and len(words) == 2:
            cwd = (cwd / os.path.expanduser(words[1])).resolve()
            continue
        if words[:1] == ["export"] and all("=" in w for w in words[1:]) and len(words) > 1:
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                env[name] = value
            continue
        bash = shutil.which("bash", path=env.get("PATH")) or "/bin/bash"
        try:
            done = subprocess.run(
                [bash, "-c", command.text],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise ExampleFailed(
                f"{example.source} line {command.line}: `{command.text}` did not finish "
                f"within {COMMAND_TIMEOUT}s"
            ) from exc
        if done.returncode != command.exit_code:
            raise ExampleFailed(
                f"{example.source} line {command.line}: `{command.text}` exited "
                f"{done.returncode}, expected {command.exit_code}\n"
                f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
            )
        outputs.append(done.stdout)
    return outputs


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A temporary working folder with a copy of the repository's examples/."""
    work = tmp_path / "work"
    work.mkdir()
    if EXAMPLES_DIR.is_dir():
        shutil.copytree(EXAMPLES_DIR, work / "examples")
    return work


@pytest.fixture
def plausible_server(server: Any) -> Any:
    from plausible_replies import plausible_reply

    server.responder = plausible_reply
    return server


# --------------------------------------------------------------------------- the README

README_EXAMPLES = parse_examples(README.read_text("utf-8")) if README.exists() else []


@pytest.mark.parametrize("example", README_EXAMPLES, ids=[e.id for e in README_EXAMPLES])
def test_readme_example(example: Example, plausible_server: Any, workdir: Path) -> None:
    run_example(example, workdir)


def test_readme_examples_parse() -> None:
    """The README parses; each console example has at least one command."""
    for example in README_EXAMPLES:
        if example.kind == "console":
            assert example.commands, f"{example.id}: a console example without `$ ` lines"


# --------------------------------------------------------------------------- the runner itself

SAMPLE = """\
# A README

Not run (no title):

```python
raise RuntimeError("not an example")
```

```python title="example"
from pathlib import Path

from assistants import chat

assert Path("examples/inventory.py").is_file()
print(chat("Say hi", system="Be brief.").content)
```

   ~~~console title='example'
   $ export GREETING=hello
   $ echo "$GREETING from" \\
       "the README"
   hello from the README
   $ cd examples
   $ test -f inventory.py
   $ pip install assistants
   $ assistants review inventory.py --fail-on high --format json  # exit 1
   ~~~

```console title="example"
$ assistants math solve "What is $2+3$?"
```
"""


def test_parse_examples() -> None:
    examples = parse_examples(SAMPLE, "SAMPLE.md")
    assert [(e.kind, e.line) for e in examples] == [
        ("python", 9),
        ("console", 18),
        ("console", 29),
    ]
    assert "not an example" not in examples[0].code
    assert examples[0].code.startswith("from pathlib import Path\n")
    console = examples[1]
    assert [(c.line, c.text, c.exit_code) for c in console.commands] == [
        (19, "export GREETING=hello", 0),
        (20, 'echo "$GREETING from" "the README"', 0),
        (23, "cd examples", 0),
        (24, "test -f inventory.py", 0),
        (25, "pip install assistants", 0),
        (26, "assistants review inventory.py --fail-on high --format json", 1),
    ]
    assert examples[1].id == "SAMPLE.md:18-console"


def test_runner_runs_python_and_console_examples(
    plausible_server: Any, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python, console, math = parse_examples(SAMPLE, "SAMPLE.md")
    run_example(python, workdir)
    assert "Say hi" in capsys.readouterr().out  # the test server's answer quotes the question
    outputs = run_example(console, workdir)
    assert outputs[0] == "hello from the README\n"
    assert '"findings"' in outputs[-1] and "SQL" in outputs[-1]
    (answer,) = run_example(math, workdir)
    assert "5" in answer
    requests = plausible_server.chat_requests
    assert len(requests) >= 3 and all(r.status == 200 for r in requests)


def test_runner_fails_on_a_failing_python_example(workdir: Path) -> None:
    (bad,) = parse_examples('```python title="example"\nx = 1\nassert x == 2, "no"\n```\n')
    with pytest.raises(ExampleFailed, match=r"README.md line 1: the python example failed"):
        run_example(bad, workdir)


def test_runner_fails_on_a_wrong_exit_code(plausible_server: Any, workdir: Path) -> None:
    text = (
        '```console title="example"\n'
        "$ test -d examples\n"  # exits 0: fine
        "$ assistants review examples/ --fail-on high\n"  # a high finding: exits 1, not 0
        "```\n"
    )
    (example,) = parse_examples(text)
    with pytest.raises(ExampleFailed, match=r"line 3: .* exited 1, expected 0"):
        run_example(example, workdir)
    (unknown,) = parse_examples('```console title="example"\n$ assistants no-such-command\n```')
    with pytest.raises(ExampleFailed, match="exited 2, expected 0"):
        run_example(unknown, workdir)
    (wrong,) = parse_examples('```console title="example"\n$ true  # exit 3\n```')
    with pytest.raises(ExampleFailed, match="exited 0, expected 3"):
        run_example(wrong, workdir)

"""The command group: help everywhere, lazy imports, library errors as one line with a hint."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from cli_runner import one_line_error, run
from click.testing import CliRunner
from deepseek_server import DeepSeekServer, Reply

from assistants import __version__, errors
from assistants.cli import cli


def walk(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield (*prefix, name), command
        default = getattr(command, "default_name", None)
        if default:  # a group that runs a default command (`review PATHS`) when none is named
            yield (*prefix, name, "(default)"), command.commands[default]
        if isinstance(command, click.Group):
            sub = click.Context(command, info_name=name, parent=ctx)
            yield from walk(command, sub, (*prefix, name))


ALL_COMMANDS = list(walk(cli, click.Context(cli, info_name="assistants")))


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("path", [p for p, _ in ALL_COMMANDS], ids=" ".join)
def test_every_command_and_option_has_help(path: tuple[str, ...]) -> None:
    command = dict(ALL_COMMANDS)[path]
    assert (command.help or command.short_help or "").strip(), f"{path} has no help text"
    for param in command.params:
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"{' '.join(path)} {param.opts} has no help"
    result = CliRunner().invoke(cli, [*[p for p in path if p != "(default)"], "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from assistants.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('langchain_core', 'langchain_deepseek', 'openai', 'pypdf',"
        " 'rich', 'math_verify', 'jinja2', 'sqlalchemy', 'psycopg') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout, out.stdout


def test_missing_key_is_one_line_with_hint() -> None:
    result = CliRunner().invoke(cli, ["chat", "hello"])
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: no API key: DEEPSEEK_API_KEY is not set"
    assert "ASSISTANTS_BASE_URL" in lines[1] and len(lines) == 2


def test_cli_one_line_error_on_401(server, monkeypatch) -> None:
    from click.testing import CliRunner

    from assistants.cli import cli

    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-bad-key-0000000000000000")
    result = CliRunner().invoke(cli, ["chat", "hi"])
    assert result.exit_code == errors.AuthenticationError.exit_code == 5
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: the API rejected the key (HTTP 401)"
    assert lines[1].startswith("hint: ")
    assert len(lines) == 2
    assert "Traceback" not in result.output


def test_cli_malformed_body_is_one_line(server: DeepSeekServer, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    server.enqueue(Reply(raw_body="<html>hi</html>", raw_content_type="text/html"))
    result = run("chat", "q")
    assert result.exit_code == 5
    assert "not a chat completion" in one_line_error(result)


EXIT_PROBE = """
import atexit, sys, threading, time
from pathlib import Path
out = Path(sys.argv[1])
atexit.register(lambda: (out / "atexit").write_text("ran"))
def late():
    time.sleep(0.2)
    (out / "thread").write_text("ran")
threading.Thread(target=late).start()  # not a daemon: the process waits for it
sys.argv = ["assistants", *sys.argv[2:]]
from assistants.cli import main
main()
print("main returned", file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("args", "status", "stdout", "stderr"),
    [
        (["--version"], 0, "assistants, version", ""),
        (["no-such-command"], 2, "", "No such command"),
    ],
    ids=["ok", "usage-error"],
)
def test_the_process_ends_with_the_commands_status_after_its_exit_work(
    tmp_path, args: list[str], status: int, stdout: str, stderr: str
) -> None:
    """The console script leaves without the interpreter's teardown, but only after what a
    normal exit does: non-daemon threads finish, atexit handlers run, output is flushed."""
    proc = subprocess.run(
        [sys.executable, "-c", EXIT_PROBE, str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == status, proc.stderr
    assert stdout in proc.stdout and stderr in proc.stderr
    assert "main returned" not in proc.stderr  # main() ends the process
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "thread").read_text() == "ran"
    assert "Traceback" not in proc.stderr


def test_main_with_arguments_returns_to_its_caller() -> None:
    """Called as a function (``main([...])``), it raises SystemExit as click does."""
    with pytest.raises(SystemExit) as exit_info:
        from assistants.cli import main

        main(["--version"])
    assert exit_info.value.code == 0


INTERRUPT_PROBE = """
import sys, threading, time
from pathlib import Path
flag = Path(sys.argv[1])
main_id = threading.main_thread().ident
def slow():  # waits until the main thread is ending, says so, then keeps it waiting
    while True:
        frame = sys._current_frames().get(main_id)
        names = set()
        while frame is not None:
            names.add(frame.f_code.co_name)
            frame = frame.f_back
        if "_exit_now" in names:
            break
        time.sleep(0.01)
    flag.write_text("ending")
    time.sleep(120)
threading.Thread(target=slow).start()
sys.argv = ["assistants", "--version"]
from assistants.cli import main
main()
"""


def test_ctrl_c_while_threads_finish_ends_as_interrupted(tmp_path) -> None:
    import signal
    import time

    flag = tmp_path / "flag"
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPT_PROBE, str(flag)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert flag.exists(), "the probe never reached the exit"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == errors.EXIT_INTERRUPTED == 130, err
    assert "assistants, version" in out
    assert err.strip() == "interrupted" and "Traceback" not in err

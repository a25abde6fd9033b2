"""Running a composite action's steps the way the Actions runner does, without GitHub.

:func:`run_action` reads ``action.yml``, resolves the ``${{ ... }}`` expressions a step uses
(``inputs.*`` with the action's defaults, ``github.*``, ``runner.*``, ``steps.<id>.outputs.*``
from what earlier steps wrote to ``GITHUB_OUTPUT``), runs every ``run:`` step with its ``shell``
and ``env`` in a simulated environment (``GITHUB_*`` variables, an event file, fresh
``GITHUB_OUTPUT`` / ``GITHUB_ENV`` files per step) and records each ``uses:`` step with its
resolved ``with:`` instead of running it. Steps named in ``skip`` are recorded, not run
(``pip install`` of the package the tests already run). An ``if:`` is evaluated for the few
forms the action uses (``always()``, ``==``/``!=`` of expressions and quoted strings, ``&&``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ActionRun", "StepResult", "load_action", "run_action"]

_EXPR = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


@dataclass
class StepResult:
    name: str
    id: str | None
    ran: bool
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    uses: str | None = None
    with_: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRun:
    steps: list[StepResult]

    def step(self, id_or_name: str) -> StepResult:
        return next(s for s in self.steps if id_or_name in (s.id, s.name))

    @property
    def failed(self) -> StepResult | None:
        return next((s for s in self.steps if s.ran and s.returncode), None)


def load_action(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _outputs(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                found[key] = value
    return found


def run_action(
    action_dir: Path,
    *,
    inputs: dict[str, str],
    env: dict[str, str],
    github: dict[str, str],
    runner_temp: Path,
    skip: tuple[str, ...] = (),
    timeout: float = 600,
) -> ActionRun:
    """Run ``action_dir/action.yml`` (see the module docstring). ``env`` is the runner's
    environment (``GITHUB_*`` and the like), ``github`` the ``github`` context."""
    action = load_action(action_dir / "action.yml")
    values = {k: str(v.get("default", "")) for k, v in (action.get("inputs") or {}).items()}
    values.update(inputs)
    context = {
        "inputs": values,
        "github": {"action_path": str(action_dir), **github},
        "runner": {"temp": str(runner_temp), "os": "Linux"},
    }
    outputs: dict[str, dict[str, str]] = {}
    results: list[StepResult] = []
    failed = False

    def value(expr: str) -> Any:
        expr = expr.strip()
        if expr.startswith("'") and expr.endswith("'"):
            return expr[1:-1]
        parts = expr.split(".")
        if parts[0] == "steps":
            assert len(parts) == 4 and parts[2] == "outputs", expr
            return outputs.get(parts[1], {}).get(parts[3], "")
        section = context[parts[0]]
        assert len(parts) == 2 and parts[1] in section, f"unknown expression {expr}"
        return substitute(section[parts[1]])  # an input's default may be an expression

    def substitute(text: str) -> str:
        return _EXPR.sub(lambda m: str(value(m.group(1))), str(text))

    def condition(text: str) -> bool:
        text = _EXPR.sub(lambda m: m.group(1), str(text)).strip()
        verdict = True
        for part in text.split("&&"):
            part = part.strip()
            if part == "always()":
                continue
            m = re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", part)
            assert m, f"cannot evaluate {part!r}"
            same = value(m.group(1)) == value(m.group(3))
            verdict = verdict and (same if m.group(2) == "==" else not same)
        always = "always()" in text
        return verdict and (always or not failed)

    for number, step in enumerate(action["runs"]["steps"]):
        name = step.get("name", f"step {number}")
        result = StepResult(name=name, id=step.get("id"), ran=False)
        results.append(result)
        if "if" in step and not condition(step["if"]):
            continue
        if step.get("uses"):
            result.uses = step["uses"]
            result.with_ = {k: substitute(v) for k, v in (step.get("with") or {}).items()}
            continue
        if failed or name in skip:
            continue
        out_file = runner_temp / f"output-{number}"
        env_file = runner_temp / f"env-{number}"
        step_env = {
            **env,
            **{k: substitute(v) for k, v in (step.get("env") or {}).items()},
            "GITHUB_OUTPUT": str(out_file),
            "GITHUB_ENV": str(env_file),
            "GITHUB_ACTION_PATH": str(action_dir),
            "RUNNER_TEMP": str(runner_temp),
            "RUNNER_OS": "Linux",
        }
        assert step["shell"] == "bash", "the test runs bash steps"
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", substitute(step["run"])],
            cwd=env["GITHUB_WORKSPACE"],
            env=step_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result.ran = True
        result.returncode = proc.returncode
        result.stdout, result.stderr = proc.stdout, proc.stderr
        result.outputs = _outputs(out_file)
        if result.id:
            outputs[result.id] = result.outputs
        failed = failed or proc.returncode != 0
    return ActionRun(results)


def base_env(workspace: Path, **extra: str) -> dict[str, str]:
    """The environment of a job: this Python's bin folder first on PATH (``assistants`` and
    ``python`` are the ones under test), no ASSISTANTS_/DEEPSEEK_/GITHUB_ variables of ours."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ASSISTANTS_", "DEEPSEEK_", "GITHUB_", "RUNNER_"))
    }
    keep["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{keep.get('PATH', '')}"
    keep["GITHUB_WORKSPACE"] = str(workspace)
    keep["GITHUB_ACTIONS"] = "true"
    keep.update(extra)
    return keep

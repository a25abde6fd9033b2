"""Which projects the user trusts with the settings that decide where the key goes.

A project (a folder with a ``pyproject.toml`` and/or a ``.env``) may set its own review rules,
but the endpoint, the key, prompt overrides, the price file, the cache, ledger and data
paths and where papers are downloaded from (``arxiv_url``, ``arxiv_api_url``, ``doi_url``) are
taken from it only after the user said so: ``assistants trust [PATH]`` records the
folder and a hash of its configuration in ``trust.json`` beside the user config file. A
changed configuration no longer matches the hash and is untrusted again (the model is
``direnv allow``). Nothing here prints; callers decide how to tell the user.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "TRUSTED_KEYS",
    "Project",
    "TrustRecord",
    "project_at",
    "revoke",
    "trust",
    "trusted_projects",
    "user_config_dir",
    "user_config_file",
]

# Settings a project's own files may set only when the project is trusted (DESIGN §8).
TRUSTED_KEYS = frozenset(
    {
        "api_key",
        "base_url",
        "api_flavor",
        "prompts_dir",
        "price_file",
        "cache_path",
        "ledger_path",
        "store_url",
        "cache_url",
        "ledger_url",
        "data_dir",
        "arxiv_url",
        "arxiv_api_url",
        "doi_url",
    }
)


def user_config_dir() -> Path:
    """The user's own configuration folder (``ASSISTANTS_CONFIG_DIR`` moves it)."""
    override = os.environ.get("ASSISTANTS_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_dir as platform_dir

    return Path(platform_dir("assistants", appauthor=False))


def user_config_file() -> Path:
    """``config.toml`` in :func:`user_config_dir`: the same keys as ``[tool.assistants]``."""
    return user_config_dir() / "config.toml"


def _trust_file() -> Path:
    return user_config_dir() / "trust.json"


@dataclass(frozen=True)
class Project:
    """The project whose files the settings would read: its folder and its config files."""

    root: Path
    pyproject: Path | None
    dotenv: Path | None

    def digest(self) -> str:
        """A hash of everything in the project that can set a trusted key: the
        ``[tool.assistants]`` table, the ``.env`` file and the files of a prompt folder that
        either names inside the project."""
        table = _assistants_table(self.pyproject) if self.pyproject else {}
        env_bytes = _read_bytes(self.dotenv) if self.dotenv else b""
        h = hashlib.sha256()
        h.update(json.dumps(table, sort_keys=True, default=str).encode())
        h.update(b"\0.env\0")
        h.update(env_bytes)
        for folder in self._prompt_folders(table, env_bytes):
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                h.update(b"\0" + str(path.relative_to(folder)).encode() + b"\0")
                h.update(_read_bytes(path))
        return h.hexdigest()

    def _prompt_folders(self, table: dict[str, Any], env_bytes: bytes) -> list[Path]:
        names = []
        if isinstance(table.get("prompts_dir"), str):
            names.append(table["prompts_dir"])
        for line in env_bytes.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip().removeprefix("export ").strip().upper() == "ASSISTANTS_PROMPTS_DIR":
                names.append(value.strip().strip("'\""))
        folders = []
        for name in names:
            folder = (self.root / name).expanduser()
            if folder.is_dir():
                folders.append(folder.resolve())
        return folders


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _assistants_table(pyproject: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"unreadable": True}
    tool = data.get("tool", {})
    table = tool.get("assistants", {}) if isinstance(tool, dict) else {}
    return table if isinstance(table, dict) else {"not-a-table": True}


def project_at(start: Path | None = None) -> Project:
    """The project seen from ``start`` (default: the working directory): the folder of the
    nearest ``pyproject.toml`` upwards (else ``start``), and the ``.env`` the settings read
    (the one in ``start``)."""
    here = (start or Path.cwd()).resolve()
    pyproject = None
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            pyproject = candidate
            break
    dotenv = here / ".env"
    root = pyproject.parent if pyproject else here
    return Project(root=root, pyproject=pyproject, dotenv=dotenv if dotenv.is_file() else None)


@dataclass(frozen=True)
class TrustRecord:
    root: Path
    digest: str
    trusted_at: str

    def matches(self, project: Project) -> bool:
        return self.root == project.root and self.digest == project.digest()


def _load() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(_trust_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    projects = data.get("projects") if isinstance(data, dict) else None
    return projects if isinstance(projects, dict) else {}


def _save(projects: dict[str, dict[str, str]]) -> None:
    path = _trust_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".trust-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"projects": projects}, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)


def trusted_projects() -> list[TrustRecord]:
    return [
        TrustRecord(Path(root), str(rec.get("digest", "")), str(rec.get("trusted_at", "")))
        for root, rec in sorted(_load().items())
        if isinstance(rec, dict)
    ]


def is_trusted(project: Project) -> bool:
    record = _load().get(str(project.root))
    return isinstance(record, dict) and record.get("digest") == project.digest()


def trust(project: Project) -> TrustRecord:
    """Record ``project`` (its folder and the hash of its configuration) as trusted."""
    projects = _load()
    record = TrustRecord(
        project.root, project.digest(), datetime.now(timezone.utc).isoformat(timespec="seconds")
    )
    projects[str(project.root)] = {"digest": record.digest, "trusted_at": record.trusted_at}
    _save(projects)
    return record


def revoke(project: Project) -> bool:
    """Forget ``project``; False when it was not recorded."""
    projects = _load()
    if projects.pop(str(project.root), None) is None:
        return False
    _save(projects)
    return True

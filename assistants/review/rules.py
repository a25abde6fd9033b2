"""Which review rules apply to a change: a change cannot weaken its own review (DESIGN §8).

In the diff modes (``--diff REF``, ``--staged``, the hook) the project's review rules, the
``[tool.assistants.review]`` table of its ``pyproject.toml`` (include, exclude, fail_on,
instructions, the house rules by path in ``review.paths``, budgets) and the prompt folder its
``prompts_dir`` names, are read from the base of the diff (REF, the left side of ``A..B``;
HEAD for staged changes) instead of the working tree the change edits; so is the project's
guide, REVIEW.md / AGENTS.md (:func:`assistants.review.house.load_guide`, given the base
from :func:`base_ref`). Only the project's own pyproject layer is swapped: what the user set
(arguments, environment, ``.env``) still wins, and the user config file still fills in below.
REF's prompt folder is used only when that version of the project is trusted (the digest of
:mod:`assistants.trust`, computed over REF's files). When the result differs from the working
tree's settings, one notice says so; ``config_from="worktree"`` keeps the working tree's.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from .. import git
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..config import Settings
    from ..trust import Project

__all__ = ["ConfigFrom", "base_ref", "diff_rules"]

log = logging.getLogger("assistants")

ConfigFrom = Literal["ref", "worktree"]
"""Where the review rules of a diff come from: the diff's base (``ref``) or the working tree."""

_ABOVE_PROJECT = {"argument", "environment", ".env"}  # sources that outrank pyproject.toml
_HINT = "fix it there, or use --config-from worktree to read the working tree's settings"


def base_ref(ref: str | None, *, staged: bool, root: Path) -> tuple[str, str]:
    """(the tree-ish the diff starts from, its name for messages): ``ref``, the left side of
    ``A..B`` / ``A...B``, else HEAD (also for staged changes); before the first commit, the
    empty tree."""
    name = ref or "HEAD"
    if ".." in name:
        name = (name.partition("...") if "..." in name else name.partition(".."))[0] or "HEAD"
    if name == "HEAD" and not git.has_commits(root):
        return git.empty_tree(root), "the empty tree (no commit yet)"
    return name, name


def diff_rules(
    settings: Settings,
    ref: str | None = None,
    *,
    staged: bool = False,
    repo: str | Path = ".",
    config_from: ConfigFrom = "ref",
) -> Settings:
    """``settings`` (loaded for the current folder) with the review rules of the diff's base:
    its ``[tool.assistants.review]`` and, when that version of the project is trusted, its
    prompt folder. Logs one notice when they differ from the working tree's; returns
    ``settings`` itself when nothing differs or ``config_from`` is ``"worktree"``."""
    from ..trust import project_at

    if config_from == "worktree":
        return settings
    start = Path(repo).expanduser().resolve()
    top = git.toplevel(start) if start.exists() else None
    if top is None:
        return settings  # not a repository: the diff itself says so
    try:
        here = Path.cwd().resolve().relative_to(top)
    except ValueError:
        return settings  # the settings were read outside this repository
    base, name = base_ref(ref, staged=staged, root=top)
    project = project_at()
    candidates = [
        (PurePosixPath(*here.parts[:n]) / "pyproject.toml").as_posix()
        for n in range(len(here.parts), -1, -1)
    ]
    present = set(git.tree_files(top, base, candidates))
    at_ref = next((c for c in candidates if c in present), None)
    if at_ref is None and not (project.pyproject and _inside(project.pyproject, top)):
        return settings  # no project file in this repository, then or now
    theirs_text = git.show(top, base, at_ref) if at_ref else b""
    theirs = _table(theirs_text, f"{name}:{at_ref}")
    ours = (
        _table(project.pyproject.read_bytes(), str(project.pyproject)) if project.pyproject else {}
    )
    if _rules(ours) == _rules(theirs) and theirs.get("prompts_dir") is None:
        return settings

    from pydantic import ValidationError

    from ..config import ReviewSettings, describe_settings

    above = {row.name for row in describe_settings(settings) if row.source in _ABOVE_PROJECT}
    user = _user_table()
    merged = {**_mapping(user.get("review")), **_mapping(theirs.get("review"))}
    merged.update(
        {
            k: getattr(settings.review, k)
            for k in ReviewSettings.model_fields
            if f"review.{k}" in above or any(n.startswith(f"review.{k}.") for n in above)
        }
    )
    try:
        review = ReviewSettings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"invalid review setting in [tool.assistants] of {name}:{at_ref}: "
            f"review.{where}: {first['msg']}",
            hint=_HINT,
        ) from None

    prompts_dir = settings.prompts_dir if "prompts_dir" in above else _path(user.get("prompts_dir"))
    wanted = theirs.get("prompts_dir")
    if "prompts_dir" not in above and isinstance(wanted, str) and at_ref:
        folder = _checkout(top, base, name, at_ref, theirs_text, wanted, project)
        if folder is not None:
            prompts_dir = folder
        elif ours.get("prompts_dir") != wanted or settings.prompts_dir is not None:
            # (the same setting in the working tree was already dropped with a warning)
            log.warning(
                "warning: %s:%s sets prompts_dir: ignored, that version of the project is not "
                "trusted (`assistants trust` on a checkout of it allows it)",
                name,
                at_ref,
            )
    if review == settings.review and _same_folder(prompts_dir, settings.prompts_dir):
        return settings
    source = f"{name}'s pyproject.toml" if at_ref else f"{name} (no pyproject.toml there)"
    log.warning(
        "notice: review settings come from %s (the change edits them); "
        "--config-from worktree to use the working tree's",
        source,
    )
    return settings.model_copy(update={"review": review, "prompts_dir": prompts_dir})


def _inside(path: Path, top: Path) -> bool:
    try:
        path.resolve().relative_to(top)
    except ValueError:
        return False
    return True


def _rules(table: dict[str, Any]) -> tuple[Any, Any]:
    return table.get("review"), table.get("prompts_dir")


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _path(value: Any) -> Path | None:
    return Path(value) if isinstance(value, str) else None


def _table(
    raw: bytes, where: str, keys: tuple[str, ...] = ("tool", "assistants")
) -> dict[str, Any]:
    """The ``[tool.assistants]`` table of a pyproject.toml's bytes (none: empty)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        table: Any = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}", hint=_HINT) from None
    for key in keys:
        table = table.get(key, {}) if isinstance(table, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.assistants] in {where} is not a table", hint=_HINT)
    return table


def _user_table() -> dict[str, Any]:
    """The user's own config file (below the project's settings); load_settings has read it
    already, so a broken file never gets here."""
    from ..trust import user_config_file

    try:
        return _table(user_config_file().read_bytes(), "", keys=())
    except (OSError, ConfigError):
        return {}


def _checkout(
    top: Path,
    base: str,
    name: str,
    at_ref: str,
    pyproject: bytes,
    wanted: str,
    project: Project,
) -> Path | None:
    """REF's prompt folder (``wanted``, relative to REF's project folder), copied out of git
    into a temporary folder; None when that version of the project is not trusted."""
    from ..trust import Project, trusted_projects

    root_rel = PurePosixPath(at_ref).parent
    folder = Path(os.path.normpath(top / root_rel / Path(wanted).expanduser()))
    temp = Path(tempfile.mkdtemp(prefix="assistants-rules-"))
    atexit.register(shutil.rmtree, temp, True)
    _put(temp / at_ref, pyproject)
    if _inside(folder, top):
        rel = folder.relative_to(top).as_posix()
        for path in git.tree_files(top, base, [rel]):
            _put(temp / path, git.show(top, base, path))
        folder = temp / rel
    at_base = Project(root=temp / root_rel, pyproject=temp / at_ref, dotenv=project.dotenv)
    record = next((r for r in trusted_projects() if r.root == top / root_rel), None)
    if record is None or record.digest != at_base.digest():
        return None
    if not folder.is_dir():
        raise ConfigError(
            f"{name}:{at_ref} sets prompts_dir = {wanted!r}, but {name} has no such folder",
            hint=_HINT,
        )
    return folder


def _put(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _same_folder(a: Path | None, b: Path | None) -> bool:
    """Whether two prompt folders hold the same files (None: no folder)."""
    return _files(a) == _files(b)


def _files(folder: Path | None) -> dict[str, bytes] | None:
    if folder is None:
        return None
    root = folder.expanduser()
    if not root.is_dir():
        return {"": str(root).encode()}  # missing: equal only to the same missing path
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}

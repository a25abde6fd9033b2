"""Every git call of ``assistants``, in one place.

Small typed functions over one private runner (:func:`_run`) that gives each call a time limit
and reads paths as git prints them (``core.quotepath=off``, names that are not UTF-8 kept with
``surrogateescape``). A call whose failure the user must hear about raises
:class:`~assistants.errors.InputError` with a one-line message; questions ("is this a work
tree?", "is anything staged?") answer ``None`` or ``False`` instead when git cannot tell.
Nothing heavier than :mod:`subprocess` is imported: the pre-commit hook asks
:func:`nothing_staged` before anything else is loaded.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .errors import InputError

__all__ = [
    "EMPTY_TREE",
    "TIMEOUT",
    "diff",
    "empty_tree",
    "has_commits",
    "ignored",
    "listed_files",
    "nothing_staged",
    "pushed_range",
    "rev_parse",
    "show",
    "snapshot",
    "toplevel",
    "tree_files",
]

TIMEOUT = 60.0  # seconds for one git call
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # of a SHA-1 repository
_REF_HINT = "check the ref (e.g. --diff main, --diff HEAD~1) and that this is a git repo"


def _run(
    *args: str,
    root: Path | None = None,
    stdin: bytes | None = None,
    check: bool = False,
    hint: str | None = None,
) -> subprocess.CompletedProcess[bytes] | None:
    """Run ``git args`` (in ``root``, else the current folder). Without ``check``: None when
    git could not be run or did not finish in time. With ``check``: an
    :class:`~assistants.errors.InputError` for that and for a non-zero exit."""
    where = ["-C", str(root)] if root is not None else []
    command = ["git", *where, "-c", "core.quotepath=off", *args]
    try:
        proc = subprocess.run(
            command, input=stdin, capture_output=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        if check:
            raise InputError(
                f"git {args[0]} did not finish within {TIMEOUT:g}s", hint=hint
            ) from None
        return None
    except OSError as exc:  # git not installed, or the folder is gone
        if check:
            raise InputError(f"git {args[0]} failed: {exc.strerror or exc}", hint=hint) from None
        return None
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(
            f"git {args[0]} failed: {message[0] if message else proc.returncode}", hint=hint
        )
    return proc


def _out(*args: str, root: Path | None = None) -> str | None:
    """The stripped output of a git call that succeeded, else None."""
    proc = _run(*args, root=root)
    if proc is None or proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", "surrogateescape").strip()


# -- the work tree ------------------------------------------------------------------------
def toplevel(path: Path) -> Path | None:
    """The top of the git work tree containing ``path``, or None outside git."""
    folder = path if path.is_dir() else path.parent
    top = _out("rev-parse", "--show-toplevel", root=folder)
    return Path(top).resolve() if top else None


def listed_files(root: Path, specs: Sequence[str]) -> list[str]:
    """Tracked files plus untracked files that are not ignored, under ``specs`` (paths
    relative to ``root``), as git lists them (``ls-files --cached --others
    --exclude-standard``)."""
    proc = _run(
        "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *specs,
        root=root,
        check=True,
        hint="check that the paths are inside a readable git work tree",
    )  # fmt: skip
    assert proc is not None
    return [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def ignored(root: Path, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` (relative to ``root``) the ignore rules match, tracked or not."""
    if not paths:
        return set()
    proc = _run(
        "check-ignore", "-z", "--stdin", "--no-index",
        root=root,
        stdin="\0".join(paths).encode("utf-8", "surrogateescape"),
    )  # fmt: skip
    out = proc.stdout.decode("utf-8", "surrogateescape") if proc is not None else ""
    return {Path(p).as_posix() for p in out.split("\0") if p}


# -- commits and diffs --------------------------------------------------------------------
def has_commits(root: Path | None = None) -> bool:
    """True when ``HEAD`` names a commit (False in a repository with no commit yet)."""
    return bool(_out("rev-parse", "--verify", "-q", "HEAD", root=root))


def empty_tree(root: Path | None = None) -> str:
    """The id of the empty tree in this repository's object format (what a first commit is
    compared with)."""
    return _out("hash-object", "-t", "tree", "/dev/null", root=root) or EMPTY_TREE


def diff(root: Path, *refs: str, cached: bool = False, context_lines: int = 3) -> str:
    """``git diff`` (renames found, no colour, no external diff tool): the index with
    ``cached``, else the working tree, against ``refs`` (a commit, or ``A..B`` / ``A...B``)."""
    proc = _run(
        "diff", "--no-color", "--no-ext-diff", "--find-renames", f"-U{context_lines}",
        *(["--cached"] if cached else []), *refs, "--",
        root=root,
        check=True,
        hint=_REF_HINT,
    )  # fmt: skip
    assert proc is not None
    return proc.stdout.decode("utf-8", "surrogateescape")


def rev_parse(root: Path, ref: str) -> str:
    """The full commit id ``ref`` names (an :class:`~assistants.errors.InputError` when it
    names none)."""
    proc = _run("rev-parse", "--verify", "-q", "--end-of-options", f"{ref}^{{commit}}", root=root,
                check=True, hint=_REF_HINT)  # fmt: skip
    assert proc is not None
    return proc.stdout.decode("ascii", "replace").strip()


def show(root: Path, ref: str, path: str) -> bytes:
    """The content of ``path`` at ``ref`` (``""``: the index)."""
    proc = _run("show", f"{ref}:{path}", root=root, check=True, hint=_REF_HINT)
    assert proc is not None
    return proc.stdout


def snapshot(root: Path) -> str:
    """Make ``root`` a repository (if it is not one) holding its files in the index, and return
    the id of that tree: what the working tree is compared with after the files change (the
    reviewer's benchmark builds one such repository per diff; no commit, so no identity)."""
    hint = "the reviewer's benchmark needs git and a writable temporary folder"
    _run("init", "-q", root=root, check=True, hint=hint)
    _run("add", "-A", "-f", root=root, check=True, hint=hint)
    proc = _run("write-tree", root=root, check=True, hint=hint)
    assert proc is not None
    return proc.stdout.decode("ascii").strip()


def tree_files(root: Path, ref: str, paths: Sequence[str]) -> list[str]:
    """The files at ``ref`` that are ``paths`` or lie under them (paths relative to ``root``;
    none there: an empty list)."""
    if not paths:
        return []
    proc = _run(
        "ls-tree", "-r", "-z", "--name-only", ref, "--", *paths,
        root=root,
        check=True,
        hint=_REF_HINT,
    )  # fmt: skip
    assert proc is not None
    return [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


# -- the pre-commit hook ------------------------------------------------------------------
def nothing_staged() -> bool:
    """True only when git says for certain that the index matches HEAD."""
    proc = _run("diff", "--cached", "--quiet", "--exit-code")
    return proc is not None and proc.returncode == 0


def pushed_range() -> tuple[bool, str | None]:
    """At the pre-push stage (pre-commit's environment): (True, the diff of what is pushed, or
    None when nothing is). Outside a push: (False, None).

    pre-commit gives the remote's commit as from-ref; a new branch (a from-ref of zeros, or
    no from-ref when the whole history is pushed) is reviewed from the parent of its first
    commit that no remote has, as pre-commit itself computes it; a root commit is compared
    with the empty tree. A to-ref of zeros deletes a remote branch: nothing to review."""
    from_ref = os.environ.get("PRE_COMMIT_FROM_REF", "")
    to_ref = os.environ.get("PRE_COMMIT_TO_REF", "")
    if not to_ref and not from_ref and os.environ.get("PRE_COMMIT_REMOTE_BRANCH"):
        to_ref = os.environ.get("PRE_COMMIT_LOCAL_BRANCH", "")  # the whole history
    if not to_ref:
        return False, None
    if not to_ref.strip("0"):
        return True, None
    if from_ref.strip("0"):
        return True, f"{from_ref}...{to_ref}"
    listed = _out("rev-list", to_ref, "--topo-order", "--reverse", "--not", "--remotes")
    if listed is None:
        return True, f"{from_ref}...{to_ref}"  # let the diff report the git error
    if not listed:
        return True, None
    first = listed.split()[0]
    base = _out("rev-parse", "--verify", "-q", f"{first}^")
    if not base:  # the first commit ever: everything is new
        base = _out("hash-object", "-t", "tree", "/dev/null") or first
    return True, f"{base}..{to_ref}"

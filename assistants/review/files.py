"""Source files for review: which files, in which language, and which are skipped and why.

Selection is git-aware: inside a work tree the candidates are ``git ls-files --cached --others
--exclude-standard`` (tracked files plus untracked files that are not ignored); outside git the
folders are walked and every ``.gitignore`` met on the way is applied with :mod:`pathspec`.
Binary, lock, minified, generated, oversized, empty and ``.env``-like files are never sent:
each one is listed in :attr:`Selection.skipped` with its reason.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pathspec

from .. import git
from ..errors import InputError
from .notebooks import is_notebook, notebook_source
from .secrets import is_env_file

__all__ = [
    "LANGUAGES",
    "SKIP_REASONS",
    "FileStream",
    "Selection",
    "SkippedPath",
    "SourceFile",
    "apply_globs",
    "check_content",
    "check_name",
    "detect_language",
    "printable",
    "select_files",
    "stream_files",
]

# extension (lower case) -> language
LANGUAGES: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".go": "go", ".rs": "rust", ".java": "java", ".kt": "kotlin", ".kts": "kotlin",
    ".scala": "scala", ".groovy": "groovy", ".gradle": "groovy",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
    ".hh": "cpp", ".hxx": "cpp", ".cs": "csharp", ".m": "objective-c", ".mm": "objective-c",
    ".swift": "swift", ".rb": "ruby", ".php": "php", ".pl": "perl", ".pm": "perl",
    ".lua": "lua", ".r": "r", ".jl": "julia", ".dart": "dart", ".ex": "elixir",
    ".exs": "elixir", ".erl": "erlang", ".hs": "haskell", ".ml": "ocaml", ".fs": "fsharp",
    ".clj": "clojure", ".zig": "zig", ".nim": "nim", ".vue": "vue", ".svelte": "svelte",
    ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".fish": "shell", ".ps1": "powershell",
    ".sql": "sql", ".html": "html", ".htm": "html", ".css": "css", ".scss": "scss",
    ".sass": "scss", ".less": "less", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml",
    ".json": "json", ".xml": "xml", ".tf": "terraform", ".hcl": "terraform",
    ".proto": "protobuf", ".graphql": "graphql", ".gql": "graphql", ".cfg": "ini",
    ".ini": "ini", ".cmake": "cmake", ".mk": "make", ".sol": "solidity",
}  # fmt: skip
_NAMED_LANGUAGES = {
    "dockerfile": "dockerfile", "containerfile": "dockerfile", "makefile": "make",
    "gnumakefile": "make", "cmakelists.txt": "cmake", "jenkinsfile": "groovy",
    "rakefile": "ruby", "gemfile": "ruby", "vagrantfile": "ruby", "justfile": "make",
}  # fmt: skip

SKIP_REASONS = {
    "binary": "binary file",
    "not-utf8": "not UTF-8 text",
    "lock": "lock file",
    "minified": "minified file",
    "generated": "generated file",
    "too-large": "larger than the size limit",
    "empty": "empty file",
    "env-file": ".env-like or key file (may hold secrets; never sent)",
    "not-code": "not source code",
    "excluded": "matches an exclude glob",
    "ignored": "ignored by .gitignore",
    "missing": "does not exist",
    "deleted": "deleted by the change",
    "deletions-only": "the change only deletes lines",
    "unchanged": "no content change (rename or mode only)",
    "symlink": "symbolic link (not followed)",
    "submodule": "git submodule or nested repository",
}

_LOCK_NAMES = {
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
    "poetry.lock", "pipfile.lock", "pdm.lock", "uv.lock", "cargo.lock", "composer.lock",
    "gemfile.lock", "go.sum", "flake.lock", "mix.lock", "pubspec.lock", "podfile.lock",
    "packages.lock.json", "gradle.lockfile", "conda-lock.yml", "deno.lock",
}  # fmt: skip
_BINARY_EXT = {
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif", ".tiff", ".psd",
    ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".jar", ".war",
    ".whl", ".egg", ".so", ".dll", ".dylib", ".exe", ".o", ".a", ".lib", ".class", ".pyc",
    ".pyo", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4", ".wav", ".ogg",
    ".mov", ".avi", ".mkv", ".flac", ".sqlite", ".sqlite3", ".db", ".parquet", ".npy",
    ".npz", ".pkl", ".pickle", ".bin", ".dat", ".onnx", ".pt", ".safetensors", ".h5",
}  # fmt: skip
_GENERATED_NAME = re.compile(
    r"(_pb2(_grpc)?\.pyi?|\.pb\.go|\.pb\.(cc|h)|\.g\.dart|\.freezed\.dart|\.generated\.\w+|"
    r"_generated\.\w+|\.designer\.cs)$",
    re.IGNORECASE,
)
_GENERATED_MARK = re.compile(
    r"@generated|code generated .*do not edit|do not edit[.!]? ?(this file )?"
    r"(is )?(auto|automatically)|auto-?generated (file|code|by)|"
    r"this file (is|was) (automatically |auto-)?generated|generated by (the )?protoc",
    re.IGNORECASE,
)
_WALK_SKIP_DIRS = {
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".idea", ".vscode", ".eggs",
}  # fmt: skip


def detect_language(path: str) -> str | None:
    """The language of a file from its name, or None when it is not a known source type."""
    name = PurePosixPath(path).name.lower()
    if name in _NAMED_LANGUAGES:
        return _NAMED_LANGUAGES[name]
    if name.startswith("dockerfile"):
        return "dockerfile"
    return LANGUAGES.get(PurePosixPath(name).suffix)


@dataclass(frozen=True)
class SkippedPath:
    path: str
    reason: str  # a key of SKIP_REASONS
    detail: str = ""


@dataclass
class SourceFile:
    """A file that will be reviewed. ``text`` is the raw text (not yet redacted)."""

    path: str  # relative to the root, POSIX separators
    language: str
    text: str
    size: int

    @property
    def line_count(self) -> int:
        return len(self.text.splitlines())


@dataclass
class Selection:
    root: Path
    git: bool
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[SkippedPath] = field(default_factory=list)


def printable(path: str) -> str:
    """``path`` as text: a name that is not UTF-8 (read with ``surrogateescape``) gets U+FFFD
    in place of the bad bytes, so reports and JSON can carry it."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def check_name(path: str, *, explicit: bool = False) -> SkippedPath | None:
    """Skip decisions that need only the file name."""
    if printable(path) != path:
        return SkippedPath(printable(path), "not-utf8", "the file name is not UTF-8")
    pure = PurePosixPath(path)
    name = pure.name
    lower = name.lower()
    if is_env_file(name) and not lower.endswith((".example", ".sample", ".template")):
        return SkippedPath(path, "env-file")
    if lower in _LOCK_NAMES or lower.endswith(".lock") or lower.endswith("-lock.json"):
        return SkippedPath(path, "lock")
    if pure.suffix.lower() in _BINARY_EXT:
        return SkippedPath(path, "binary")
    if re.search(r"[.-]min\.(js|css|mjs)$", lower) or lower.endswith(".bundle.js"):
        return SkippedPath(path, "minified")
    if _GENERATED_NAME.search(lower):
        return SkippedPath(path, "generated")
    if not explicit and detect_language(path) is None:
        return SkippedPath(path, "not-code", pure.suffix.lower() or "no extension")
    return None


def check_content(
    path: str, data: bytes, *, max_bytes: int
) -> tuple[str | None, SkippedPath | None]:
    """Decode ``data`` and apply the content checks; returns (text, None) or (None, skip)."""
    if len(data) > max_bytes:
        return None, SkippedPath(path, "too-large", f"{len(data):,} bytes > {max_bytes:,}")
    if not data.strip():
        return None, SkippedPath(path, "empty")
    if b"\x00" in data[:8192]:
        return None, SkippedPath(path, "binary")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, SkippedPath(path, "not-utf8")
    head = "\n".join(text.splitlines()[:8])
    if _GENERATED_MARK.search(head):
        return None, SkippedPath(path, "generated", "marked as generated in its header")
    lines = text.splitlines()
    longest = max((len(line) for line in lines), default=0)
    if longest > 1000 and (len(text) / max(len(lines), 1)) > 300:
        return None, SkippedPath(path, "minified", f"lines up to {longest:,} characters")
    return text.replace("\r\n", "\n"), None


def _git_files(root: Path, targets: Sequence[Path]) -> tuple[list[str], set[str]]:
    """(candidates, ignored) as root-relative POSIX paths, for the given targets."""
    specs = [os.path.relpath(t, root) for t in targets]
    # links and submodules are kept as candidates, to be listed as skipped
    listed = git.listed_files(root, specs)
    files = sorted({p for p in listed if os.path.lexists(root / p)})
    explicit_files = [s for s, t in zip(specs, targets, strict=True) if t.is_file()]
    return files, git.ignored(root, explicit_files)


def _walk_files(root: Path, targets: Sequence[Path]) -> tuple[list[str], set[str]]:
    """Candidates outside git: walk the targets, honouring every .gitignore found."""
    files: set[str] = set()
    ignored: set[str] = set()
    for target in targets:
        if target.is_file():
            rel = target.relative_to(root).as_posix()
            if _ignored_by_gitignores(root, rel):
                ignored.add(rel)
            else:
                files.add(rel)
            continue
        # base folder ("" = root) -> its .gitignore
        specs: dict[str, pathspec.PathSpec] = dict(_parent_specs(root, target))

        def hit(rel: str, is_dir: bool, specs: dict[str, pathspec.PathSpec] = specs) -> bool:
            for base, spec in specs.items():
                if base and not rel.startswith(base + "/"):
                    continue
                sub = rel[len(base) + 1 :] if base else rel
                if spec.match_file(sub + ("/" if is_dir else "")):
                    return True
            return False

        for folder, dirnames, filenames in os.walk(target):
            here = Path(folder)
            rel_dir = here.relative_to(root).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir
            gi = here / ".gitignore"
            if gi.is_file():
                specs[rel_dir] = _spec(gi.read_text("utf-8", "replace").splitlines())
            keep = []
            for d in sorted(dirnames):
                rel = f"{rel_dir}/{d}" if rel_dir else d
                if d not in _WALK_SKIP_DIRS and not hit(rel, True):
                    keep.append(d)
            dirnames[:] = keep
            for name in filenames:
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if not hit(rel, False) and os.path.lexists(here / name):
                    files.add(rel)
    return sorted(files), ignored


def _spec(lines: Iterable[str]) -> pathspec.PathSpec:
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _parent_specs(root: Path, target: Path) -> list[tuple[str, pathspec.PathSpec]]:
    """The .gitignore files between the root and ``target`` (exclusive)."""
    out = []
    folder = root
    parts = target.relative_to(root).parts
    for i in range(len(parts)):
        gi = folder / ".gitignore"
        if gi.is_file():
            rel = Path(*parts[:i]).as_posix() if i else ""
            out.append((rel, _spec(gi.read_text("utf-8", "replace").splitlines())))
        folder = folder / parts[i]
    return out


def _ignored_by_gitignores(root: Path, rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    folder = root
    for i in range(len(parts)):
        gi = folder / ".gitignore"
        if gi.is_file():
            spec = _spec(gi.read_text("utf-8", "replace").splitlines())
            if spec.match_file("/".join(parts[i:])):
                return True
        folder = folder / parts[i]
    return False


def _common_root(targets: Sequence[Path]) -> Path:
    cwd = Path.cwd().resolve()
    if all(t == cwd or cwd in t.parents for t in targets):
        return cwd
    common = Path(os.path.commonpath([str(t if t.is_dir() else t.parent) for t in targets]))
    return common


def apply_globs(
    paths: Iterable[str],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    *,
    explicit: Collection[str] = (),
) -> tuple[list[str], list[SkippedPath]]:
    """Apply the review's gitignore-style globs to root-relative ``paths``: (the paths to
    keep, the ones skipped as ``excluded``). With ``include`` globs, a path that matches none
    of them (and is not named ``explicit``-ly) is dropped: it is not part of the review."""
    inc = _spec(include) if include else None
    exc = _spec(exclude) if exclude else None
    kept: list[str] = []
    excluded: list[SkippedPath] = []
    for rel in paths:
        if inc is not None and not inc.match_file(rel) and rel not in explicit:
            continue
        if exc is not None and exc.match_file(rel):
            excluded.append(SkippedPath(printable(rel), "excluded"))
        else:
            kept.append(rel)
    return kept, excluded


def _is_loop(path: Path) -> bool:
    """Whether resolving ``path`` goes round in circles (``exists()`` only says False)."""
    try:
        path.stat()
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def select_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    max_bytes: int = 256_000,
) -> Selection:
    """Choose the files to review under ``paths`` (files or folders).

    ``include``/``exclude`` are gitignore-style globs matched against root-relative paths.
    Paths are reported relative to the git work tree (or, outside git, the current directory
    when every path is below it, else their common folder).
    """
    stream = stream_files(paths, include=include, exclude=exclude, max_bytes=max_bytes)
    selection = Selection(root=stream.root, git=stream.git, files=list(stream))
    selection.skipped = sorted(stream.skipped, key=lambda s: s.path)
    return selection


@dataclass
class FileStream:
    """The files of :func:`stream_files`, read one at a time in path order as they are
    iterated; ``total`` candidates, of which those found unreviewable while reading join
    ``skipped`` (which starts with the ignored and excluded ones)."""

    root: Path
    git: bool
    candidates: list[str]
    explicit: set[str]
    max_bytes: int
    skipped: list[SkippedPath] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.candidates)

    def __iter__(self) -> Iterator[SourceFile]:
        for rel in self.candidates:
            found = self._read(rel)
            if isinstance(found, SkippedPath):
                self.skipped.append(found)
            else:
                yield found

    def _read(self, rel: str) -> SourceFile | SkippedPath:
        full = self.root / rel
        if full.is_symlink():  # never send what a link points to (it may be outside the repo)
            target = printable(os.readlink(full))
            return SkippedPath(printable(rel), "symlink", f"-> {target}")
        if full.is_dir():
            return SkippedPath(printable(rel), "submodule")
        notebook = is_notebook(rel)  # reviewed as its cells' source (notebooks.py)
        skip = check_name(rel, explicit=notebook or rel in self.explicit)
        if skip is not None:
            return skip
        try:
            data = full.read_bytes()
        except OSError as exc_:
            return SkippedPath(rel, "missing", str(exc_.strerror or exc_))
        size = len(data)
        language = detect_language(rel) or "text"
        if notebook:
            data, language = notebook_source(data)
        text, skip = check_content(rel, data, max_bytes=self.max_bytes)
        if skip is not None or text is None:
            return skip or SkippedPath(rel, "empty")
        return SourceFile(rel, language, text, size)


def stream_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    max_bytes: int = 256_000,
) -> FileStream:
    """:func:`select_files` as a stream: the candidates are listed now, each file is read
    (and checked) only when the stream gets to it."""
    if not paths:
        paths = ["."]
    targets = []
    for raw in paths:
        p = Path(raw).expanduser()
        if not p.exists():
            if _is_loop(p):
                raise InputError(f"{raw}: a symbolic-link loop (the link leads back to itself)")
            raise InputError(f"{raw}: no such file or directory", hint="check the path")
        # a link to a file stays a link (skipped below): never send what it points to
        link = p.is_symlink() and p.is_file()
        targets.append(p.parent.resolve() / p.name if link else p.resolve())
    root = git.toplevel(targets[0])
    in_git = root is not None and all(t == root or root in t.parents for t in targets)
    if in_git and root is not None:
        candidates, ignored = _git_files(root, targets)
    else:
        root = _common_root(targets)
        candidates, ignored = _walk_files(root, targets)
    explicit = {t.relative_to(root).as_posix() for t in targets if t.is_file()}
    skipped = [SkippedPath(printable(rel), "ignored") for rel in sorted(ignored)]
    wanted = [rel for rel in candidates if rel not in ignored]
    kept, excluded = apply_globs(wanted, include, exclude, explicit=explicit)
    skipped.extend(excluded)
    return FileStream(root, in_git, kept, explicit, max_bytes, skipped)

"""Prompt templates: Jinja2 over the shipped ``prompts/`` folder, with a user override folder
(``prompts_dir`` setting) searched first. Rendering is strict: an undefined variable is an
error, never an empty string."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = [
    "LANGUAGES",
    "builtin_prompts_dir",
    "export_prompts",
    "language_name",
    "list_prompts",
    "prompt_source",
    "render",
    "renderer",
]

# --lang codes the prompts spell out; any other value is passed to the model as written.
LANGUAGES = {
    "en": "English",
    "zh": "Chinese (简体中文)",
    "zh-tw": "Traditional Chinese (繁體中文)",
    "ja": "Japanese",
    "ko": "Korean",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "ru": "Russian",
}


def language_name(code: str) -> str:
    """The language a ``--lang`` code names, for prompts (``zh`` → Chinese)."""
    return LANGUAGES.get(code.lower(), code)


_UNSET: Any = object()


def builtin_prompts_dir() -> Path:
    """The shipped templates: inside the wheel, or the source tree's ``prompts/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "prompts", here.parent / "prompts"):
        if candidate.is_dir():
            return candidate
    raise ConfigError("the prompt templates are missing from this installation")


@lru_cache(maxsize=8)
def _environment(override: str | None) -> Any:
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

    loaders = [FileSystemLoader(override)] if override else []
    loaders.append(FileSystemLoader(str(builtin_prompts_dir())))
    return Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # a process renders the files as they were when first loaded
    )


def _override(prompts_dir: Path | Any | None) -> str | None:
    if prompts_dir is _UNSET:
        from .config import load_settings

        prompts_dir = load_settings().prompts_dir
    return str(_override_dir(Path(prompts_dir))) if prompts_dir else None


def _override_dir(prompts_dir: Path) -> Path:
    """The override folder; one that does not exist is an error (a typo is never silent)."""
    folder = prompts_dir.expanduser()
    if not folder.is_dir():
        raise ConfigError(
            f"the prompts folder {folder} does not exist",
            hint="fix ASSISTANTS_PROMPTS_DIR (or prompts_dir); "
            "`assistants prompts export DIR` creates one",
        )
    return folder


def render(name: str, /, *, prompts_dir: Path | Any | None = _UNSET, **context: Any) -> str:
    """Render template ``name`` (e.g. ``"review/system.j2"``) with ``context``."""
    from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError

    env = _environment(_override(prompts_dir))
    try:
        return str(env.get_template(name).render(**context)).strip() + "\n"
    except TemplateNotFound:
        raise ConfigError(
            f"prompt template {name!r} not found",
            hint="`assistants prompts list` shows the templates",
        ) from None
    except TemplateError as exc:  # a syntax error says where; any other (undefined ...) not
        where, hint = "", None
        if isinstance(exc, TemplateSyntaxError):
            where = f" ({exc.filename or name}, line {exc.lineno})"
            hint = "fix the template in your prompts folder, or remove it to use the built-in one"
        raise ConfigError(f"prompt template {name!r}{where}: {exc.message}", hint=hint) from None


def renderer(
    name: str, slot: str, /, *, prompts_dir: Path | Any | None = _UNSET, **context: Any
) -> Callable[[str], str]:
    """``lambda value: render(name, **context, slot=value)``, made fast for the many renders
    of a batch (``math eval --dry-run`` renders a message per problem). When the template
    outputs the slot once, as it is (``{{ slot }}``: no filter, no test on it, nothing
    included), later renders are a string join around it; otherwise each one renders."""

    def slow(value: str) -> str:
        return render(name, prompts_dir=prompts_dir, **context, **{slot: value})

    if not _plain_slot(_environment(_override(prompts_dir)), name, slot):
        return slow
    marker = "\x00slot\x00"
    parts = slow(marker).split(marker)
    if len(parts) != 2:
        return slow
    head, tail = parts[0], parts[1].rstrip("\n")  # render() ends what it returns with "\n"
    return lambda value: (head + value + tail).strip() + "\n"


def _plain_slot(env: Any, name: str, slot: str) -> bool:
    """Is ``slot`` output exactly once, bare, and used nowhere else in template ``name``?"""
    from jinja2 import TemplateError, nodes

    try:
        source = env.loader.get_source(env, name)[0]
        tree = env.parse(source)
    except TemplateError:
        return False  # render() reports it
    if any(tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))):
        return False
    uses = [n for n in tree.find_all(nodes.Name) if n.name == slot]
    bare = [
        child
        for output in tree.find_all(nodes.Output)
        for child in output.nodes
        if isinstance(child, nodes.Name) and child.name == slot
    ]
    return len(uses) == 1 and len(bare) == 1


def list_prompts(prompts_dir: Path | None = None) -> list[tuple[str, str]]:
    """(name, origin) of every template; origin is ``override`` or ``builtin``."""
    found: dict[str, str] = {}
    roots = [("builtin", builtin_prompts_dir())]
    if prompts_dir:
        roots.append(("override", _override_dir(Path(prompts_dir))))
    for origin, root in roots:
        for path in sorted(root.rglob("*.j2")):
            found[path.relative_to(root).as_posix()] = origin
    return sorted(found.items())


def prompt_source(name: str, prompts_dir: Path | None = None) -> str:
    roots = [_override_dir(Path(prompts_dir))] if prompts_dir else []
    for root in [*roots, builtin_prompts_dir()]:
        path = root / name
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise ConfigError(
        f"prompt template {name!r} not found", hint="`assistants prompts list` shows them"
    )


def export_prompts(target: Path) -> list[Path]:
    """Copy the shipped templates to ``target`` (a starting point for an override folder)."""
    root = builtin_prompts_dir()
    written = []
    for path in sorted(root.rglob("*.j2")):
        dest = target / path.relative_to(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        written.append(dest)
    return written

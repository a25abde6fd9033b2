"""``assistants review``: a thin layer over :mod:`assistants.review.run`."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import click

from .._deadline import DeadlineExceeded, run_with_timeout
from ._common import (
    changes_options,
    check_output,
    dry_run_option,
    emit,
    format_option,
    github_pr_options,
    lang_option,
    model_options,
    no_cache_option,
    output_option,
    progress,
    settings_for,
)

if TYPE_CHECKING:
    from ..config import Settings
    from ..review.models import Review
    from ..review.rules import ConfigFrom

__all__ = ["review"]

# assistants.config.FailOn, spelled out: loading the settings module here would slow the hook
# down when there is nothing to review (a test checks the two agree)
FAIL_ON_CHOICES = ("critical", "high", "medium", "low", "never")


def _read_instructions(value: str | None) -> str | None:
    if value is None or not value.startswith("@"):
        return value
    from ..errors import InputError

    path = Path(value[1:]).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"--instructions {value}: cannot read {path} ({exc.strerror or exc})",
            hint="give the text itself, or @FILE with a readable file",
        ) from None


project_instructions_option = click.option(
    "--project-instructions/--no-project-instructions",
    default=None,
    help="Read the project's review guide, REVIEW.md (else AGENTS.md) at the repository root "
    "(from REF in diff modes) [default: review.project_instructions setting, on].",
)


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def _check_modes(staged: bool, diff_ref: str | None, config_from: str | None, hook: bool) -> None:
    if staged and diff_ref:
        raise click.UsageError("use either --staged or --diff REF, not both")
    if config_from and not (staged or diff_ref or hook):
        raise click.UsageError("--config-from only applies with --diff REF, --staged or --hook")


def _review_settings(
    no_cache: bool, lang: str | None, staged: bool, diff_ref: str | None, config_from: str | None
) -> Settings:
    """The settings of a review; in diff modes the review rules come from REF (or the working
    tree with --config-from worktree)."""
    settings = settings_for(no_cache=no_cache, lang=lang)
    if staged or diff_ref:
        from ..review.rules import diff_rules

        settings = diff_rules(
            settings,
            diff_ref,
            staged=staged,
            config_from="worktree" if config_from == "worktree" else "ref",
        )
    return settings


def _run_review(
    paths: tuple[Path, ...],
    *,
    staged: bool,
    diff_ref: str | None,
    config_from: str | None,
    **common: Any,
) -> Review:
    from ..review.run import review_diff, review_path

    if staged or diff_ref:
        where_from: ConfigFrom = "worktree" if config_from == "worktree" else "ref"
        return review_diff(diff_ref, staged=staged, paths=paths, config_from=where_from, **common)
    return review_path(list(paths) or ["."], **common)


class ReviewGroup(click.Group):
    """``assistants review``: reviews PATHS unless the first argument names a sub-command.

    ``assistants review src/`` runs the default command (the review itself); ``assistants
    review <sub-command> ...`` runs that sub-command. ``--help`` shows the review's options and
    the sub-commands below them.
    """

    default_name = "paths"
    # sub-commands in modules of their own, imported when they run
    lazy: ClassVar[dict[str, tuple[str, str]]] = {
        "describe": ("assistants.cli.describe", "describe")
    }

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        named = args and (args[0] in self.commands or args[0] in self.lazy)
        if not named or args[0] == self.default_name:
            args = [self.default_name, *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted((set(self.commands) | set(self.lazy)) - {self.default_name})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, attr = self.lazy[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)


class _DefaultReview(click.Command):
    """The review itself: its usage line and help read as ``assistants review``."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)
        parent = ctx.parent.command_path if ctx.parent else "assistants review"
        formatter.write_usage(parent, " ".join(pieces))

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        group = ctx.parent.command if ctx.parent else None
        if isinstance(group, click.Group):
            rows = [
                (name, cmd.get_short_help_str(limit=formatter.width))
                for name in group.list_commands(ctx)
                if (cmd := group.get_command(ctx, name)) is not None and not cmd.hidden
            ]
            if rows:
                with formatter.section("Commands"):
                    formatter.write_dl(rows)


@click.group(
    cls=ReviewGroup,
    help="Review code: PATHS (default: the current folder), the staged changes or a diff.\n\n"
    "Run `assistants review --help` for the review's options; the sub-commands below do "
    "related jobs.",
)
def review() -> None:
    """Group callback: the work happens in the default command or a sub-command."""


@review.command(ReviewGroup.default_name, cls=_DefaultReview, hidden=True)
@changes_options("Review")
@click.option(
    "--config-from",
    type=click.Choice(["ref", "worktree"]),
    default=None,
    help="In diff modes: read the review settings (include/exclude, fail_on, instructions, "
    "prompts_dir; paths, REVIEW.md / AGENTS.md) from REF (HEAD for --staged and --hook), and "
    "the --baseline file as REF has it, so a change cannot weaken its own review, or from the "
    "working tree's [default: ref].",
)
@format_option("text", "markdown", "json", "sarif", "github", "gitlab", "rdjson")
@output_option
@click.option(
    "--baseline",
    "baseline_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Report only findings not in this baseline file; the others are counted as "
    "suppressed (written by `assistants review baseline` or --update-baseline). In diff modes "
    "a file inside the repository is read as REF has it (see --config-from).",
)
@click.option(
    "--update-baseline",
    is_flag=True,
    help="With --baseline FILE: write the current findings to FILE (created if missing), "
    "so they are all accepted; fixed ones drop out of it.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON_CHOICES),
    default=None,
    help="Exit 1 when a finding is at or above this severity "
    "[default: review.fail_on setting, high].",
)
@model_options
@dry_run_option
@no_cache_option
@lang_option
@click.option("--include", multiple=True, metavar="GLOB", help="Only review matching files.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip matching files.")
@click.option(
    "--instructions",
    metavar="TEXT|@FILE",
    default=None,
    help="Extra review instructions (text, or @path to read them from a file).",
)
@project_instructions_option
@click.option(
    "--hook",
    is_flag=True,
    help="Pre-commit mode: staged changes (or the pushed range), the hook time limit, and a "
    "warning instead of a failure when there is no key or the API is unreachable.",
)
@click.option(
    "--fail-closed",
    is_flag=True,
    help="With --hook: block the commit when the review cannot run (no key, API down, timeout).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="With --hook: time limit in seconds [default: review.hook_timeout setting, 120].",
)
@click.option(
    "--github-review",
    is_flag=True,
    help="With --diff REF: post the findings as one pull-request review on GitHub (inline "
    "comments on the changed lines, the rest in its body; a re-run updates its own earlier "
    "comments). Token from GITHUB_TOKEN; the pull request from the Actions event or the "
    "--github-* options.",
)
@github_pr_options
@click.option(
    "--json-schema",
    is_flag=True,
    help="Print the JSON schema of the --format json report and exit.",
)
def review_paths(
    paths: tuple[Path, ...],
    staged: bool,
    diff_ref: str | None,
    config_from: str | None,
    fmt: str,
    output: Path | None,
    baseline_file: Path | None,
    update_baseline: bool,
    fail_on: str | None,
    concurrency: int | None,
    think: bool | None,
    dry_run: bool,
    no_cache: bool,
    lang: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    instructions: str | None,
    project_instructions: bool | None,
    hook: bool,
    fail_closed: bool,
    timeout: float | None,
    github_review: bool,
    github_repo: str | None,
    github_pr: int | None,
    json_schema: bool,
) -> None:
    """Review code: PATHS (default: the current folder), the staged changes or a diff.

    Findings carry file, lines (checked against the file), severity, category, explanation
    and a suggested fix. Secrets are redacted before anything is sent. Exit codes: 0 ok,
    1 a finding at or above --fail-on, 7 some files could not be reviewed (partial),
    others as for every command. Without an API key, a plain `assistants review PATH` shows
    the dry run (requests, tokens, estimated cost) and says how to add a key.

    \b
    Examples:
      assistants review src/
      assistants review --staged --fail-on medium
      assistants review --diff main --format sarif -o review.sarif
      assistants review --baseline .assistants-baseline.json src/
      assistants review --diff origin/main...HEAD --github-review
      assistants review --dry-run .
    """
    from ..errors import (
        EXIT_GATE,
        EXIT_OK,
        APIError,
        AssistantsError,
        InputError,
        MissingAPIKeyError,
        PartialFailureError,
    )

    check_output(output)
    if json_schema:
        import json

        from ..review.models import Review

        schema = Review.model_json_schema(mode="serialization")
        emit(json.dumps(schema, indent=2), output)
        return
    _check_modes(staged, diff_ref, config_from, hook)
    if update_baseline and not baseline_file:
        raise click.UsageError("--update-baseline needs --baseline FILE")
    if update_baseline and dry_run:
        raise click.UsageError("--update-baseline needs a real review, not --dry-run")
    if fail_closed and not hook:
        raise click.UsageError("--fail-closed only applies with --hook")
    if timeout is not None and not hook:
        raise click.UsageError("--timeout only applies with --hook")
    if github_review and (not diff_ref or staged or hook):
        raise click.UsageError("--github-review needs --diff REF (the pull request's changes)")
    if (github_repo or github_pr) and not github_review:
        raise click.UsageError("--github-repo and --github-pr only apply with --github-review")
    if hook:
        # answered before settings and the reviewer are loaded, so an empty or message-only
        # commit costs next to nothing
        from ..review.hook import hook_target

        target = hook_target(staged=staged, ref=diff_ref)
        if target.nothing:
            click.echo(target.nothing, err=True)
            return
        staged, diff_ref = target.staged, target.ref
    baseline = None
    if baseline_file is not None:  # a bad file is an error before anything is paid for
        from ..review.baseline import baseline_for

        baseline = baseline_for(
            baseline_file,
            ref=diff_ref,
            staged=staged,
            from_base=config_from != "worktree",
            missing_ok=update_baseline,
        )
    settings = _review_settings(no_cache, lang, staged, diff_ref, config_from)
    gate = fail_on or settings.review.fail_on
    if github_review and not dry_run:
        # where to post and the token are checked before anything is paid for
        from ..github import pull_request_from_env
        from ..review.github import github_client

        pull_request = pull_request_from_env(github_repo, github_pr)
        github = github_client(settings)
    text_instructions = _read_instructions(instructions)

    def run(dry: bool, callback: Any = None) -> Review:
        return _run_review(
            paths,
            settings=settings,
            staged=staged,
            diff_ref=diff_ref,
            dry_run=dry,
            think=think,
            include=include,
            exclude=exclude,
            instructions=text_instructions,
            concurrency=concurrency,
            progress=callback,
            config_from=config_from,
            project_instructions=project_instructions,
        )

    def attempt() -> Review:
        if hook or dry_run:
            return run(dry_run)
        with progress("reviewing files") as callback:
            return run(False, callback)

    fell_back = False
    try:
        if hook:
            limit = timeout or settings.review.hook_timeout
            try:
                result = run_with_timeout(attempt, limit, name="assistants-review")
            except DeadlineExceeded:
                message = f"the review did not finish within {limit:g}s"
                if fail_closed:
                    raise APIError(message, hint="raise --timeout or review.hook_timeout") from None
                _warn(f"{message}; not blocking (use --fail-closed to block)")
                sys.exit(EXIT_OK)
        else:
            result = attempt()
    except MissingAPIKeyError as exc:
        if hook and not fail_closed:
            _warn(f"{exc.message}; the review was skipped (use --fail-closed to block)")
            sys.exit(EXIT_OK)
        if hook or dry_run:
            raise
        fell_back = True
        result = run(True)
    except (APIError, TimeoutError) as exc:
        if hook and not fail_closed:
            _warn(f"the review could not run: {exc}; not blocking (use --fail-closed to block)")
            sys.exit(EXIT_OK)
        raise
    except AssistantsError as exc:
        if hook and not fail_closed and not isinstance(exc, InputError):
            _warn(f"the review could not run: {exc.message}; not blocking")
            sys.exit(EXIT_OK)
        raise

    if baseline is not None and not result.dry_run:
        baseline = baseline.updated(result) if update_baseline else baseline
        result = baseline.apply(result)
    _emit(result, fmt, output)
    if update_baseline and baseline is not None and baseline_file and not result.dry_run:
        baseline.save(baseline_file)  # after the report: a write error loses nothing paid for
        click.echo(
            f"wrote baseline {baseline_file} ({len(baseline.findings)} finding(s))", err=True
        )
    if github_review:
        if result.dry_run:
            _warn("a dry run posts nothing to GitHub")
        else:
            from ..review.github import post_pull_request_review

            with github:
                posted = post_pull_request_review(result, diff_ref, pr=pull_request, client=github)
            click.echo(posted.summary(), err=True)
    if fell_back:
        _warn(
            "no API key, so this was a dry run (nothing was sent). To review for real, set "
            "DEEPSEEK_API_KEY (export it or put it in .env) and run again."
        )
        sys.exit(EXIT_OK)
    if result.dry_run:
        sys.exit(EXIT_OK)
    tripped = result.gate(gate)
    code = EXIT_GATE if tripped else PartialFailureError.exit_code if result.failed else EXIT_OK
    if result.failed:
        partial = f"review: {len(result.failed)} file(s) could not be reviewed (partial result)"
        if not tripped and hook and not fail_closed:
            # the API failed for part of the review: like an unreachable API, not a finding
            _warn(f"{partial}; not blocking (use --fail-closed to block)")
            code = EXIT_OK
        else:
            click.echo(partial, err=True)
    if tripped:
        at = result.at_or_above(gate)
        click.echo(f"review: {len(at)} finding(s) at or above {gate}; failing", err=True)
    sys.exit(code)


def _emit(result: Review, fmt: str, output: Path | None) -> None:
    if fmt in ("gitlab", "rdjson") and result.suppressed:
        from ..review.render import suppressed_note

        # the format has no place for it: said beside the report
        click.echo(f"review: {suppressed_note(result)}, not in the {fmt} report", err=True)
    if fmt == "text" and output is None:
        from ..review.render import print_text
        from ._common import console

        print_text(result, console())
        return
    if fmt == "text":
        from ..review.render import to_text

        emit(to_text(result, color=False), output)
        return
    emit(result.render(fmt), output)


# the options `review baseline` shares with the review itself (the same objects, not copies)
_BASELINE_SHARED = (
    "paths",
    "staged",
    "diff_ref",
    "config_from",
    "concurrency",
    "think",
    "no_cache",
    "lang",
    "include",
    "exclude",
    "instructions",
    "project_instructions",
)


@review.command("baseline", params=[p for p in review_paths.params if p.name in _BASELINE_SHARED])
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=Path(".assistants-baseline.json"),
    show_default=True,
    help="Where to write the baseline.",
)
def review_baseline(
    paths: tuple[Path, ...],
    staged: bool,
    diff_ref: str | None,
    config_from: str | None,
    concurrency: int | None,
    think: bool | None,
    no_cache: bool,
    lang: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    instructions: str | None,
    project_instructions: bool | None,
    output: Path,
) -> None:
    """Write a baseline: review PATHS (or --staged / --diff REF) and record every finding.

    Later runs with `assistants review --baseline FILE` report only findings not in it. An
    `assistants: ignore` comment still holds its finding back, and such findings are not
    recorded. The file is sorted JSON without line numbers, so it diffs well; commit it.
    Exit codes: 0 written, 7 written but some files could not be reviewed.

    \b
    Examples:
      assistants review baseline src/
      assistants review baseline --diff main -o .assistants-baseline.json
    """
    from ..errors import EXIT_OK, PartialFailureError
    from ..review.baseline import Baseline

    _check_modes(staged, diff_ref, config_from, hook=False)
    check_output(output)
    settings = _review_settings(no_cache, lang, staged, diff_ref, config_from)
    with progress("reviewing files") as callback:
        result = _run_review(
            paths,
            settings=settings,
            staged=staged,
            diff_ref=diff_ref,
            dry_run=False,
            think=think,
            include=include,
            exclude=exclude,
            instructions=_read_instructions(instructions),
            concurrency=concurrency,
            progress=callback,
            config_from=config_from,
            project_instructions=project_instructions,
        )
    baseline = Baseline.from_review(result)
    baseline.save(output)
    held = result.suppressed_counts["inline"]
    note = f"; {held} held back by assistants: ignore comments" if held else ""
    click.echo(f"wrote baseline {output} ({len(baseline.findings)} finding(s){note})", err=True)
    if result.failed:
        click.echo(
            f"review: {len(result.failed)} file(s) could not be reviewed; their findings are "
            "missing from the baseline (partial result)",
            err=True,
        )
        sys.exit(PartialFailureError.exit_code)
    sys.exit(EXIT_OK)

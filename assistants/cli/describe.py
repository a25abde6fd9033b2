"""``assistants review describe``: a pull-request description of a diff (thin: the work is
:func:`assistants.review.describe.describe_diff`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

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
)

if TYPE_CHECKING:
    from ..review.rules import ConfigFrom

__all__ = ["describe"]


@click.command("describe")
@changes_options("Describe")
@click.option(
    "--config-from",
    type=click.Choice(["ref", "worktree"]),
    default=None,
    help="Read the review settings (include/exclude, prompts_dir) from REF's pyproject.toml "
    "or from the working tree's [default: ref].",
)
@format_option("markdown", "json", default="markdown")
@output_option
@model_options
@dry_run_option
@no_cache_option
@lang_option
@click.option("--include", multiple=True, metavar="GLOB", help="Only describe matching files.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Leave matching files out.")
@click.option(
    "--github-review",
    is_flag=True,
    help="With --diff REF: put the description into the pull request's body on GitHub, in a "
    "section between hidden markers of ours (the author's text stays). Token from "
    "GITHUB_TOKEN; the pull request from the Actions event or the --github-* options.",
)
@github_pr_options
def describe(
    paths: tuple[Path, ...],
    staged: bool,
    diff_ref: str | None,
    config_from: str | None,
    fmt: str,
    output: Path | None,
    concurrency: int | None,
    think: bool | None,
    dry_run: bool,
    no_cache: bool,
    lang: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    github_review: bool,
    github_repo: str | None,
    github_pr: int | None,
) -> None:
    """Write a pull-request description of a diff: title, summary, walkthrough, risks, tests.

    The diff is selected, redacted and packed as for `assistants review --diff`; a diff
    larger than one request is described in parts that one more request combines. PATHS
    limit it to changes under those files or folders.

    \b
    Examples:
      assistants review describe --diff main -o description.md
      assistants review describe --staged --format json
      assistants review describe --diff origin/main...HEAD --dry-run
    """
    from ..review.describe import describe_diff

    check_output(output)
    if staged == bool(diff_ref):
        raise click.UsageError("give --diff REF or --staged (one of them)")
    if github_review and not diff_ref:
        raise click.UsageError("--github-review needs --diff REF (the pull request's changes)")
    if (github_repo or github_pr) and not github_review:
        raise click.UsageError("--github-repo and --github-pr only apply with --github-review")
    from .review import _review_settings

    settings = _review_settings(no_cache, lang, staged, diff_ref, config_from)
    where_from: ConfigFrom = "worktree" if config_from == "worktree" else "ref"
    if github_review and not dry_run:  # where to post and the token, before anything is paid
        from ..github import pull_request_from_env
        from ..review.github import github_client

        pull_request = pull_request_from_env(github_repo, github_pr)
        github = github_client(settings)
    common: dict[str, Any] = {
        "staged": staged,
        "paths": paths,
        "settings": settings,
        "think": think,
        "include": include,
        "exclude": exclude,
        "concurrency": concurrency,
        "config_from": where_from,
    }
    if dry_run:
        result = describe_diff(diff_ref, dry_run=True, **common)
    else:
        with progress("describing the change") as callback:
            result = describe_diff(diff_ref, progress=callback, **common)
    emit(result.render(fmt), output)
    if github_review and dry_run:
        click.echo("warning: a dry run posts nothing to GitHub", err=True)
    elif github_review:
        from ..review.github import update_pr_body_section

        with github:
            changed = update_pr_body_section(
                result.to_markdown(),
                repo=f"{pull_request.owner}/{pull_request.repo}",
                number=pull_request.number,
                client=github,
            )
        where = f"{pull_request.owner}/{pull_request.repo}#{pull_request.number}"
        state = "updated" if changed else "already up to date"
        click.echo(f"github: the description of {where} {state}", err=True)

#!/usr/bin/env bash
# The shell steps of the assistants GitHub Action (../action.yml):
#   run.sh prepare   find the base branch and head commit, fetch them, check out the BASE in a
#                    separate work tree (the review runs there), name the cache key
#   run.sh review    run `assistants review` on base...head: SARIF, optionally the PR review
#   run.sh finish    fail the job when the review's exit code says so
#
# Trust: the review runs in a work tree of the base branch, so its settings (pyproject.toml,
# .env, REVIEW.md) are the base's; the pull request's code is only read from git as data. The
# endpoint and the key come from the workflow (ASSISTANTS_BASE_URL, DEEPSEEK_API_KEY in the
# environment outrank every project file), so a pull request cannot send the key elsewhere or
# weaken its own review. Inputs reach this script as environment variables, never spliced into
# the command text.
set -euo pipefail

say() { printf '%s\n' "$*" >&2; }
out() { printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; }
die() { printf '::error::%s\n' "$*"; exit 1; }

event() {  # event FIELD.PATH: one field of the event payload ("" when absent)
  python - "$1" <<'PY'
import json, os, sys
data = {}
path = os.environ.get("GITHUB_EVENT_PATH")
if path and os.path.exists(path):
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
for key in sys.argv[1].split("."):
    data = data.get(key) if isinstance(data, dict) else None
print("" if data is None else data)
PY
}

prepare() {
  cd "${GITHUB_WORKSPACE:?}"
  local base head number head_repo base_repo read_only=false
  base="${INPUT_BASE_REF:-$(event pull_request.base.ref)}"
  [ -n "$base" ] || die "no base branch: run on a pull_request event, or set the base-ref input"
  git check-ref-format --branch "$base" >/dev/null 2>&1 || die "not a branch name: $base"
  head="$(event pull_request.head.sha)"
  head="${head:-${GITHUB_SHA:-$(git rev-parse HEAD)}}"
  [[ "$head" =~ ^[0-9a-f]{40}([0-9a-f]{24})?$ ]] || die "not a commit id: $head"
  number="$(event pull_request.number)"
  head_repo="$(event pull_request.head.repo.full_name)"
  base_repo="$(event pull_request.base.repo.full_name)"
  # pull_request from a fork: a read-only token, no secrets (pull_request_target has both)
  if [ "${GITHUB_EVENT_NAME:-}" = pull_request ] && [ -n "$head_repo" ] && [ "$head_repo" != "$base_repo" ]; then
    read_only=true
  fi

  git fetch --no-tags --quiet origin "+refs/heads/$base:refs/remotes/origin/$base"
  if ! git cat-file -e "$head^{commit}" 2>/dev/null && [ -n "$number" ]; then
    git fetch --no-tags --quiet origin "+refs/pull/$number/head:refs/remotes/origin/pr-$number"
  fi
  if ! git merge-base "origin/$base" "$head" >/dev/null 2>&1; then
    if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
      say "the checkout is shallow: fetching history to find where the branch started"
      git fetch --no-tags --quiet --unshallow origin
    fi
    git merge-base "origin/$base" "$head" >/dev/null || die "no common history of origin/$base and $head"
  fi

  local temp="${RUNNER_TEMP:?}" review_dir
  review_dir="$temp/assistants-base"
  git worktree remove --force "$review_dir" >/dev/null 2>&1 || rm -rf "$review_dir"
  git worktree add --quiet --detach "$review_dir" "origin/$base"

  # the cache key: the runner's OS and the reviewed files' contents (blob ids of the change)
  local digest prefix="assistants-v1-${RUNNER_OS:-unknown}-"
  digest="$(git diff --raw --no-abbrev --no-renames "origin/$base...$head" | python -c \
    'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:32])')"

  out base-ref "$base"
  out head-sha "$head"
  out range "origin/$base...$head"
  out review-dir "$review_dir"
  out read-only "$read_only"
  out data-dir "$temp/assistants-data"
  out sarif-file "${INPUT_SARIF_FILE:-$temp/assistants-review.sarif}"
  out cache-key "$prefix$digest"
  out cache-prefix "$prefix"
}

review() {
  local code=0 sarif="${SARIF_FILE:?}"
  : "${REVIEW_DIR:?}" "${REVIEW_RANGE:?}"
  if [ -z "${DEEPSEEK_API_KEY:-}" ]; then
    printf '::warning::no API key: the review did not run (a pull request from a fork gets no secrets)\n'
    out exit-code 0
    out sarif-file ""
    return 0
  fi
  export ASSISTANTS_BASE_URL="${INPUT_BASE_URL:-https://api.deepseek.com}"
  if [ -n "${INPUT_STORE_URL:-}" ]; then
    export ASSISTANTS_STORE_URL="$INPUT_STORE_URL"
  fi
  local -a args=(review --diff "$REVIEW_RANGE" --format sarif --output "$sarif"
                 --fail-on "${INPUT_FAIL_ON:-high}")
  if [ "${INPUT_POST_REVIEW:-true}" = true ]; then
    if [ "${READ_ONLY:-false}" = true ]; then
      printf '::notice::a pull request from a fork gets a read-only token: the review is not posted (see the README for pull_request_target)\n'
    else
      args+=(--github-review)
    fi
  fi
  local -a extra=()
  if [ -n "${INPUT_ARGS:-}" ]; then
    mapfile -t extra < <(python -c \
      'import os, shlex; print("\n".join(shlex.split(os.environ["INPUT_ARGS"])))')
  fi
  mkdir -p "$(dirname "$sarif")" "${ASSISTANTS_DATA_DIR:?}"
  (cd "$REVIEW_DIR" && assistants "${args[@]}" "${extra[@]}") || code=$?
  git -C "${GITHUB_WORKSPACE:?}" worktree remove --force "$REVIEW_DIR" >/dev/null 2>&1 || true
  out exit-code "$code"
  if [ -s "$sarif" ]; then
    # the review ran in the base's work tree: point the SARIF at the workspace's checkout
    python - "$sarif" "$GITHUB_WORKSPACE" <<'PY'
import json, pathlib, sys
path, root = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]).resolve()
sarif = json.loads(path.read_text(encoding="utf-8"))
for run in sarif.get("runs", []):
    run.setdefault("originalUriBaseIds", {})["%SRCROOT%"] = {"uri": root.as_uri() + "/"}
path.write_text(json.dumps(sarif, indent=2), encoding="utf-8")
PY
    out sarif-file "$sarif"
  else
    out sarif-file ""
  fi
  case "$code" in
    0 | 1 | 7) return 0 ;;  # findings and partial results are judged by the finish step
    *) say "assistants review failed (exit code $code)"; return "$code" ;;
  esac
}

finish() {
  case "${EXIT_CODE:-0}" in
    0) say "assistants review: nothing at or above ${INPUT_FAIL_ON:-high}" ;;
    1) die "assistants review: findings at or above ${INPUT_FAIL_ON:-high} (see the review and code scanning)" ;;
    7) printf '::error::assistants review: some files could not be reviewed (partial result)\n'; exit 7 ;;
    *) printf '::error::assistants review failed (exit code %s)\n' "$EXIT_CODE"; exit "$EXIT_CODE" ;;
  esac
}

case "${1:-}" in
  prepare) prepare ;;
  review) review ;;
  finish) finish ;;
  *) say "usage: run.sh prepare|review|finish"; exit 2 ;;
esac

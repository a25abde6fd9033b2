"""Secret redaction: applied to every piece of code before a request is built.

:func:`redact` replaces private keys (PEM, and base64 of PEM), cloud and VCS tokens,
credentials in URLs of any scheme and on command lines (``curl -u``, ``mysql -p``,
``sshpass -p``, ``--password=``), ``Bearer`` / ``Basic`` authorization values, the ``data:``
values of Kubernetes ``Secret`` manifests, and values assigned to secret-looking names with
``[REDACTED:<kind>]``. Line breaks are kept, so line numbers stay valid for anchoring. The
result says how many secrets were removed and of which kinds (never the secrets themselves).

Assignments are found with Yelp's ``detect-secrets`` (its keyword detector, which knows how
YAML, INI, TOML, ``.properties`` and code write ``key = value``, its extra token detectors and
its false-positive filters) plus our own rules where it misses: shell and ``.env`` lines
(``export DB_PASSWORD=...``), token and credential names it does not know, JSON escaped
inside strings (``\\"password\\": \\"...\\"``). Given a ``path``, values in configuration and
shell files count as literals even unquoted; in code an unquoted value is a name, not a secret.
Only lines that mention a secret-like word are examined by the keyword rules, so ordinary code
costs little.
"""

from __future__ import annotations

import base64
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

__all__ = [
    "ENV_FILE_PATTERNS",
    "Redaction",
    "is_env_file",
    "redact",
    "redacted_kinds",
    "shannon_entropy",
]

# Files whose whole content is configuration secrets: never sent, skipped with a reason.
ENV_FILE_PATTERNS = (
    re.compile(r"^\.env(\..+)?$"),
    re.compile(r"^.+\.env$"),
    re.compile(r"^\.?envrc$"),
    re.compile(r"^(id_rsa|id_dsa|id_ecdsa|id_ed25519)$"),
    re.compile(r"^.+\.(pem|key|p12|pfx|jks|keystore)$"),
    re.compile(r"^\.(netrc|pgpass|npmrc|pypirc)$"),
    re.compile(r"^credentials(\.json)?$"),
)


def is_env_file(name: str) -> bool:
    """True for ``.env``-like and key files, judged by the base name."""
    return any(p.match(name) for p in ENV_FILE_PATTERNS)


_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----"
    r".*?"
    r"(?:-----END (?P=label)-----|\Z)",
    re.DOTALL,
)

# (kind, literal hints, pattern): the whole match is replaced; a rule runs only when one of its
# hints is in the text (a substring test costs far less than a regex scan).
_TOKENS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = (
    (
        "aws-access-key",
        ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA"),
        re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),
    ),
    (
        "github-token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b"),
    ),
    ("github-token", ("github_pat_",), re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b")),
    (
        "gitlab-token",
        ("glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glimt-", "glsoat-"),
        re.compile(r"\bgl(?:pat|dt|rt|ptt|cbt|imt|soat)-[A-Za-z0-9_-]{20,}\b"),
    ),
    ("slack-token", ("xox",), re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}\b")),
    (
        "slack-webhook",
        ("hooks.slack.com",),
        re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}"),
    ),
    ("google-api-key", ("AIza",), re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    (
        "stripe-key",
        ("_live_", "_test_"),
        re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}\b"),
    ),
    ("api-key", ("sk-",), re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}\b")),
    ("npm-token", ("npm_",), re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("pypi-token", ("pypi-",), re.compile(r"\bpypi-[A-Za-z0-9_-]{50,}\b")),
    ("huggingface-token", ("hf_",), re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("twilio-key", ("SK",), re.compile(r"\bSK[0-9a-fA-F]{32}\b")),
    ("sendgrid-key", ("SG.",), re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\b")),
    (
        "jwt",
        ("eyJ",),
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ),
    (
        "azure-key",
        ("AccountKey=", "SharedAccessKey=", "accountkey=", "sharedaccesskey="),
        re.compile(r"(?i)(?<=AccountKey=)[A-Za-z0-9+/=]{40,}|(?<=SharedAccessKey=)[^;\s'\"]{20,}"),
    ),
    # base64 of "-----BEGIN": a PEM key stored encoded (Kubernetes secrets, CI variables)
    ("private-key", ("LS0tLS1CRUdJTi",), re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/=]*")),
)
# detect-secrets detectors for formats the list above lacks: (kind, class path, hints)
_DS_TOKENS = (
    ("discord-token", "discord.DiscordBotTokenDetector", ()),
    ("mailchimp-key", "mailchimp.MailchimpDetector", ("-us",)),
    ("square-token", "square_oauth.SquareOAuthDetector", ("sq0csp-",)),
    ("telegram-token", "telegram_token.TelegramBotTokenDetector", (":",)),
)

# user:password@ in URLs of any scheme (the password only; the user may be empty).
_URL_CREDENTIALS = re.compile(
    r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^\s/:@'\"`<>]*:)(?P<secret>[^\s@/'\"`<>]+)(?=@)", re.I
)

# Authorization header values: "Bearer <token>", "Basic <base64>" (the value only).
_AUTH_HEADER = re.compile(r"(?P<pre>\b(?:Bearer|Basic)\s+)(?P<secret>[A-Za-z0-9._~+/=-]{16,})")

# Credentials on command lines (the value only).
_ARG = r"(?P<secret>'[^'\n]+'|\"[^\"\n]+\"|[^\s'\"]+)"
_CLI_HINTS = ("-u", "--user", "mysql", "mariadb", "sshpass", "redis-cli", "login", "--pass")
_CLI = (
    re.compile(r"(?P<pre>(?:^|\s)(?:-u|--user|--proxy-user)(?:\s+|=)['\"]?[^\s:'\"$]*:)" + _ARG),
    re.compile(
        r"(?P<pre>\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n]*?\s-p)" + _ARG
    ),
    re.compile(r"(?P<pre>\bsshpass\b[^\n]*?\s-p\s*)" + _ARG),
    re.compile(r"(?P<pre>\bredis-cli\b[^\n]*?\s-a\s+)" + _ARG),
    re.compile(r"(?P<pre>\b(?:docker|podman|helm)\b[^\n]*?\blogin\b[^\n]*?\s-p\s+)" + _ARG),
    re.compile(
        r"(?P<pre>(?:^|\s)--(?:password|passwd|pass|db-password|http-password|proxy-password|"
        r"ftp-password|token|api-key|apikey|access-token|auth-token|private-token|secret|"
        r"client-secret)(?:=|\s+))" + _ARG
    ),
)

# Kubernetes Secret manifests: every value under data: / stringData: is a secret.
_K8S_KIND = re.compile(r"^kind:\s*['\"]?Secret['\"]?\s*(?:#.*)?$", re.M)
_K8S_BLOCK = re.compile(r"^(?P<indent>\s*)(?:data|stringData):\s*(?:#.*)?$")
_K8S_ENTRY = re.compile(r"^(?P<key>\s*[^\s:#][^:]*:\s+)(?P<value>\S.*?)\s*$")

_SECRET_NAME = (
    r"[A-Za-z0-9_.-]*(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|apikey|access[_-]?key|"
    r"auth[_-]?key|private[_-]?key|client[_-]?secret|credentials?|signing[_-]?key|"
    r"encryption[_-]?key|session[_-]?key|webhook[_-]?url|dsn|conn(?:ection)?[_-]?str(?:ing)?)"
    r"[A-Za-z0-9_.-]*"
)
# NAME = "value" | NAME: value | "NAME": "value" | NAME=value (env style); quotes may be escaped
# (JSON inside a string: \"password\": \"...\")
_ASSIGNMENT = re.compile(
    r"(?i)(?P<name>\\?['\"]?\b" + _SECRET_NAME + r"\\?['\"]?)"
    r"(?P<op>\s*(?::=|=>|[:=])\s*)"
    r"(?P<q>(?:\\?['\"`])?)(?P<value>[^\s'\"`,;)}\]&\\]{4,})(?P=q)"
)
# Shell, Dockerfile and .env lines: export NAME=value, ENV NAME=value, NAME=value.
_ENV_LINE = re.compile(
    r"^\s*(?:export\s+|ENV\s+|ARG\s+|set\s+|declare\s+-x\s+|-\s+)?"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<q>['\"]?)(?P<value>[^\s'\"]+)(?P=q)\s*(?:#.*)?$"
)
# Lines the keyword rules look at (matched on the lower-cased line).
_HINT = re.compile(r"secret|token|pass|pwd|key|credential|dsn|conn|auth|contrase|webhook")
# Any long quoted literal that looks random.
_LITERAL = re.compile(r"(?P<q>['\"`])(?P<value>[A-Za-z0-9+/=_\-.~]{32,})(?P=q)")

_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|\.+|-+|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%\(?[a-z_]+\)?s?|"
    r"\{\{.*\}\}|changeme|change[-_]me|changeit|example|placeholder|dummy|redacted|none|null|"
    r"true|false|your[-_].*|test|secret|password|todo|fixme|xxx.*|\[redacted:[a-z-]+\])$"
)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_CODE_VALUE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*\.)+[A-Za-z_][A-Za-z0-9_]*$|^[A-Za-z_]+\(")
# Values that stand for no secret: fixture words, type names, switches.
_WEAK_VALUES = _wordset(
    "pass passwd pwd secret secrets token password test testing user username admin guest "
    "root foo bar baz qux demo sample default string str int integer bool boolean number "
    "float object any optional required text hidden masked omitted yes no on off empty "
    "undefined nil env environment value values vault prompt ask"
)
# A secret-like name ending in one of these words names something about a secret, not one:
# password_field, secretName, token_count, secret_key_ref, password_file, token_url, ...
_NAME_STOP = _wordset(
    "name names field fields count counts len length size type types id ids ref refs file "
    "files path paths dir env var vars header headers prefix suffix format pattern regex "
    "policy mode enabled required provider store manager url uri endpoint label class kind "
    "help prompt message msg error hint placeholder min max expiry expires expiration ttl "
    "timeout version scope scopes backend method algorithm alg location source template "
    "selector mount volume rotation description desc text title lifetime duration age limit "
    "validator strength reset changed updated created at date time flag option arg args param "
    "params attr attribute column table input widget form view handler callback fn func cls "
    "schema check length_min length_max hash_alg index idx key_name usage budget"
)
_PW_WORDS = _wordset("password passwd pwd pass passphrase passcode pin contrasena")
_CONFIG_SUFFIXES = _wordset(
    ".yaml .yml .ini .cfg .conf .cnf .toml .properties .env .sh .bash .zsh .ksh .fish .json "
    ".tf .tfvars .hcl .example .sample .template"
)
_CONFIG_NAMES = _wordset("dockerfile containerfile makefile .envrc")


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``."""
    if not text:
        return 0.0
    counts = Counter(text)
    size = len(text)
    return -sum(c / size * math.log2(c / size) for c in counts.values())


def _looks_secret(value: str, quoted: bool) -> bool:
    if _PLACEHOLDER.match(value) or value.startswith("[REDACTED"):
        return False
    if re.search(r"[{}\[\]()]", value):
        return False  # code or a template, not a literal: get("token"), {SECRETS[k]}, f(x)
    if not quoted and not re.fullmatch(r"[A-Za-z0-9+/=_\-.~:@]+", value):
        return False
    if not quoted and _CODE_VALUE.match(value):
        return False  # password = settings.password, token=get_token(
    if (
        not quoted
        and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value)
        and sum(c.isdigit() for c in value) < 4
    ):
        return False  # an identifier: token = token_value
    if value.isdigit() and len(value) < 12:
        return False
    return len(value) >= 8 and shannon_entropy(value) >= 2.5


@dataclass
class Redaction:
    """Redacted text and what was removed (kinds and counts, never the values)."""

    text: str
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return sum(self.kinds.values())


@dataclass(frozen=True)
class _DetectSecrets:
    """What we use of detect-secrets, loaded once and only when a text needs it."""

    keyword: Any  # detect_secrets.plugins.keyword (its regexes by file type)
    file_type: Callable[[str], Any]
    name: re.Pattern[str]  # a denylisted name inside a keyword match
    tokens: tuple[tuple[str, tuple[str, ...], tuple[re.Pattern[str], ...]], ...]
    filters: tuple[Callable[[str], bool], ...]  # value -> is a false positive
    likely_id: Callable[[str, str], bool]  # (value, line) -> an id, not a secret


@lru_cache(maxsize=1)
def _detect_secrets() -> _DetectSecrets:
    import importlib

    from detect_secrets.filters import heuristic
    from detect_secrets.plugins import keyword
    from detect_secrets.util.filetype import determine_file_type

    tokens = []
    for kind, dotted, hints in _DS_TOKENS:
        module, cls = dotted.rsplit(".", 1)
        plugin = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), cls)()
        tokens.append((kind, hints, tuple(plugin.denylist)))
    return _DetectSecrets(
        keyword=keyword,
        file_type=determine_file_type,
        name=re.compile(r"[\w.-]*(?:" + keyword.DENYLIST_REGEX + r")", re.IGNORECASE),
        tokens=tuple(tokens),
        filters=(
            heuristic.is_templated_secret,
            heuristic.is_prefixed_with_dollar_sign,
            heuristic.is_sequential_string,
            heuristic.is_not_alphanumeric_string,
        ),
        likely_id=lambda value, line: heuristic.is_likely_id_string(value, line),
    )


def _is_config(path: str | None) -> bool:
    """Configuration, shell and data files: there an unquoted value is a literal."""
    if path is None:
        return False
    pure = PurePosixPath(path)
    name = pure.name.lower()
    return (
        name in _CONFIG_NAMES
        or name.startswith(("dockerfile", ".env"))
        or pure.suffix.lower() in _CONFIG_SUFFIXES
    )


def _words(name: str) -> list[str]:
    """``dbPassword`` / ``DB_PASSWORD`` / ``db.password`` -> ``["db", "password"]``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def _stands_for_nothing(value: str) -> bool:
    """A placeholder, a variable, a template or fixture words (``user:pass``, ``$TOKEN``)."""
    from urllib.parse import unquote

    value = value.strip("'\"")
    if len(value) < 4 or _PLACEHOLDER.match(value) or value.startswith("[REDACTED"):
        return True  # u:p@host
    if value[0] in "$%{<" or value.isdigit() or re.fullmatch(r"[A-Z][A-Z0-9_]*", value):
        return True  # $VAR, %s, {x}, <x>, 1000 (a uid), METAVAR
    parts = re.split(r"[^a-z0-9]+", unquote(value).lower())
    return all(p in _WEAK_VALUES for p in parts if p)


def _no_auth_value(value: str) -> bool:
    """A header value that is no secret: low entropy, or Basic of fixture words (test:test)."""
    if not _looks_secret(value, True):
        return True
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except ValueError:
        return False
    user, colon, password = decoded.decode("utf-8", "ignore").partition(":")
    return bool(colon) and _stands_for_nothing(user + ":" + password)


def _is_secret_value(name: str, value: str, *, quoted: bool, config: bool, line: str) -> bool:
    """Whether ``value``, assigned to ``name`` on ``line``, is a secret worth removing."""
    words = _words(name)
    if not words or words[-1] in _NAME_STOP:
        return False  # password_field, secretName, token_count: about a secret, not one
    if name.strip("\\'\"").lower().endswith(("tokens", "secrets", "keys", "passwords")):
        return False  # counts and collections: max_tokens = 800, secrets: Counter
    if not value or _stands_for_nothing(value) or value[0] in "!&*":
        return False  # YAML tags, anchors and aliases too
    low = value.lower()
    if re.sub(r"[^a-z0-9]", "", low) in "".join(words):
        return False  # app.secret_key = "secret_key"
    ds = _detect_secrets()
    if any(f(value) for f in ds.filters) or ds.likely_id(value, line):
        return False
    if re.search(r"[{}\[\]()<>\s]", value):
        return False  # code or a template: get("token"), {SECRETS[k]}, f(x)
    if value.startswith(("/", "./", "../", "~/")) or re.fullmatch(
        r"[\w.-]+\.(?:pem|key|crt|cer|txt|json|ya?ml|env|p12|pfx|jks|cfg|ini|conf|gpg|asc)", low
    ):
        return False  # a path to the secret, not the secret
    if not (quoted or config):
        return _looks_secret(value, False)  # in code an unquoted value is a name
    if any(w in _PW_WORDS for w in words):
        return len(value) >= (4 if config else 6)  # short passwords under an explicit key
    if value.isalpha() and value.islower() and len(value) < 12:
        return False  # a word: SECRET_KEY = "config"
    return len(value) >= 6 if config else _looks_secret(value, True)


def _keyword_line(line: str, *, config: bool, table: dict[Any, int], kinds: Counter[str]) -> str:
    """Secrets assigned to secret-like names on one line."""
    ds = _detect_secrets()
    norm = line.replace('\\"', '"').replace("\\'", "'") if "\\" in line else line
    found: list[tuple[str, str, bool]] = []  # (name, value, quoted)
    env = _ENV_LINE.match(norm)
    if env and (config or env["name"].isupper()):  # env style: a literal even in code
        found.append((env["name"], env["value"], True))
    for regex, group in table.items():  # detect-secrets' keyword detector for this file type
        for m in regex.finditer(norm):
            value, start = m.group(group), m.start(group)
            named = ds.name.search(m.group(0))
            if value and named:
                value = re.sub(r"\s+[#;].*$", "", value).strip().rstrip(",;")  # a trailing comment
                found.append((named.group(0), value, start > 0 and norm[start - 1] in "'\"`"))
    for m in _ASSIGNMENT.finditer(norm):  # names it does not know: tokens, credentials, dsn
        found.append((m["name"].strip("\\'\""), m["value"], bool(m["q"])))
    out = line
    for name, value, quoted in found:
        if value not in out or not _is_secret_value(
            name, value, quoted=quoted, config=config, line=norm
        ):
            continue
        # the value wherever it stands alone on the line (never inside the name)
        alone = re.compile(r"(?<![\w.-])" + re.escape(value) + r"(?![\w.-])")
        out, n = alone.subn("[REDACTED:secret-assignment]", out)
        kinds["secret-assignment"] += bool(n)
    return out


def _k8s_secrets(text: str, kinds: Counter[str]) -> str:
    """The values under ``data:`` / ``stringData:`` of every ``kind: Secret`` YAML document."""
    lines = text.split("\n")
    starts = [0] + [i for i, line in enumerate(lines) if line.startswith("---")] + [len(lines)]
    for a, b in itertools.pairwise(starts):
        if not any(_K8S_KIND.match(line) for line in lines[a:b]):
            continue
        block: int | None = None  # indent of the data: line while inside its block
        entry: int | None = None  # indent of its entries
        for i in range(a, b):
            line = lines[i]
            indent = len(line) - len(line.lstrip())
            if block is not None and line.strip() and not line.lstrip().startswith("#"):
                if indent <= block:
                    block = entry = None
                elif entry is None or indent == entry:
                    entry = indent
                    m = _K8S_ENTRY.match(line)
                    if m and m["value"] not in ("|", ">", "|-", ">-", "|+", ">+"):
                        lines[i] = m["key"] + "[REDACTED:k8s-secret]"
                        kinds["k8s-secret"] += 1
                    continue
                else:  # a block scalar's lines
                    lines[i] = line[:indent] + "[REDACTED:k8s-secret]"
                    kinds["k8s-secret"] += 1
                    continue
            m = _K8S_BLOCK.match(line)
            if m:
                block, entry = len(m["indent"]), None
    return "\n".join(lines)


def _substitute(
    text: str, pattern: re.Pattern[str], kind: str, keep: Callable[[str], bool], kinds: Counter[str]
) -> str:
    """Replace the ``secret`` group of each match unless ``keep(secret)``."""

    def sub(match: re.Match[str]) -> str:
        if keep(match["secret"]):
            return match.group(0)
        kinds[kind] += 1
        return match["pre"] + f"[REDACTED:{kind}]"

    return pattern.sub(sub, text)


def _tokens(
    text: str,
    rules: Iterable[tuple[str, tuple[str, ...], Iterable[re.Pattern[str]]]],
    kinds: Counter[str],
) -> str:
    for kind, hints, patterns in rules:
        if hints and not any(h in text for h in hints):
            continue
        for pattern in patterns:

            def token(match: re.Match[str], kind: str = kind) -> str:
                kinds[kind] += 1
                return f"[REDACTED:{kind}]"

            text = pattern.sub(token, text)
    return text


def redact(text: str, path: str | None = None) -> Redaction:
    """Replace secrets in ``text`` with ``[REDACTED:<kind>]``, keeping every line break.

    ``path`` (the file's name) tells configuration and shell files, where unquoted values are
    literals, from code, where they are names; without it ``text`` is read as code.
    """
    kinds: Counter[str] = Counter()

    def block(match: re.Match[str]) -> str:
        kinds["private-key"] += 1
        lines = match.group(0).split("\n")
        return "\n".join(["[REDACTED:private-key]"] + [""] * (len(lines) - 1))

    out = _PRIVATE_KEY.sub(block, text) if "-----BEGIN " in text else text
    if "Secret" in out and _K8S_KIND.search(out):
        out = _k8s_secrets(out, kinds)
    out = _tokens(out, ((k, h, (p,)) for k, h, p in _TOKENS), kinds)
    out = _tokens(out, _detect_secrets().tokens, kinds)
    if "://" in out:
        out = _substitute(out, _URL_CREDENTIALS, "url-credentials", _stands_for_nothing, kinds)
    if "Bearer" in out or "Basic" in out:
        out = _substitute(out, _AUTH_HEADER, "auth-header", _no_auth_value, kinds)
    if any(h in out for h in _CLI_HINTS):
        for pattern in _CLI:
            out = _substitute(out, pattern, "cli-credentials", _stands_for_nothing, kinds)
    if _HINT.search(out.lower()):
        config = _is_config(path)
        keyword = _detect_secrets().keyword
        table = keyword.REGEX_BY_FILETYPE.get(
            _detect_secrets().file_type(path or ""),
            keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
        )
        lines = out.split("\n")
        for i, line in enumerate(lines):
            if len(line) < 4000 and _HINT.search(line.lower()):
                lines[i] = _keyword_line(line, config=config, table=table, kinds=kinds)
        out = "\n".join(lines)

    def literal(match: re.Match[str]) -> str:
        value = match.group("value")
        if value.count("/") >= 2 and re.fullmatch(r"[\w.\-/~]+", value):
            return match.group(0)  # a path or URL part, not a key
        if re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+", value.lstrip("~.!")):
            return match.group(0)  # a dotted name: module.attribute, :class:`~pkg.Name`
        if not _high_entropy(value):
            return match.group(0)
        kinds["high-entropy"] += 1
        q = match.group("q")
        return f"{q}[REDACTED:high-entropy]{q}"

    out = _LITERAL.sub(literal, out)
    return Redaction(out, kinds)


_MARK = re.compile(r"\[REDACTED:([a-z-]+)\]")


def redacted_kinds(text: str) -> Counter[str]:
    """The kinds of the ``[REDACTED:<kind>]`` marks in already redacted ``text``."""
    return Counter(_MARK.findall(text))


def _high_entropy(value: str) -> bool:
    if re.fullmatch(r"[0-9a-f]+", value):
        # hex digests (commit SHAs, checksums) are common in code and not secrets by themselves
        return False
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[+/=_\-.~]"))
    return classes >= 3 and shannon_entropy(value) >= 4.2

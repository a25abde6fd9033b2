"""Secret redaction: applied to every piece of code before a request is built.

:func:`redact` replaces private keys, cloud and VCS tokens, credentials in URLs, ``Bearer`` /
``Basic`` authorization values and high-entropy values assigned to secret-looking names with
``[REDACTED:<kind>]``. Line breaks are kept, so line numbers stay valid for anchoring. The
result says how many secrets were removed and of which kinds (never the secrets themselves).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

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

# (kind, pattern): the whole match is replaced.
_TOKENS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")),
    ("github-token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b")),
    ("github-token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b")),
    ("gitlab-token", re.compile(r"\bgl(?:pat|dt|rt|ptt|cbt|imt|soat)-[A-Za-z0-9_-]{20,}\b")),
    ("slack-token", re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}\b")),
    ("slack-webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("stripe-key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}\b")),
    ("api-key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}\b")),
    ("npm-token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("pypi-token", re.compile(r"\bpypi-[A-Za-z0-9_-]{50,}\b")),
    ("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("twilio-key", re.compile(r"\bSK[0-9a-fA-F]{32}\b")),
    ("sendgrid-key", re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    (
        "azure-key",
        re.compile(r"(?i)(?<=AccountKey=)[A-Za-z0-9+/=]{40,}|(?<=SharedAccessKey=)[^;\s'\"]{20,}"),
    ),
)

# user:password@ in URLs (the password only).
_URL_CREDENTIALS = re.compile(
    r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^\s/:@'\"]+:)(?P<secret>[^\s@/'\"]+)(?=@)"
)

# Authorization header values: "Bearer <token>", "Basic <base64>" (the value only).
_AUTH_HEADER = re.compile(r"(?P<pre>\b(?:Bearer|Basic)\s+)(?P<secret>[A-Za-z0-9._~+/=-]{16,})")

_SECRET_NAME = (
    r"[A-Za-z0-9_.-]*(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|apikey|access[_-]?key|"
    r"auth[_-]?key|private[_-]?key|client[_-]?secret|credentials?|signing[_-]?key|"
    r"encryption[_-]?key|session[_-]?key|webhook[_-]?url|dsn|conn(?:ection)?[_-]?str(?:ing)?)"
    r"[A-Za-z0-9_.-]*"
)
# NAME = "value" | NAME: value | "NAME": "value" | NAME=value (env style)
_ASSIGNMENT = re.compile(
    r"(?i)(?P<name>['\"]?\b" + _SECRET_NAME + r"['\"]?)"
    r"(?P<op>\s*(?::=|=>|[:=])\s*)"
    r"(?P<q>['\"`]?)(?P<value>[^\s'\"`,;)}\]]{6,})(?P=q)"
)
# Any long quoted literal that looks random.
_LITERAL = re.compile(r"(?P<q>['\"`])(?P<value>[A-Za-z0-9+/=_\-.~]{32,})(?P=q)")

_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|\.+|-+|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%\(?[a-z_]+\)?s?|"
    r"\{\{.*\}\}|changeme|change[-_]me|example|placeholder|dummy|redacted|none|null|"
    r"true|false|your[-_].*|test|secret|password|todo|fixme|xxx.*|\[redacted:[a-z-]+\])$"
)
_CODE_VALUE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*\.)+[A-Za-z_][A-Za-z0-9_]*$|^[A-Za-z_]+\(")


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


def redact(text: str) -> Redaction:
    """Replace secrets in ``text`` with ``[REDACTED:<kind>]``, keeping every line break."""
    kinds: Counter[str] = Counter()

    def block(match: re.Match[str]) -> str:
        kinds["private-key"] += 1
        lines = match.group(0).split("\n")
        return "\n".join(["[REDACTED:private-key]"] + [""] * (len(lines) - 1))

    out = _PRIVATE_KEY.sub(block, text)

    for kind, pattern in _TOKENS:

        def token(match: re.Match[str], kind: str = kind) -> str:
            kinds[kind] += 1
            return f"[REDACTED:{kind}]"

        out = pattern.sub(token, out)

    def url(match: re.Match[str]) -> str:
        if _PLACEHOLDER.match(match.group("secret")):
            return match.group(0)
        kinds["url-credentials"] += 1
        return match.group("pre") + "[REDACTED:url-credentials]"

    out = _URL_CREDENTIALS.sub(url, out)

    def auth_header(match: re.Match[str]) -> str:
        if not _looks_secret(match.group("secret"), True):
            return match.group(0)
        kinds["auth-header"] += 1
        return match.group("pre") + "[REDACTED:auth-header]"

    out = _AUTH_HEADER.sub(auth_header, out)

    def assignment(match: re.Match[str]) -> str:
        value = match.group("value")
        name = match.group("name").strip("'\"").lower()
        if name.endswith(("tokens", "secrets", "keys", "passwords")):
            return match.group(0)  # counts and collections: max_tokens = 800, secrets: Counter
        if not _looks_secret(value, bool(match.group("q"))):
            return match.group(0)
        kinds["secret-assignment"] += 1
        q = match.group("q")
        return f"{match.group('name')}{match.group('op')}{q}[REDACTED:secret-assignment]{q}"

    out = _ASSIGNMENT.sub(assignment, out)

    def literal(match: re.Match[str]) -> str:
        value = match.group("value")
        if value.count("/") >= 2 and re.fullmatch(r"[\w.\-/~]+", value):
            return match.group(0)  # a path or URL part, not a key
        if re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+", value):
            return match.group(0)  # a dotted name: module.attribute
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

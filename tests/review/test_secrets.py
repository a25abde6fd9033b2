"""Secret redaction: planted secrets removed, line breaks kept, ordinary code left alone."""

from __future__ import annotations

from secrets_corpus import SECRETS

from assistants.review.secrets import is_env_file, redact, redacted_kinds


def test_redact_removes_every_planted_secret_and_keeps_lines() -> None:
    text = "\n".join(
        [
            f'AWS_ACCESS_KEY_ID = "{SECRETS["aws"]}"',
            f"token = '{SECRETS['github']}'",
            f"SLACK={SECRETS['slack']}",
            f'maps_key = "{SECRETS["google"]}"',
            f'client = OpenAI(api_key="{SECRETS["openai"]}")',
            f'db_password = "{SECRETS["password"]}"',
            f'DSN = "postgres://admin:{SECRETS["url"]}@db/app"',
            f'blob = "{SECRETS["entropy"]}"',
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
            "-----END OPENSSH PRIVATE KEY-----",
            "password = settings.password",
            'path = "/usr/local/lib/python3.11/site-packages/x"',
            'sha = "3f786850e387550fdab836ed7e6dc881de23001b"',
        ]
    )
    result = redact(text)
    for value in SECRETS.values():
        assert value not in result.text
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" not in result.text
    assert result.text.count("\n") == text.count("\n")
    assert "password = settings.password" in result.text
    assert "/usr/local/lib/python3.11/site-packages/x" in result.text
    assert "3f786850e387550fdab836ed7e6dc881de23001b" in result.text
    assert result.count == 9
    assert result.kinds["private-key"] == 1


def test_env_like_names() -> None:
    assert is_env_file(".env") and is_env_file(".env.local") and is_env_file("id_rsa")
    assert is_env_file("server.pem") and not is_env_file("environment.py")


def test_authorization_header_values_are_redacted() -> None:
    token = "8f4Kd92LmQx7Zp3RtY6vWn1B"
    code = (
        f'headers = {{"Authorization": "Bearer {token}"}}\n'
        'curl -H "Authorization: Basic dXNlcjpwYXNzd29yZDEyMzQ="\n'
    )
    red = redact(code)
    assert token not in red.text and "dXNlcjpwYXNzd29yZDEyMzQ" not in red.text
    assert red.kinds["auth-header"] == 2 and red.text.count("\n") == 2
    for ordinary in ('f"Bearer {token}"', '"Bearer " + token', "Bearer YOUR_TOKEN_HERE_PLEASE"):
        assert redact(ordinary).text == ordinary


ORDINARY_CODE = [
    'max_tokens = body.get("max_tokens")',
    "input_tokens = llm.estimate(sent, output_tokens=0).input_tokens",
    "secrets: Counter[str] = Counter()",
    'password = request.get("password")',
    'f"input tokens: {est.input_tokens:,} · output tokens: {est.output_tokens:,}"',
    'unit_tokens=data.get("unit_tokens", 1_000_000),',
    "cache_hit_tokens=-usage.cache_hit_tokens,",
    '(see ``assistants.llm.selector.PROFILE_DEFAULTS``)."""',
    'AWS_ACCESS_KEY_ID = "{settings[aws_key]}"',
    "token = get_token()",
    "api_key = settings.api_key",
]


def test_redaction_leaves_ordinary_code_alone() -> None:
    """Code that merely names tokens, keys or passwords is reviewed as written."""
    for line in ORDINARY_CODE:
        result = redact(line)
        assert result.text == line and result.count == 0, line


def test_redaction_marks_are_counted_by_kind() -> None:
    red = redact(f"a = '{SECRETS['github']}'\nb = '{SECRETS['aws']}'\n")
    assert redacted_kinds(red.text) == red.kinds
    assert redacted_kinds("nothing here") == {}

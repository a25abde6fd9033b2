"""Real-looking secrets planted in code under review (none is a live credential)."""

from __future__ import annotations

SECRETS = {
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "github": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "slack": "xoxb-123456789012-abcdefghijklmnop",
    "google": "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "openai": "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8t",
    "password": "hunter2-Correct-Horse",
    "url": "s3cr3tP4ssw0rd",
    "entropy": "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRkdISUpL+/==",
}

# Secrets written the way config and shell files write them: form -> [(file name, text, secret)]
# Each secret is fake but shaped like a real one; the text is what a repository would hold.
_PEM_B64 = (
    "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVBdVh6N2tRMmZM"
    "OXBSM3ZUNndZOG1OMWpLNGhHN2NWNWJYMnNEOWZBMAotLS0tLUVORCBSU0EgUFJJVkFURSBLRVktLS0tLQo="
)
FORMS: dict[str, list[tuple[str, str, str]]] = {
    "yaml-unquoted": [
        (
            "config/db.yaml",
            "database:\n  host: db.internal\n  password: Tr0ub4dor-Zq81\n",
            "Tr0ub4dor-Zq81",
        ),
        (
            "deploy/app.yml",
            "smtp:\n  user: mailer\n  smtp_password: mK3vQz9LwP2x  # rotate\n",
            "mK3vQz9LwP2x",
        ),
        ("ci.yaml", "services:\n  api:\n    api_key: 7Hq2LxVz9RkP4mWt\n", "7Hq2LxVz9RkP4mWt"),
    ],
    "ini-unquoted": [
        ("setup/app.ini", "[database]\nuser = app\npassword = Qw7!pZr4Lm2v\n", "Qw7!pZr4Lm2v"),
        ("etc/my.cnf", "[client]\nuser=backup\npassword=Hx93kLpQ2zRv\n", "Hx93kLpQ2zRv"),
    ],
    "toml": [
        ("conf/settings.toml", '[auth]\nclient_secret = "d8Fk2LqP9vXz3RmT"\n', "d8Fk2LqP9vXz3RmT"),
        ("pyproject.local.toml", "[db]\npassword = 'Vb6tN2qLp8Rw'\n", "Vb6tN2qLp8Rw"),
    ],
    "properties": [
        (
            "src/main/resources/application.properties",
            "spring.datasource.url=jdbc:postgresql://db:5432/app\n"
            "spring.datasource.password=Pz7wK2mQ9tLx\n",
            "Pz7wK2mQ9tLx",
        ),
        (
            "conf/mail.properties",
            "mail.smtp.user=alerts\nmail.smtp.password : Lr4vB8nQ2xWz\n",
            "Lr4vB8nQ2xWz",
        ),
    ],
    "shell": [
        ("scripts/env.sh", "#!/bin/sh\nexport DB_PASSWORD=Kq8zV2mP5tRw\n", "Kq8zV2mP5tRw"),
        ("scripts/deploy.sh", "API_KEY=Zx4Tq9LmV2pR7wKs\n./deploy --prod\n", "Zx4Tq9LmV2pR7wKs"),
        ("Dockerfile", "FROM python:3.12\nENV SECRET_KEY=Jm3Wq8Lz5vXp2Rt\n", "Jm3Wq8Lz5vXp2Rt"),
    ],
    "command-line": [
        (
            "scripts/fetch.sh",
            "curl -u deploy:Gh7Lq2Vz9mKp https://ci.internal/api\n",
            "Gh7Lq2Vz9mKp",
        ),
        ("scripts/dump.sh", "mysqldump -u root -pWq5Rz8Lm3Vx app > dump.sql\n", "Wq5Rz8Lm3Vx"),
        ("scripts/sync.sh", "sshpass -p 'Nv4Kx9Qm2Lz' ssh backup@10.0.0.5 true\n", "Nv4Kx9Qm2Lz"),
        (
            "tools/login.py",
            'os.system("docker login -u bot -p Tz6Mq3Lv8Kw registry.io")\n',
            "Tz6Mq3Lv8Kw",
        ),
    ],
    "url-credentials": [
        ("app/cache.py", 'REDIS = "redis://:Rv8Lq3Zm7Kx@cache:6379/0"\n', "Rv8Lq3Zm7Kx"),
        (
            "app/db.py",
            'MONGO = "mongodb+srv://app:Pq2Wm9Lz4Vx@c0.mongodb.net/prod"\n',
            "Pq2Wm9Lz4Vx",
        ),
        ("deploy/queue.yaml", "broker: amqp://worker:Hz5Kq8Lm2Vw@rabbit:5672//\n", "Hz5Kq8Lm2Vw"),
    ],
    "k8s-secret": [
        (
            "k8s/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-credentials\ntype: Opaque\n"
            "data:\n  username: YWRtaW5pc3RyYXRvcg==\n  password: czNjcjN0LVBAc3N3MHJkLTIwMjQ=\n",
            "czNjcjN0LVBAc3N3MHJkLTIwMjQ=",
        ),
        (
            "k8s/tls.yaml",
            f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-tls\ntype: kubernetes.io/tls\n"
            f"data:\n  tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\n  tls.key: {_PEM_B64}\n",
            _PEM_B64,
        ),
        (
            "k8s/string.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\nstringData:\n"
            '  token: wK9vQ2mL7zXp\n  config.json: |\n    {"key": "Lm4Qz8Vw2Kx"}\n',
            "Lm4Qz8Vw2Kx",
        ),
    ],
    "short-password": [
        ("app/login.py", 'creds = {"user": "ops", "password": "hunter2"}\n', "hunter2"),
        ("config/users.json", '{"name": "backup", "passwd": "letmein9"}\n', "letmein9"),
        ("app/client.py", 'db = connect(host="db", password="s3same!")\n', "s3same!"),
    ],
    "escaped-json": [
        ("app/fixture.py", 'BODY = "{\\"password\\": \\"Qz7Lm2Vx9K\\"}"\n', "Qz7Lm2Vx9K"),
        (
            "app/payload.js",
            "const s = '{\\'api_key\\': \\'Mv3Kz8Lq2Wx5Rt\\'}';\n",
            "Mv3Kz8Lq2Wx5Rt",
        ),
    ],
}

# Ordinary configuration and code that names secrets without holding one: never redacted.
ORDINARY_CONFIG = [
    ("models.py", "password_field: str"),
    ("tokens.py", "token_count = len(tokens)"),
    ("k8s/deploy.yaml", "        secret_name: my-app-secret"),
    ("k8s/deploy.yaml", "          secretName: my-app-secret"),
    ("k8s/deploy.yaml", "              key: password"),
    ("app.yaml", "password: ${DB_PASSWORD}"),
    ("app.yaml", 'api_key: "{{ .Values.apiKey }}"'),
    ("app.ini", "password = %(db_password)s"),
    ("settings.toml", 'password_file = "/run/secrets/db_password"'),
    ("env.sh", 'export DB_PASSWORD="$(vault read -field=value secret/db)"'),
    ("env.sh", "export API_KEY=$API_KEY_FROM_CI"),
    ("fetch.sh", 'curl -u "$USER:$TOKEN" https://example.com'),
    ("cli.py", 'parser.add_argument("--password", help="the password")'),
    ("docs.py", "    password: The password to log in with."),
    ("app.yaml", "token_url: https://auth.example.com/oauth/token"),
    ("app.yaml", "secret_key_ref: app-secret"),
    ("conf.properties", "db.password.length.min=12"),
    ("run.sh", "docker run -u 1000:1000 image"),
]

"""Secrets come only from the environment (docs/decisions/0042-security-pass.md).

- src/ holds no hard-coded secret: private keys, provider key ids, ``sk_…`` keys, and long
  hex/base64 literals assigned to a name that says key/secret/password/token. (The payments fake
  generates its RSA keys at run time, ``laoke.payments.fake.ensure_demo_keys``; test fixtures live
  under tests/, which is not scanned.) A negative control shows the scanner finds each kind.
- Every value of settings.LAOKE whose key says secret/key/password/token is empty unless its
  environment variable is set, and is exactly that variable's value when it is.
- Production refuses to start without SECRET_KEY, or with a weak one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
BIN = Path(sys.executable).parent

SECRET_WORDS = re.compile(r"(?i)secret|key|passw|token|pin\b")
PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    "sk_ key": re.compile(r"\bsk_(?:live|test)_[A-Za-z0-9]{10,}"),
    "AWS access key id": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "Aliyun AccessKey id": re.compile(r"\bLTAI[0-9A-Za-z]{12,}\b"),
    "Tencent SecretId": re.compile(r"\bAKID[0-9A-Za-z]{13,}\b"),
    "long literal assigned to a secret name": re.compile(
        r"""(?ix)\b[\w.\[\]"']*(?:secret|key|passw(?:or)?d|token)[\w"'\]]*\s*(?::\s*[\w.|\[\] ]+?\s*)?[:=]\s*
        [bru]?["']([A-Za-z0-9+/_\-]{20,}={0,2})["']"""
    ),
}
# Literals that match the last pattern but are not secrets (reviewed): path or name, not a value.
ALLOWED = {
    ("laoke/settings.py", "laoke.core.security.NonceAppDirectoriesLoader"),
}


def scan_text(text: str) -> list[tuple[str, str]]:
    found = []
    for kind, pattern in PATTERNS.items():
        for m in pattern.finditer(text):
            value = m.group(1) if m.groups() else m.group(0)
            if kind.startswith("long literal") and ("." in value or not _looks_random(value)):
                continue  # dotted paths, words_with_underscores: names, not secrets
            found.append((kind, value))
    return found


def _looks_random(value: str) -> bool:
    """Hex of 20+ or base64-ish text with digits and both cases: a key, not an identifier."""
    if re.fullmatch(r"[0-9a-fA-F]{20,}", value):
        return True
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return classes == 3 and not re.fullmatch(r"[A-Za-z]+(?:_[A-Za-z0-9]+)+", value)


def test_scanner_finds_each_kind():
    samples = [
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE...",
        "-----BEGIN PRIVATE KEY-----",
        'STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"',
        'ID = "AKIAIOSFODNN7EXAMPLE"',
        'ALIYUN_ID = "LTAI5tQz8dX4kY2mN7pR3sWv"',
        'access_key_secret = "Zx8Yq2Lm4Nb6Vc8Xz0Qa1Ws3Ed5Rf7Tg"',
        "api_token: str = 'f3a9c1e07b5d4a2e9c8b7a6f5e4d3c2b'",
        'LAOKE["SMS"]["callback_secret"] = "d41d8cd98f00b204e9800998ecf8427e"',
        'password="Pa55w0rdPa55w0rdPa55w0rd"',
    ]
    for sample in samples:
        assert scan_text(sample), sample
    for harmless in (
        'api_key = os.environ.get("LAOKE_API_KEY", "")',
        'SECRET_KEY_NAME = "laoke_member_session_cookie"',
        'key = "laoke.core.security.NonceFilesystemLoader"',
    ):
        assert not scan_text(harmless), harmless


def test_src_holds_no_hard_coded_secret():
    hits = []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in {
            ".py",
            ".html",
            ".js",
            ".json",
            ".txt",
            ".toml",
            ".cfg",
            ".ini",
            ".yml",
            ".yaml",
        }:
            continue
        if "migrations" in path.parts and path.suffix == ".py":
            pass  # migrations are scanned too
        rel = path.relative_to(SRC).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        for kind, value in scan_text(text):
            if (rel, value) not in ALLOWED:
                hits.append((rel, kind, value[:40]))
    assert not hits, hits


def test_payments_fake_generates_its_keys_at_run_time():
    text = (SRC / "laoke/payments/fake.py").read_text()
    assert "rsa.generate_private_key(" in text
    assert not PATTERNS["private key"].search(text)


# --- settings ------------------------------------------------------------------------------------

DUMP = """
import json
from django.conf import settings
def walk(value, path):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, path + [str(k)])
    else:
        yield path, value
print(json.dumps([[p, v if isinstance(v, (str, int, float, bool, type(None))) else str(v)]
                  for p, v in walk(settings.LAOKE, [])]))
"""
ENV_NAMES = re.compile(r"""os\.environ\.get\(\s*["']([A-Z0-9_]+)["']""")


def _clean_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAOKE_") and k != "SECRET_KEY"}
    env.update({"LAOKE_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "laoke.settings"})
    return env


def _laoke_settings(env) -> list[tuple[list[str], object]]:
    r = subprocess.run(
        [BIN / "laoke", "manage", "shell", "-c", DUMP], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return [(p, v) for p, v in json.loads(r.stdout.strip().splitlines()[-1])]


def _secret_leaves(leaves):
    return [(p, v) for p, v in leaves if SECRET_WORDS.search(p[-1]) and not p[-1].endswith("_id")]


def test_laoke_secrets_are_empty_without_the_environment(tmp_path):
    leaves = _secret_leaves(_laoke_settings(_clean_env(tmp_path)))
    names = {".".join(p) for p, _ in leaves}
    # The walk reaches the secrets it must (else the check below could pass on nothing).
    assert {"SMS.callback_secret", "SMS.aliyun.access_key_secret", "SMS.tencent.secret_key"} <= names
    assert {"SMS.gateway.secret", "EMAIL.password", "WEBHOOK.secret", "METRICS_TOKEN"} <= names
    assert all(v in ("", None) for _, v in leaves), [(n, v) for n, v in leaves if v not in ("", None)]


def test_laoke_secrets_are_read_from_the_environment(tmp_path):
    """Every environment variable named in settings.py whose name says secret/key/password/token
    is set to a marker: each secret leaf of LAOKE then holds a marker — so it came from there."""
    names = set(ENV_NAMES.findall((SRC / "laoke/settings.py").read_text()))
    secret_names = sorted(
        n for n in names if re.search(r"SECRET|KEY|PASSWORD|TOKEN", n) and n != "SECRET_KEY"
    )
    assert len(secret_names) >= 6, secret_names
    env = _clean_env(tmp_path)
    env.update({n: f"marker-{n}" for n in secret_names})
    leaves = _secret_leaves(_laoke_settings(env))
    not_from_env = [(".".join(p), v) for p, v in leaves if not str(v).startswith("marker-")]
    assert not not_from_env


# --- SECRET_KEY in production ---------------------------------------------------------------------


def _prod_check(tmp_path, secret_key: str | None):
    env = {
        **_clean_env(tmp_path),
        "LAOKE_ENV": "production",
        "ALLOWED_HOSTS": "crm.example.cn",
    }
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key
    return subprocess.run(
        [BIN / "laoke", "manage", "check"], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120
    )


@pytest.mark.parametrize(
    "key",
    [None, "", "short-key", "django-insecure-" + "k" * 60, "ab" * 40],
    ids=["missing", "empty", "short", "django-insecure", "few-distinct-characters"],
)
def test_production_refuses_to_start_without_a_strong_secret_key(tmp_path, key):
    r = _prod_check(tmp_path, key)
    assert r.returncode != 0 and "SECRET_KEY" in r.stderr, r.stderr[-1000:]
    assert not (tmp_path / "secret_key").exists()  # never falls back to a generated one


def test_production_starts_with_a_strong_secret_key(tmp_path):
    import secrets

    r = _prod_check(tmp_path, secrets.token_urlsafe(50))  # the control: the same check passes
    assert r.returncode == 0, r.stderr[-1000:]

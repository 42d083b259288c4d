"""Project-wide checks: layers, migrations, deploy settings, the CLI being safe to run twice."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_import_layers_contract():
    r = subprocess.run([BIN / "lint-imports", "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_no_module_defines_a_top_level_name_twice():
    """A second ``def`` of the same name silently replaces the first (ruff only flags it when the
    first is unused): a merge once left a stale copy of a locking helper in force."""
    import ast
    import collections

    twice = []
    for path in sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]):
        body = ast.parse(path.read_text(encoding="utf-8")).body
        names = collections.Counter(
            n.name for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        )
        twice += [f"{path.relative_to(ROOT)}: {name}" for name, k in names.items() if k > 1]
    assert twice == []


@pytest.mark.django_db
def test_no_missing_migrations():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "LAOKE_ENV": "production",
        "SECRET_KEY": "x" * 60 + "-a-long-random-production-secret",
        "ALLOWED_HOSTS": "crm.example.cn",
        "LAOKE_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "laoke.settings",
    }
    env.pop("LAOKE_TESTING", None)
    r = subprocess.run(
        [BIN / "laoke", "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_production_refuses_to_start_without_secret_key(tmp_path):
    env = {
        **os.environ,
        "LAOKE_ENV": "production",
        "LAOKE_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "laoke.settings",
    }
    env.pop("SECRET_KEY", None)
    r = subprocess.run(
        [BIN / "laoke", "manage", "check"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert r.returncode != 0 and "SECRET_KEY" in r.stderr


def test_cli_init_demo_createadmin_are_safe_to_run_twice(tmp_path):
    env = {**os.environ, "LAOKE_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "laoke.settings"}
    for key in ("DATABASE_URL", "LAOKE_TESTING"):
        env.pop(key, None)

    def run(*args):
        r = subprocess.run(
            [BIN / "laoke", *args], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120
        )
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout

    run("init")
    run("init")
    assert '"loaded": true' in run("demo", "--members", "50", "--json")
    assert "already loaded" in run("demo", "--members", "50")
    first = run("createadmin")
    assert "password:" in first and first == run("createadmin")
    out = run("export-member", "1", "--output", str(tmp_path / "pi"))
    assert (tmp_path / "pi").glob("member-*.xlsx")
    assert "xlsx" in out
    assert '"anonymised": true' in run("forget-member", "1")
    assert run("ledger", "check").strip().endswith("0 mismatches — OK")

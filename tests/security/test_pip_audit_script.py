"""The verdict of .ci/pip-audit.sh on pip-audit's JSON report (no network: PIP_AUDIT_JSON feeds a
report): a vulnerability → 1, unless its id or an alias is on .ci/pip-audit-ignore.txt; a package
that could not be audited → 2 (strict); nothing audited at all → 3 (both 0 with a loud warning under
LAOKE_PIP_AUDIT_ALLOW_UNAVAILABLE=1); a clean report → 0."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "pip-audit.sh"

VULN = {
    "id": "PYSEC-2099-1",
    "aliases": ["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"],
    "fix_versions": ["5.2.99"],
    "description": "A test vulnerability.",
}


def _run(tmp_path, report: dict, ignore: str = "", **env):
    # A copy of the script next to its own ignore list (the real list stays untouched).
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True, exist_ok=True)
    shutil.copy(SCRIPT, repo / ".ci" / "pip-audit.sh")
    (repo / ".ci" / "pip-audit-ignore.txt").write_text("# test\n" + ignore)
    if not (repo / ".venv").exists():
        (repo / ".venv").symlink_to(ROOT / ".venv")
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    r = subprocess.run(
        ["bash", str(repo / ".ci" / "pip-audit.sh")],
        env={**os.environ, "PIP_AUDIT_JSON": str(path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return r.returncode, r.stdout + r.stderr


def _deps(*extra):
    return {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}, *extra], "fixes": []}


def test_the_real_ignore_list_is_well_formed():
    for line in (ROOT / ".ci" / "pip-audit-ignore.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            vid, _, reason = line.partition(" ")
            assert vid and reason.strip(), f"an ignore needs a reason: {line!r}"


def test_clean_report_passes(tmp_path):
    rc, out = _run(tmp_path, _deps())
    assert rc == 0 and "clean" in out, out


def test_a_vulnerability_fails(tmp_path):
    rc, out = _run(tmp_path, _deps({"name": "jinja2", "version": "3.0.0", "vulns": [VULN]}))
    assert rc == 1 and "VULNERABLE jinja2==3.0.0: PYSEC-2099-1" in out and "5.2.99" in out, out


@pytest.mark.parametrize("listed", ["PYSEC-2099-1", "CVE-2099-0001"])
def test_an_ignored_vulnerability_passes(tmp_path, listed):
    rc, out = _run(
        tmp_path,
        _deps({"name": "jinja2", "version": "3.0.0", "vulns": [VULN]}),
        ignore=f"{listed}  not reachable from Laoke (test)\n",
    )
    assert rc == 0, out


def test_a_package_not_audited_fails_strictly(tmp_path):
    report = _deps({"name": "private-pkg", "skip_reason": "Dependency not found on PyPI"})
    rc, out = _run(tmp_path, report)
    assert rc == 2 and "NOT AUDITED private-pkg" in out, out
    rc, out = _run(tmp_path, report, LAOKE_PIP_AUDIT_ALLOW_UNAVAILABLE="1")
    assert rc == 0 and "NOT AUDITED private-pkg" in out and "WARNING" in out, out
    vulnerable = _deps(
        {"name": "private-pkg", "skip_reason": "x"}, {"name": "a", "version": "1", "vulns": [VULN]}
    )
    rc, out = _run(tmp_path, vulnerable, LAOKE_PIP_AUDIT_ALLOW_UNAVAILABLE="1")
    assert rc == 1 and "VULNERABLE a==1" in out, out  # never allowed


def test_an_unreachable_service_fails_unless_allowed(tmp_path):
    report = {
        "dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI"}],
        "fixes": [],
    }
    rc, out = _run(tmp_path, report)
    assert rc == 3, out
    rc, out = _run(tmp_path, report, LAOKE_PIP_AUDIT_ALLOW_UNAVAILABLE="1")
    assert rc == 0 and "NOT AUDITED" in out and "WARNING" in out, out

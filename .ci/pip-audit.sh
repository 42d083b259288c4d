#!/usr/bin/env bash
# Audit the project's own dependencies for known vulnerabilities (docs/decisions/0042-security-pass.md).
#
#   bash .ci/pip-audit.sh            # from the repository root; uses .venv
#
# What is audited: the distributions installed in .venv as `pip freeze` lists them (pinned, exact
# versions; pip/setuptools/wheel and the editable project itself are left out), with --no-deps
# (the list is already complete) against PyPI's vulnerability data, in --strict spirit: a package
# that could not be audited is a failure too.
# Ignores: IDs listed in .ci/pip-audit-ignore.txt (each with its reason there and in the decision);
# an ID matches a vulnerability's id or any of its aliases (PYSEC-…, GHSA-…, CVE-…).
# PIP_AUDIT_JSON=report.json judges a given pip-audit JSON report instead of running the audit.
# Exit codes: 0 clean; 1 a vulnerability not on the ignore list; 2 some packages could not be
# audited (strict); 3 the vulnerability service could not be used at all (no package could be
# looked up). A package pip-audit could not look up is asked for again on PyPI's project page,
# whose vulnerability list is the latest release's: exact when that release is the one pinned (this
# machine's PyPI mirror serves those pages but not the per-version ones pip-audit uses).
# LAOKE_PIP_AUDIT_ALLOW_UNAVAILABLE=1 turns 2 and 3 into a loud warning naming every package not
# audited, and exit 0 — for a machine whose network cannot reach the service; never set it where the
# service is reachable. A known vulnerability always fails.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$VENV/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check \
  | grep -v -E '^(-e |#|laoke==|laoke @)' >"$work/requirements.txt"
echo "pip-audit: $(wc -l <"$work/requirements.txt") pinned distributions from $VENV"

ignores=()
while read -r id _; do
  [[ -z "$id" || "$id" == \#* ]] && continue
  ignores+=(--ignore-vuln "$id")
done <.ci/pip-audit-ignore.txt
[[ ${#ignores[@]} -gt 0 ]] && echo "pip-audit: ignoring ${ignores[*]//--ignore-vuln /}"

if [[ -n "${PIP_AUDIT_JSON:-}" ]]; then  # tests: judge a given pip-audit JSON report instead
  cp "$PIP_AUDIT_JSON" "$work/audit.json"
  rc=0
else
set +e
"$VENV/bin/pip-audit" -r "$work/requirements.txt" --no-deps --disable-pip --progress-spinner off \
  --format json --output "$work/audit.json" "${ignores[@]}" 2>"$work/stderr.txt"
rc=$?
set -e
fi
if [[ ! -s "$work/audit.json" ]]; then
  cat "$work/stderr.txt" >&2
  echo "pip-audit: FAILED to run (exit $rc)" >&2
  exit 3
fi

"$VENV/bin/python" - "$work/audit.json" .ci/pip-audit-ignore.txt "$work/requirements.txt" <<'PY'
import json
import os
import sys
import urllib.request

from packaging.version import InvalidVersion, Version

data = json.load(open(sys.argv[1]))
ignored = {
    line.split()[0] for line in open(sys.argv[2]) if line.strip() and not line.lstrip().startswith("#")
}
pinned = dict(line.strip().split("==", 1) for line in open(sys.argv[3]) if "==" in line)
pinned = {k.lower().replace("_", "-"): v for k, v in pinned.items()}
deps = data["dependencies"]


def latest_release_vulns(name: str, version: str):
    """PyPI's project JSON lists the known vulnerabilities of the project's LATEST release: when the
    pinned version is that release, they are exactly ours. None when it cannot tell (older pin,
    no answer). Some mirrors serve this page but not the per-version one pip-audit asks for."""
    index = os.environ.get("LAOKE_PYPI_JSON", "https://pypi.org/pypi")
    try:
        with urllib.request.urlopen(f"{index}/{name}/json", timeout=20) as r:  # noqa: S310
            page = json.load(r)
        if Version(page["info"]["version"]) != Version(version):
            return None
    except (OSError, ValueError, KeyError, InvalidVersion):
        return None
    return [
        {
            "id": v["id"],
            "aliases": v.get("aliases") or [],
            "fix_versions": v.get("fixed_in") or [],
            "description": v.get("summary") or v.get("details") or "",
        }
        for v in page.get("vulnerabilities") or []
        if not v.get("withdrawn")
    ]


# pip-audit could not look a package up (e.g. a mirror without per-version pages): ask the project
# page instead. Off when a given report is judged (tests: no network).
if not os.environ.get("PIP_AUDIT_JSON"):
    rescued = 0
    for d in deps:
        version = d.get("version") or pinned.get(d["name"].lower().replace("_", "-"))
        if d.get("skip_reason") and version:
            vulns = latest_release_vulns(d["name"], version)
            if vulns is not None:
                d.pop("skip_reason")
                d["version"], d["vulns"] = version, vulns
                rescued += 1
    if rescued:
        print(f"pip-audit: {rescued} packages audited through PyPI's project pages (latest release pinned)")
found = [
    (d, v)
    for d in deps
    for v in d.get("vulns", [])
    if not ({v["id"], *(v.get("aliases") or [])} & ignored)
]
skipped = [d for d in deps if d.get("skip_reason")]
for d, v in found:
    fixes = ", ".join(v.get("fix_versions") or []) or "no fix released"
    aliases = ", ".join(v.get("aliases") or [])
    print(f"VULNERABLE {d['name']}=={d['version']}: {v['id']} ({aliases}) fixed in: {fixes}")
    summary = (v.get("description") or "").strip().splitlines()
    if summary:
        print(f"    {summary[0][:200]}")
for d in skipped:
    print(f"NOT AUDITED {d['name']}: {d['skip_reason']}")
audited = len(deps) - len(skipped)
print(f"pip-audit: {audited} audited, {len(skipped)} not audited, {len(found)} known vulnerabilities")
if found:
    sys.exit(1)
if skipped and os.environ.get("LAOKE_PIP_AUDIT_ALLOW_UNAVAILABLE") == "1":
    print(f"pip-audit: WARNING — {len(skipped)} packages NOT AUDITED; allowed by LAOKE_PIP_AUDIT_ALLOW_UNAVAILABLE=1")
    sys.exit(0)
if skipped and audited == 0:
    print("pip-audit: the vulnerability service answered for no package (network or mirror).")
    sys.exit(3)
if skipped:
    sys.exit(2)
print("pip-audit: clean")
PY

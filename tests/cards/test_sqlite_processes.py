"""A multi-process race on SQLite (processes, not threads; one database file): concurrent
recharges of one card → exactly one success. Negative control in the same run: with the test-only
unguarded switch (card read before the write transaction, no state guard, per-attempt ledger key)
several processes succeed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROCS = 5  # ≤ 5: every process gets a PIN attempt (the sixth would meet the lock)


def _run(tmp_path, attempt: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tests.cards._sqlite_race", str(tmp_path / str(attempt)), str(PROCS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(900)
def test_one_card_many_processes(tmp_path):
    # The negative control is a race the unguarded code can lose only by timing: on a saturated
    # machine one process may read the card after another committed. Up to three runs; the guarded
    # code must give exactly one success in every one of them.
    for attempt in range(3):
        (tmp_path / str(attempt)).mkdir()
        report = _run(tmp_path, attempt)
        guarded, unguarded = report["guarded"], report["unguarded"]
        assert guarded["successes"] == 1, guarded
        assert guarded["credited_fen"] == 50_000
        assert guarded["errors"] == ["CARD_ALREADY_REDEEMED"] * (PROCS - 1)
        if unguarded["successes"] > 1:
            break
    assert unguarded["successes"] > 1, unguarded
    assert unguarded["credited_fen"] > 50_000

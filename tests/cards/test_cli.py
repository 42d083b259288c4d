"""`laoke cards issue`: a batch generated in-process, its PINs in the output file only."""

from __future__ import annotations

import json

from laoke.cards import pins
from laoke.cards.models import Card, CardBatch
from laoke.cli import main
from tests.cards.helpers import read_pin_file


def test_issue_writes_the_one_time_file(db, tmp_path, capsys):
    out = tmp_path / "cards.xlsx"
    rc = main(["cards", "issue", "--denomination", "500", "--count", "5", "--output", str(out), "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["count"] == 5 and summary["face_value_fen"] == 50_000 and summary["state"] == "downloaded"
    assert (out.stat().st_mode & 0o777) == 0o600
    codes = read_pin_file(out.read_bytes())
    batch = CardBatch.objects.get(pk=summary["batch_id"])
    assert batch.state == "downloaded"
    for card in Card.objects.filter(batch=batch):
        assert pins.check_pin(codes[card.number], card.pin_hash)
    # Never overwrites, and bad input is a JSON error with exit code 2 and nothing written.
    assert main(["cards", "issue", "--denomination", "500", "--count", "5", "--output", str(out)]) == 2
    bad = tmp_path / "bad.xlsx"
    assert main(["cards", "issue", "--denomination", "500", "--count", "0", "--output", str(bad)]) == 2
    assert json.loads(capsys.readouterr().err.strip().splitlines()[-1])["code"] == "BATCH_COUNT_INVALID"
    assert (
        main(
            [
                "cards",
                "issue",
                "--denomination",
                "500",
                "--count",
                "1",
                "--store",
                "999",
                "--output",
                str(bad),
            ]
        )
        == 2
    )
    assert not bad.exists() and CardBatch.objects.count() == 1

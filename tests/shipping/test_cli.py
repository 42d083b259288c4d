"""`laoke shipping …` through the parser the lead hooks into laoke.cli (shipping.cli.add_parser)."""

from __future__ import annotations

import argparse
import json

from laoke.shipping.cli import add_parser
from laoke.shipping.models import ShippingRuleSet


def run(argv, capsys):
    p = argparse.ArgumentParser()
    add_parser(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(argv)
    assert args.fn(args) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_install_and_quote(db, capsys):
    out = run(["shipping", "install-preset", "--remote-reading", "flat"], capsys)
    assert out["code"] == "seed-001" and out["is_active"]
    assert ShippingRuleSet.objects.get().rules.get(code="remote-old").outcome == "flat"
    out = run(
        [
            "shipping",
            "quote",
            "--subtotal",
            "150.00",
            "--courier",
            "sf",
            "--member-kind",
            "new",
            "--province",
            "新疆",
        ],
        capsys,
    )
    assert (out["charged_fen"], out["rule_code"]) == (2000, "remote-new-150")
    out = run(["shipping", "quote", "--subtotal", "1", "--country", "US", "--lang", "en"], capsys)
    assert out["charged_fen"] == 3500 and out["explanation"].startswith("applied '海外运费35元'")

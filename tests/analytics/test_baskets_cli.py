"""`laoke analytics rules|roles`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from laoke.analytics.models import ProductRole
from laoke.catalog.services import product_create
from laoke.cli import main
from laoke.core import clock
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.services import order_settle

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def test_rules_from_a_uci_file(tmp_path, capsys):
    lines = []
    # {X, Y} in 3 of 4 invoices, Z alone in one; a cancellation and a French invoice left out.
    for inv, codes in (("1", "XY"), ("2", "XY"), ("3", "XY"), ("4", "Z")):
        lines += [f"{inv},{c},d,1,2011-01-01 10:00,1.0,1,United Kingdom\n" for c in codes]
    lines += ["C5,Z,d,-1,2011-01-01 10:00,1.0,1,United Kingdom\n", "6,Z,d,1,2011-01-01 10:00,1.0,1,France\n"]
    path = tmp_path / "retail.csv"
    path.write_text(HEADER + "".join(lines))
    assert main(["analytics", "rules", "--transactions", str(path), "--min-support", "0.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["baskets"], out["items"], out["itemsets"], out["rule_count"]) == (4, 3, 3, 2)
    assert out["rules"][0]["lift"] == pytest.approx((3 / 3) / (3 / 4))
    assert main(["analytics", "rules", "--transactions", str(path), "--min-support", "0.5"]) == 0
    assert "3 frequent itemsets, 2 rules" in capsys.readouterr().out
    assert main(["analytics", "rules", "--transactions", str(path), "--min-support", "0"]) == 2


def test_rules_and_roles_from_the_shop(db, capsys):
    product_create(sku="A", title="item A", list_price_fen=1_000, cost_price_fen=900)
    product_create(sku="B", title="item B", list_price_fen=2_000, cost_price_fen=500)
    for _ in range(2):
        with clock.frozen(NOW):
            order_settle(request=CheckoutIn(lines=(LineIn("A", 1), LineIn("B", 1))), now=NOW)
    with clock.frozen(NOW):
        assert main(["analytics", "rules", "--min-support", "0.5", "--min-lift", "0", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert (out["source"], out["baskets"], out["rule_count"]) == ("shop", 2, 2)
        assert main(["analytics", "rules", "--level", "brand"]) == 2
        assert "ANALYTICS_LEVEL_INVALID" in capsys.readouterr().err
        assert main(["analytics", "roles", "--compute", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
    assert sum(v for k, v in out["computed"].items() if k != "manual_kept") == 2
    assert {r["code"] for r in out["items"]} == {"A", "B"} and ProductRole.objects.count() == 2
    assert main(["analytics", "roles"]) == 0
    assert "item A" in capsys.readouterr().out

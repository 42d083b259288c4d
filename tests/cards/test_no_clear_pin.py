"""No PIN in clear anywhere but the one-time batch file: not in any table of the database (every
text value of every row dumped), not in the logs (every record, its message and extras, as the
JSON formatter writes it), not in any API response after the download, not in the console page.

The flow runs through the API like a shop would: create a batch, download its file once, sell,
recharge right and wrong, lock, look up, unlock, read the wallet."""

from __future__ import annotations

import logging
import re

import pytest
from django.db import connection
from django.test import Client, TestCase

from laoke.core.logging import JsonLinesFormatter, PiiFilter
from laoke.members.services import member_create
from tests.cards.helpers import read_pin_file

J = "application/json"
K = "/api/v1/cards"


def _dump_database() -> str:
    chunks = []
    with connection.cursor() as cur:
        for table in connection.introspection.table_names():
            cur.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cur.fetchall():
                chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def _contains(text: str, pin: str) -> bool:
    return re.search(rf"(?<!\d){pin}(?!\d)", text) is not None


def test_no_pin_in_clear_in_database_logs_or_responses(api, staff, caplog, settings):
    caplog.set_level(logging.DEBUG)
    member = member_create(name="扫描会员", mobile="13800008888")
    manager = api("service_manager")
    till = api("cashier")
    responses: list[bytes] = []

    def keep(r):
        responses.append(r.content)
        return r

    with TestCase.captureOnCommitCallbacks(execute=True):
        r = keep(manager.post(f"{K}/batches", {"face_value_fen": 10_000, "count": 6}, content_type=J))
    batch_id = r.json()["id"]
    keep(manager.get(f"{K}/batches/{batch_id}"))
    codes = read_pin_file(manager.post(f"{K}/batches/{batch_id}/download").content)  # the one place
    keep(manager.post(f"{K}/batches/{batch_id}/download"))
    keep(till.post(f"{K}/batches/{batch_id}/activate", {"first_serial": 1, "last_serial": 6}, content_type=J))
    items = list(codes.items())
    used_pins = set(codes.values())
    (n1, p1), (n2, p2) = items[0], items[1]
    keep(
        till.post(
            f"{K}/recharge",
            {"number": n1, "pin": p1, "member_id": member.pk},
            content_type=J,
            HTTP_IDEMPOTENCY_KEY="a",
        )
    )
    keep(
        till.post(
            f"{K}/recharge",
            {"number": n1, "pin": p1, "member_id": member.pk},
            content_type=J,
            HTTP_IDEMPOTENCY_KEY="a",
        )
    )
    for i in range(6):  # wrong PINs until locked, then the right one
        wrong = f"{(int(p2) + 1 + i) % 10**8:08d}"
        used_pins.add(wrong)
        keep(
            till.post(
                f"{K}/recharge",
                {"number": n2, "pin": wrong, "member_id": member.pk},
                content_type=J,
                HTTP_IDEMPOTENCY_KEY=f"w{i}",
            )
        )
    keep(
        till.post(
            f"{K}/recharge",
            {"number": n2, "pin": p2, "member_id": member.pk},
            content_type=J,
            HTTP_IDEMPOTENCY_KEY="r",
        )
    )
    keep(
        till.post(
            f"{K}/recharge",
            {"number": n2, "pin": "x" * 40, "member_id": member.pk},
            content_type=J,
            HTTP_IDEMPOTENCY_KEY="v",
        )
    )
    keep(till.get(f"{K}/cards/{n1}"))
    keep(manager.post(f"{K}/cards/{n2}/unlock", {"reason": "核实身份"}, content_type=J))
    keep(till.get(f"{K}/wallets/{member.pk}"))
    keep(till.get(f"{K}/wallets/{member.pk}/history"))
    # The console's recharge page (a failed and a successful post).
    cashier = staff("cashier")
    console = Client()
    console.force_login(cashier)
    (n3, p3) = items[2]
    wrong3 = f"{(int(p3) + 1) % 10**8:08d}"
    used_pins.add(wrong3)
    keep(console.post("/admin/console/cards/recharge/", {"number": n3, "pin": wrong3, "member": member.code}))
    keep(console.post("/admin/console/cards/recharge/", {"number": n3, "pin": p3, "member": member.code}))
    assert b"\xc2\xa5100.00" in responses[-1] or "¥100.00" in responses[-1].decode()

    # Sanity: the scan can find what it looks for (a positive control).
    assert _contains(f"x {p1} y", p1) and _contains(_dump_database(), n1)

    dump = _dump_database()
    formatter, pii = JsonLinesFormatter(), PiiFilter()
    logs = []
    for record in caplog.records:
        pii.filter(record)
        logs.append(formatter.format(record))
        logs.append(repr(record.__dict__))
    log_text = "\n".join(logs)
    body_text = "\n".join(r.decode(errors="replace") for r in responses)
    for pin in used_pins:
        assert not _contains(dump, pin), "a PIN in clear in the database"
        assert not _contains(log_text, pin), "a PIN in clear in the logs"
        assert not _contains(body_text, pin), "a PIN in clear in a response"
    assert len(caplog.records) > 10  # the requests were logged, and scanned


@pytest.mark.parametrize("path", ["/admin/cards/card/", "/admin/cards/cardbatch/"])
def test_admin_pages_show_no_pin_hash(api, staff, path):
    from laoke.cards.models import Card
    from tests.cards.helpers import issue

    issue(count=2)
    admin = staff("admin")
    client = Client()
    client.force_login(admin)
    r = client.get(path)
    assert r.status_code == 200
    card = Card.objects.first()
    assert "scrypt$" not in r.content.decode()
    r = client.get(f"/admin/cards/card/{card.pk}/change/")
    assert r.status_code == 200 and "scrypt$" not in r.content.decode() and card.number in r.content.decode()

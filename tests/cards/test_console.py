"""The console pages of the cards app through the test client: permissions, the recharge form,
the batch form (through the service), progress (full page and htmx partial), one-time download."""

from __future__ import annotations

import pytest
from django.test import Client, TestCase
from django.utils import translation

from laoke.cards.models import CardBatch
from laoke.cards.wallet import wallet_account
from laoke.members.services import member_create
from tests.cards.helpers import issue, read_pin_file

R = "/admin/console/cards/recharge/"


def _client(staff, role):
    c = Client()
    c.force_login(staff(role))
    return c


@pytest.fixture
def member(db):
    return member_create(name="收银会员", mobile="13800003333")


def test_recharge_page_permissions(staff, db):
    assert _client(staff, "analyst").get(R).status_code == 403
    r = _client(staff, "cashier").get(R)
    assert r.status_code == 200 and 'type="password"' in r.content.decode()


def test_recharge_page_errors_and_success(staff, member):
    _, codes = issue(count=1)
    number, pin = next(iter(codes.items()))
    c = _client(staff, "cashier")
    r = c.post(R, {"number": number, "pin": pin, "member": "无此人"})
    with translation.override("zh-hans"):  # the page speaks the shop's language by default
        no_member = translation.gettext("No single member matches this member number or mobile.")
    assert r.status_code == 422 and no_member in r.content.decode()
    r = c.post(
        R, {"number": number[:-1] + str((int(number[-1]) + 1) % 10), "pin": pin, "member": member.code}
    )
    assert r.status_code == 422 and "卡号格式有误" in r.content.decode()
    r = c.post(R, {"number": number, "pin": pin, "member": "138 0000 3333"})
    assert r.status_code == 200 and "¥500.00" in r.content.decode()
    assert wallet_account(member).balance == 50_000


def test_batch_form_creates_through_the_service(staff, db):
    c = _client(staff, "service_manager")
    assert _client(staff, "cashier").get("/admin/console/cards/batches/new/").status_code == 403
    r = c.post("/admin/console/cards/batches/new/", {"denomination": 20_000, "count": 3, "kind": "gift"})
    assert r.status_code == 200 and not CardBatch.objects.exists()
    assert "购买单位和用途" in r.content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = c.post(
            "/admin/console/cards/batches/new/", {"denomination": 20_000, "count": 3, "kind": "normal"}
        )
    batch = CardBatch.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(f"/cards/batches/{batch.pk}/")
    page = c.get(r["Location"])
    assert page.status_code == 200 and 'data-state="ready"' in page.content.decode()
    partial = c.get(r["Location"], HTTP_HX_REQUEST="true")
    assert (
        "<html" not in partial.content.decode() and 'data-testid="batch-progress"' in partial.content.decode()
    )
    d = c.post(f"/admin/console/cards/batches/{batch.pk}/download/")
    assert d.status_code == 200 and len(read_pin_file(d.content)) == 3
    again = c.post(f"/admin/console/cards/batches/{batch.pk}/download/")
    assert again.status_code == 302  # back to the page with "already downloaded"
    assert c.get("/admin/cards/cardbatch/add/").status_code == 302


def test_admin_lists_open(staff, db):
    issue(count=1)
    c = _client(staff, "admin")
    for path in (
        "/admin/cards/cardbatch/",
        "/admin/cards/card/",
        "/admin/cards/cardevent/",
        "/admin/cards/walletclosure/",
    ):
        assert c.get(path).status_code == 200, path


def test_admin_unlock_action(staff, member):
    from laoke.cards.models import Card
    from laoke.cards.services import card_recharge
    from laoke.core.errors import DomainError

    _, codes = issue(count=2)
    (n1, p1), _ = codes.items()
    for _ in range(5):
        with pytest.raises(DomainError):
            card_recharge(number=n1, pin=f"{(int(p1) + 1) % 10**8:08d}", member=member)
    ids = list(Card.objects.order_by("pk").values_list("pk", flat=True))
    body = {"action": "unlock", "_selected_action": [str(i) for i in ids]}
    r = _client(staff, "cashier").post("/admin/cards/card/", body)
    assert Card.objects.get(number=n1).failed_pin_count == 5  # no permission: nothing happens
    r = _client(staff, "service_manager").post("/admin/cards/card/", body, follow=True)
    assert r.status_code == 200
    assert Card.objects.get(number=n1).failed_pin_count == 0
    assert "此卡未被锁定" in r.content.decode()  # the other card was not locked

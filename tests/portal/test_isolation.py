"""A member sees only their own data: every operation of the /api/v1/me router is called, signed in
as member A, with member B's ids in every path parameter and in the body and query wherever an id
could be taken; anonymous callers get 401 on every operation but the login ones."""

from __future__ import annotations

import json
import re

import pytest

from laoke.api import api
from laoke.payments.models import PackagePurchase

from .conftest import H5, client, make_member, signed_in

PUBLIC = {
    ("POST", "/api/v1/me/login/code"),
    ("POST", "/api/v1/me/login"),
    ("GET", "/api/v1/me/login/agreement"),
}
PARAM_RE = re.compile(r"{(?:\w+:)?(\w+)}")


def _operations() -> list[tuple[str, str]]:
    ops = []
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            full = "/api/v1/" + "/".join(p.strip("/") for p in (bound.prefix, path) if p.strip("/"))
            if not (full == "/api/v1/me" or full.startswith("/api/v1/me/")):
                continue
            for op in path_view.operations:
                for method in op.methods:
                    ops.append((method, full))
    return sorted(ops)


OPERATIONS = _operations()
MEMBER_OPS = [op for op in OPERATIONS if op not in PUBLIC]


def test_the_router_is_walked():
    assert ("GET", "/api/v1/me") in OPERATIONS
    assert ("POST", "/api/v1/me/recharge") in OPERATIONS
    assert ("GET", "/api/v1/me/purchases/{int:purchase_id}") in OPERATIONS
    assert len(MEMBER_OPS) >= 17


@pytest.mark.parametrize(("method", "path"), MEMBER_OPS)
def test_anonymous_is_401(db, method, path):
    url = PARAM_RE.sub("1", path)
    c = client()
    r = c.get(url) if method == "GET" else c.generic(method, url, "{}", content_type="application/json", **H5)
    assert r.status_code == 401, (method, path, r.content)
    assert r.json()["code"] == "AUTH_REQUIRED"


@pytest.fixture
def two_members(frozen, programme):
    """A signed in; B with a wallet, points, a coupon, a gift redemption and a package purchase —
    every kind of object a path id could name."""
    from laoke.cards.wallet import wallet_credit
    from laoke.members.models import Member
    from laoke.payments.models import PackagePurchase
    from laoke.payments.services import package_create
    from laoke.promotions.services import coupon_issue, coupon_template_create
    from tests.points.conftest import give

    a = make_member(name="甲会员")
    b = make_member(name="乙会员BBB")
    wallet_credit(member=b, amount_fen=77_700, key="b-wallet", reason="test", source="card_float")
    give(b, 4321)
    tpl = coupon_template_create(
        data={"name": "乙的券", "kind": "fixed", "amount_off_fen": 500, "valid_days": 30}
    )
    coupon = coupon_issue(template=tpl, member=b, key="b-coupon")
    pkg = package_create(name="充500送50", price_fen=50_000, bonus_fen=5_000)
    purchase = PackagePurchase.objects.create(
        member=b,
        package=pkg,
        name=pkg.name,
        price_fen=pkg.price_fen,
        bonus_fen=pkg.bonus_fen,
        provider="alipay",
        out_trade_no="LKTESTB0001",
        created_at=b.created_at,
    )
    b = Member.objects.get(pk=b.pk)
    secrets = [b.code, b.mobile, b.mobile[3:], b.name, coupon.code, purchase.out_trade_no, "77700", "4321"]
    ids = {"purchase_id": purchase.pk, "package_id": pkg.pk, "offer_id": 999_999, "member_id": b.pk}
    return signed_in(a), a, b, ids, secrets


def test_other_members_ids_are_not_found_and_leak_nothing(two_members):
    c, _a, b, ids, secrets = two_members
    body = {
        "member_id": b.pk,
        "member": b.pk,
        "mobile": b.mobile,
        "card_no": "0",
        "pin": "0",
        "store_id": 0,
        "provider": "alipay",
        "channel": "sms",
        "receipt_no": "X",
        "paid_fen": 1,
        "purchased_at": "2026-06-01T00:00:00Z",
    }
    checked = 0
    for method, path in MEMBER_OPS:
        if path.endswith("/logout"):
            continue  # would end A's session; covered in test_login
        params = PARAM_RE.findall(path)
        url = PARAM_RE.sub(lambda m: str(ids.get(m.group(1), b.pk)), path)
        query = f"?member_id={b.pk}&member={b.pk}&store_id={b.pk}"
        headers = {**H5, "HTTP_IDEMPOTENCY_KEY": f"k-{checked}"}
        if method == "GET":
            r = c.get(url + query)
        else:
            r = c.generic(method, url + query, json.dumps(body), content_type="application/json", **headers)
        text = r.content.decode()
        assert r.status_code < 500, (method, path, text)
        for s in secrets:
            assert s not in text, (method, path, s, text[:300])
        if path.endswith("/packages/{int:package_id}/buy"):
            # Packages are the shop's, not B's: A may buy one (when payments are configured) — and
            # the purchase is then A's own, never B's.
            if r.status_code == 201:
                assert PackagePurchase.objects.get(pk=r.json()["purchase_id"]).member_id == _a.pk
            else:
                assert r.status_code == 422, (method, path, r.status_code, text)
        elif params:
            assert r.status_code in (404, 422), (method, path, r.status_code, text)
        checked += 1
    assert checked == len(MEMBER_OPS) - 1
    # and the member-owned path id really names B's object: B can read it
    r = signed_in(b).get(f"/api/v1/me/purchases/{ids['purchase_id']}")
    assert r.status_code == 200 and r.json()["price_fen"] == 50_000


def test_a_sees_its_own_figures_not_bs(two_members):
    c, a, b, _ids, _secrets = two_members
    me = c.get(f"/api/v1/me?member_id={b.pk}").json()
    assert me["id"] == a.pk and me["wallet"]["total_fen"] == 0 and me["points"]["balance"] == 0
    assert signed_in(b).get("/api/v1/me").json()["wallet"]["paid_fen"] == 77_700

"""Every API endpoint, tried by every role, and by nobody.

The list of endpoints is generated from the mounted NinjaAPI (so a new endpoint appears here by
itself); what each role may do is the table below, written from SPEC section 16 and
docs/decisions/0006-auth-and-roles.md — independently of laoke.core.roles. The first test fails
when an endpoint exists that the table does not classify, so nobody can add an endpoint without
deciding who may call it.

A role in the allowed set must get neither 401 nor 403 (usually 200/201, or 404/422 for the
placeholder ids and empty bodies used here); any other role must get exactly 403; a request
without credentials must get 401.
"""

from __future__ import annotations

import importlib
import re

import pytest

from laoke.api import api
from laoke.core.roles import SCOPES

ROLES = [
    "admin",
    "marketer",
    "analyst",
    "service_manager",
    "service_agent",
    "cashier",
    "redemption_clerk",
    "api_client",
    "sales_rep",
    "sales_manager",
    "general_manager",
]
ALL = frozenset(ROLES)
ADMIN = frozenset({"admin"})
MANAGERS = frozenset({"admin", "service_manager"})
SERVICE = frozenset({"admin", "service_manager", "service_agent"})
# Who may change a member's profile, refs and consent: service staff and the shop's systems.
MEMBER_WRITERS = SERVICE | {"api_client"}
REGISTRARS = MEMBER_WRITERS | {"cashier"}  # cashiers register members at the till
TAGGERS = SERVICE | {"marketer"}
CARD_ISSUERS = SERVICE | {"cashier"}

# Everyone reads the catalogue except the redemption clerk, who sees only gifts and their stock.
CATALOG_READERS = ALL - {"redemption_clerk"}
CATALOG_WRITERS = frozenset({"admin", "marketer", "api_client"})

M = "/api/v1/members"
C = "/api/v1/catalog"
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/whoami"): ALL,
    ("GET", "/api/v1/stores"): ALL,
    ("POST", "/api/v1/stores"): ADMIN,
    ("GET", "/api/v1/audit"): ADMIN,
    ("GET", M): ALL,
    ("POST", M): REGISTRARS,
    ("GET", f"{M}/{{int:member_id}}"): ALL,
    ("PATCH", f"{M}/{{int:member_id}}"): MEMBER_WRITERS,
    ("POST", f"{M}/{{int:member_id}}/refs"): MEMBER_WRITERS,
    ("GET", f"{M}/{{int:member_id}}/consents"): ALL,
    ("PUT", f"{M}/{{int:member_id}}/consents/{{channel}}"): MEMBER_WRITERS,
    ("POST", f"{M}/{{int:member_id}}/unsubscribe"): MEMBER_WRITERS,
    ("GET", f"{M}/tags"): TAGGERS | {"analyst"},
    ("POST", f"{M}/tags"): frozenset({"admin", "marketer"}),
    ("POST", f"{M}/{{int:member_id}}/tags"): TAGGERS,
    ("DELETE", f"{M}/{{int:member_id}}/tags/{{tag}}"): TAGGERS,
    ("GET", f"{M}/attributes"): TAGGERS | {"analyst", "api_client"},
    ("POST", f"{M}/attributes"): ADMIN,
    ("PUT", f"{M}/{{int:member_id}}/attributes/{{key}}"): MEMBER_WRITERS,
    ("GET", f"{M}/groups"): MANAGERS | {"api_client"},
    ("POST", f"{M}/groups"): MANAGERS,
    ("PATCH", f"{M}/groups/{{int:group_id}}"): MANAGERS,
    ("GET", f"{M}/corporate"): MANAGERS,
    ("POST", f"{M}/corporate"): MANAGERS,
    ("POST", f"{M}/{{int:member_id}}/card"): CARD_ISSUERS,
    ("POST", f"{M}/{{int:member_id}}/card/replace"): CARD_ISSUERS,
    ("POST", f"{M}/{{int:member_id}}/merge"): MANAGERS,
    ("GET", f"{M}/{{int:member_id}}/pi-export"): MANAGERS,
    ("POST", f"{M}/{{int:member_id}}/forget"): ADMIN,
    ("GET", f"{C}/categories"): CATALOG_READERS,
    ("POST", f"{C}/categories"): CATALOG_WRITERS,
    ("GET", f"{C}/products"): CATALOG_READERS,
    ("POST", f"{C}/products"): CATALOG_WRITERS,
    ("GET", f"{C}/products/{{int:product_id}}"): CATALOG_READERS,
    ("PATCH", f"{C}/products/{{int:product_id}}"): CATALOG_WRITERS,
    ("GET", f"{C}/gifts"): ALL,
    ("POST", f"{C}/gifts"): CATALOG_WRITERS,
    ("GET", f"{C}/gift-stock"): ALL,
    ("POST", f"{C}/gift-stock/adjust"): CATALOG_WRITERS | {"redemption_clerk"},
}
# Later apps keep their rows next to their tests (tests/<app>/permission_matrix.py, written from
# SPEC and the decisions like the rows above), so parallel work on two apps never edits one table.
for _app in (
    "tiers",
    "points",
    "cards",
    "promotions",
    "shipping",
    "orders",
    "flash",
    "referrals",
    "segments",
    "channels",
    "campaigns",
    "analytics",
    "imports",
    "payments",
    "service",
    "events",
    "holidays",
    "b2b",
    "staff",
):
    _rows = importlib.import_module(f"tests.{_app}.permission_matrix").EXPECTED
    assert not set(_rows) & set(EXPECTED), f"{_app} re-classifies endpoints"
    EXPECTED.update(_rows)


def _operations() -> list[tuple[str, str]]:
    ops = []
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            full = "/api/v1/" + "/".join(p.strip("/") for p in (bound.prefix, path) if p.strip("/"))
            if full == "/api/v1/me" or full.startswith("/api/v1/me/"):
                continue  # the member's own pages: a member session, not staff (tests/portal)
            for op in path_view.operations:
                for method in op.methods:
                    ops.append((method, full))
    return sorted(ops)


OPERATIONS = _operations()


def test_every_endpoint_is_classified():
    unknown = sorted(set(OPERATIONS) - set(EXPECTED))
    stale = sorted(set(EXPECTED) - set(OPERATIONS))
    assert not unknown, f"endpoints nobody decided about: {unknown}"
    assert not stale, f"table rows for endpoints that no longer exist: {stale}"


PARAM_RE = re.compile(r"{(?:\w+:)?(\w+)}")


@pytest.fixture(scope="module")
def matrix(module_db):
    """Built once for the module (inside ``module_db``'s transaction, rolled back at its end): the
    roles, one of each object the path parameters can name (visible to every role) and one API token
    per role. Every test runs in its own savepoint, so what one request writes is undone before the
    next request."""
    from laoke.catalog.services import product_create
    from laoke.core.services import api_token_create, roles_sync, staff_user_create, store_create
    from laoke.members.services import (
        attribute_definition_create,
        group_account_create,
        member_create,
        tag_create,
    )

    with module_db():
        roles_sync()
        store = store_create(code="MATRIX", name="矩阵店")
        member = member_create(name="矩阵会员", mobile="13800138000")
        group = group_account_create(name="矩阵公司")
        tag = tag_create(name="矩阵标签")
        attr = attribute_definition_create(key="size", label="尺码", type="text")
        product = product_create(sku="MATRIX-1", title="矩阵商品", list_price_fen=100)
        tokens = {}
        for role in ROLES:
            user = staff_user_create(username=f"matrix-{role}", password="test-password-123", role=role)
            tokens[role] = api_token_create(user=user, name="matrix", scopes=list(SCOPES))[1]
    return {
        "objects": {
            "product_id": product.pk,
            "store_id": store.pk,
            "member_id": member.pk,
            "group_id": group.pk,
            "tag": tag.name,
            "key": attr.key,
            "channel": "sms",
        },
        "tokens": tokens,
    }


def _url(path: str, objects: dict) -> str:
    return PARAM_RE.sub(lambda m: str(objects.get(m.group(1), 999_999)), path)


def _call(client, method: str, url: str):
    fn = getattr(client, method.lower())
    if method in ("POST", "PUT", "PATCH"):
        return fn(url, {}, content_type="application/json")
    return fn(url)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_anonymous_gets_401(client, db, method, path):
    r = _call(client, method, _url(path, {}))
    assert r.status_code == 401, (method, path, r.status_code, r.content[:200])
    assert r.json()["code"] == "AUTH_REQUIRED"


CASES = [(m, p, role) for (m, p) in OPERATIONS for role in ROLES]


@pytest.mark.parametrize(("method", "path", "role"), CASES, ids=[f"{r} {m} {p}" for m, p, r in CASES])
def test_role_matrix(matrix, db, method, path, role):
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {matrix['tokens'][role]}", HTTP_ACCEPT_LANGUAGE="en")
    r = _call(client, method, _url(path, matrix["objects"]))
    allowed = role in EXPECTED.get((method, path), frozenset())
    if allowed:
        assert r.status_code not in (401, 403), (role, method, path, r.status_code, r.content[:300])
        assert r.status_code < 500, (role, method, path, r.status_code, r.content[:300])
    else:
        assert r.status_code == 403, (role, method, path, r.status_code, r.content[:300])
        assert r.json()["code"] in ("PERMISSION_DENIED", "TOKEN_SCOPE_MISSING")

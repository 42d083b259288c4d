"""Rule validation: each kind of error with its stable code and the JSON path of the bad node;
the one-statement count; the extension point of apps above segments."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.test.utils import CaptureQueriesContext

from laoke.core.errors import DomainError
from laoke.members.models import MemberTag
from laoke.members.services import member_create
from laoke.members.tagging import member_tag_add, tag_create
from laoke.segments import fields
from laoke.segments.rules import validate
from laoke.segments.selectors import field_catalog, segment_count

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 2, tzinfo=UTC)


def L(field, op, value):
    return {"field": field, "op": op, "value": value}


OK = L("orders.count", "gte", 1)


@pytest.mark.parametrize(
    ("rule", "code", "path"),
    [
        ([], "SEGMENT_RULE_INVALID", "rule"),
        ({"all": [OK], "any": [OK]}, "SEGMENT_RULE_INVALID", "rule"),
        ({"all": OK}, "SEGMENT_RULE_INVALID", "all"),
        ({"all": []}, "SEGMENT_GROUP_EMPTY", "all"),
        ({"all": [OK, {"any": []}]}, "SEGMENT_GROUP_EMPTY", "all[1].any"),
        ({"all": [OK, OK, L("orders.nope", "eq", 1)]}, "SEGMENT_FIELD_UNKNOWN", "all[2].field"),
        ({"all": [OK, OK, L("orders.count", "contains", 1)]}, "SEGMENT_OP_INVALID", "all[2].op"),
        ({"all": [OK, OK, L("orders.count", "gte", "3")]}, "SEGMENT_VALUE_INVALID", "all[2].value"),
        ({"all": [L("orders.count", "gte", True)]}, "SEGMENT_VALUE_INVALID", "all[0].value"),
        ({"all": [L("orders.spend", "between", [5, 1])]}, "SEGMENT_VALUE_INVALID", "all[0].value"),
        ({"all": [L("orders.discount_share", "gte", 1.5)]}, "SEGMENT_VALUE_INVALID", "all[0].value"),
        ({"not": L("profile.gender", "eq", "X")}, "SEGMENT_VALUE_INVALID", "not.value"),
        (
            {"any": [L("orders.first_order_at", "before", "2026-13-01")]},
            "SEGMENT_VALUE_INVALID",
            "any[0].value",
        ),
        (
            {"any": [L("orders.first_order_at", "between", ["2026-12-12", "2026-11-11"])]},
            "SEGMENT_VALUE_INVALID",
            "any[0].value",
        ),
        ({"any": [L("tags", "any", [])]}, "SEGMENT_VALUE_INVALID", "any[0].value"),
        ({"any": [L("orders.categories", "any", ["no-such"])]}, "SEGMENT_VALUE_INVALID", "any[0].value"),
        ({"any": [{"field": "orders.count", "op": "eq"}]}, "SEGMENT_RULE_INVALID", "any[0]"),
        (
            {"all": [{"not": OK, "include_non_personalised": True}]},
            "SEGMENT_RULE_INVALID",
            "all[0].include_non_personalised",
        ),
        (
            {"include_non_personalised": "yes", "all": [OK]},
            "SEGMENT_RULE_INVALID",
            "include_non_personalised",
        ),
        (
            {"all": [{"not": {"not": {"not": {"not": {"not": {"not": {"not": OK}}}}}}}]},
            "SEGMENT_RULE_TOO_DEEP",
            "all[0].not.not.not.not.not.not.not",
        ),
    ],
)
def test_invalid_rules_name_the_code_and_the_path(rule, code, path):
    with pytest.raises(DomainError) as e:
        validate(rule)
    assert (e.value.code, e.value.details["path"]) == (code, path)
    assert path in e.value.message("en") and path in e.value.message("zh-hans")
    assert e.value.status == 400


def test_depth_eight_is_allowed():
    rule = OK
    for _ in range(7):
        rule = {"not": rule}
    validate(rule)  # 8 levels: the leaf is at depth 8
    with pytest.raises(DomainError):
        validate({"not": rule})


def test_sensitive_tags_and_unknown_tags_are_refused():
    tag_create(name="孕期", kind="sensitive")
    tag_create(name="VIP")
    validate({"all": [L("tags", "any", ["VIP"])]})
    for name in ("孕期", "nope"):
        with pytest.raises(DomainError) as e:
            validate({"all": [L("tags", "any", ["VIP", name])]})
        assert e.value.code == "SEGMENT_VALUE_INVALID" and name in e.value.message("en")


def test_count_is_one_statement():
    for i in range(3):
        member_create(name=f"m{i}", mobile=f"1380000000{i}")
    rule = {
        "all": [
            L("orders.first_order_at", "between", ["2025-11-11", "2025-11-11"]),
            L("orders.spend", "gte", 29_900),
            {"not": L("value.wallet_balance", "lt", 2_000)},
            {"any": [L("consent.sms", "eq", "granted"), L("orders.days_since_last_order", "gte", 30)]},
        ]
    }
    with CaptureQueriesContext(connection) as ctx:
        assert segment_count(rule, now=NOW) == 0
    assert len(ctx.captured_queries) == 1, [q["sql"] for q in ctx.captured_queries]
    with CaptureQueriesContext(connection) as ctx:
        assert segment_count({"not": rule}, now=NOW) == 3
    assert len(ctx.captured_queries) == 1


def _campaign_fields():
    """What an app above segments would declare (e.g. campaigns: "received wave X")."""

    def compile_(op, value, ctx):
        q = Q(Exists(MemberTag.objects.filter(member=OuterRef("pk"), tag__name=f"wave-{value}")))
        return q if op == "eq" else ~q

    return [
        fields.FieldSpec(
            "test.received_wave", "received wave", "int", ("eq", "ne"), compile_, group="campaigns"
        )
    ]


def test_apps_register_fields_through_their_app_config(monkeypatch):
    from django.apps import apps

    cfg = apps.get_app_config("members")
    monkeypatch.setattr(cfg, "segment_fields", "tests.segments.test_rules._campaign_fields", raising=False)
    fields.registry.cache_clear()
    try:
        tag_create(name="wave-3")
        a, b = member_create(name="a", mobile="13800000001"), member_create(name="b", mobile="13800000002")
        member_tag_add(member_id=a.pk, tag_name="wave-3")
        assert segment_count({"all": [L("test.received_wave", "eq", 3)]}, now=NOW) == 1
        assert segment_count({"all": [L("test.received_wave", "ne", 3)]}, now=NOW) == 1
        assert "test.received_wave" in {f["key"] for f in field_catalog("en")}
        assert b.pk
    finally:
        monkeypatch.undo()
        fields.registry.cache_clear()
    with pytest.raises(DomainError):
        validate({"all": [L("test.received_wave", "eq", 3)]})


def test_field_catalog_labels_follow_the_language():
    en = {f["key"]: f for f in field_catalog("en")}
    zh = {f["key"]: f for f in field_catalog("zh-hans")}
    assert en["orders.spend"]["type"] == "fen" and "gte" in en["orders.spend"]["ops"]
    assert en["profile.gender"]["choices"] and en["consent.sms"]["group"] == "consent"
    assert set(en) == set(zh)

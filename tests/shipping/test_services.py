"""Rule sets through the services: the preset installs once (both readings), the installed
tariff quotes like the seed, member kinds come from statistics, updates are validated and
audited, activation keeps exactly one active set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.members.services import member_create
from laoke.shipping import selectors, services
from laoke.shipping.models import PostageRate, RegionAssignment, ShippingRule, ShippingRuleSet
from laoke.shipping.quote import shipping_quote
from laoke.stats.services import _stats_add

XJ = "新疆乌鲁木齐市天山区人民路1号"
ZJ = "浙江省杭州市西湖区文三路100号"


def counts():
    return (
        ShippingRuleSet.objects.count(),
        ShippingRule.objects.count(),
        PostageRate.objects.count(),
        RegionAssignment.objects.count(),
        AuditEntry.objects.count(),
    )


def test_preset_installs_once_and_quotes(db):
    rs = services.shipping_presets_install()
    assert rs.is_active and rs.code == "seed-001"
    assert (rs.rules.count(), rs.rates.count(), rs.regions.count()) == (12, 12, 9)
    before = counts()
    again = services.shipping_presets_install(remote_reading="flat")
    assert again.pk == rs.pk and counts() == before  # idempotent: the operator's set is kept
    q = shipping_quote(member_kind="old", subtotal_fen=100, courier="normal", address=XJ)
    assert (q.charged_fen, q.rule_code) == (1500, "remote-old")  # 25元 − 10元


def test_flat_reading_preset(db):
    services.shipping_presets_install(remote_reading="flat")
    q = shipping_quote(member_kind="new", subtotal_fen=15_000, courier="sf", address=XJ)
    assert (q.charged_fen, q.rule_code) == (1000 + 1000, "remote-new-150")  # 10元 + SF difference 10元
    assert "收10元" in ShippingRule.objects.get(code="remote-new-150").name


def test_preset_bad_options(db):
    for kwargs in ({"preset": "nope"}, {"remote_reading": "half"}):
        with pytest.raises(DomainError) as exc:
            services.shipping_presets_install(**kwargs)
        assert exc.value.code == "FIELD_INVALID"
    assert counts() == (0, 0, 0, 0, 0)


def test_no_active_rule_set(db):
    with pytest.raises(DomainError) as exc:
        shipping_quote(member_kind="old", subtotal_fen=1, courier="normal", province="浙江")
    assert exc.value.code == "SHIPPING_NO_ACTIVE_RULE_SET"


def _order(member, at):
    with transaction.atomic():
        _stats_add(member=member, spend_fen=10_000, orders=1, at=at)


def test_member_kind_from_statistics(db):
    services.shipping_presets_install()
    member = member_create(name="老客", mobile="13900001111")
    t = selectors.active_tariff()
    assert selectors.member_kind_of(member=None, tariff=t) == "non_member"
    assert selectors.member_kind_of(member=member, tariff=t) == "new"
    q = shipping_quote(member=member, subtotal_fen=10_000, courier="normal", address=ZJ)
    assert (q.member_kind, q.charged_fen, q.rule_code) == ("new", 1000, "")
    now = datetime(2026, 11, 30, 4, tzinfo=UTC)
    with clock.frozen(now):
        _order(member, now - timedelta(days=400))
        assert selectors.member_kind_of(member=member, tariff=t) == "old"  # one earlier order, ever
        q = shipping_quote(member=member, subtotal_fen=10_000, courier="normal", address=ZJ)
        assert (q.member_kind, q.charged_fen, q.rule_code) == ("old", 0, "old-free")
        # configurable: two orders within 12 months
        rs = services.shipping_rule_set_update(
            rule_set_id=t_pk(), data={"old_customer_min_orders": 2, "old_customer_window_months": 12}
        )
        t = selectors.tariff_of(rs)
        assert selectors.member_kind_of(member=member, tariff=t) == "new"  # 400 days ago is outside
        _order(member, now - timedelta(days=30))
        assert selectors.member_kind_of(member=member, tariff=t) == "new"  # one inside the window
        _order(member, now - timedelta(days=3))
        assert selectors.member_kind_of(member=member, tariff=t) == "old"


def t_pk():
    return ShippingRuleSet.objects.get(is_active=True).pk


def test_update_replaces_rules_and_is_audited(db):
    rs = services.shipping_presets_install()
    rules = [
        {
            "rank": 1,
            "code": "all-free",
            "name": "全场包邮",
            "member": "any",
            "region": "any",
            "outcome": "free_any",
        }
    ]
    services.shipping_rule_set_update(rule_set_id=rs.pk, data={"rules": rules, "name": "大促"})
    assert list(ShippingRule.objects.values_list("code", flat=True)) == ["all-free"]
    entry = AuditEntry.objects.filter(action="shipping_rule_set.update").get()
    assert entry.after["name"] == "大促" and entry.after["rules"][0]["code"] == "all-free"
    assert len(entry.before["rules"]) == 12
    q = shipping_quote(member_kind="non_member", subtotal_fen=1, courier="sf", country="US")
    assert (q.charged_fen, q.rule_code) == (0, "all-free")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (
            {
                "rules": [
                    {
                        "rank": 1,
                        "code": "x",
                        "name": "x",
                        "member": "old",
                        "outcome": "free_normal",
                        "amount_fen": 5,
                    }
                ]
            },
            "SHIPPING_RULE_AMOUNT_MISMATCH",
        ),
        (
            {"rules": [{"rank": 1, "code": "x", "name": "x", "member": "vip", "outcome": "free_normal"}]},
            "FIELD_INVALID",
        ),
        (
            {"rules": [{"rank": 1, "code": "x", "name": "x", "member": "old", "outcome": "gratis"}]},
            "FIELD_INVALID",
        ),
        (
            {"rules": [{"rank": 1, "code": "x y", "name": "x", "member": "old", "outcome": "free_normal"}]},
            "FIELD_INVALID",
        ),
        (
            {
                "rules": [
                    {"rank": 1, "code": "a", "name": "a", "member": "old", "outcome": "free_normal"},
                    {"rank": 1, "code": "b", "name": "b", "member": "new", "outcome": "free_normal"},
                ]
            },
            "SHIPPING_RULE_DUPLICATE",
        ),
        (
            {"rates": [{"courier": "sf", "region_group": "ordinary", "postage_fen": -1}]},
            "SHIPPING_AMOUNT_INVALID",
        ),
        ({"rates": [{"courier": "dhl", "region_group": "ordinary", "postage_fen": 1}]}, "FIELD_INVALID"),
        ({"regions": {"火星": "remote"}}, "SHIPPING_PROVINCE_UNKNOWN"),
        ({"regions": {"新疆": "ordinary"}}, "FIELD_INVALID"),
        ({"regions": {"新疆": "remote", "新疆维吾尔自治区": "remote"}}, "SHIPPING_RULE_DUPLICATE"),
        ({"old_customer_min_orders": 0}, "FIELD_INVALID"),
        ({"old_customer_window_months": 121}, "FIELD_INVALID"),
        ({"name": ""}, "FIELD_REQUIRED"),
        ({"is_active": False}, "SHIPPING_RULE_SET_ACTIVE"),
        ({"colour": "red"}, "FIELD_INVALID"),
    ],
)
def test_bad_update_writes_nothing(db, data, code):
    rs = services.shipping_presets_install()
    before = (counts(), services._snapshot(rs))
    with pytest.raises(DomainError) as exc:
        services.shipping_rule_set_update(rule_set_id=rs.pk, data=data)
    assert exc.value.code == code
    assert (counts(), services._snapshot(ShippingRuleSet.objects.get(pk=rs.pk))) == before


def test_activation_retires_the_active_set(db):
    first = services.shipping_presets_install()
    second = services.shipping_rule_set_create(code="summer", name="夏季", is_active=False)
    services.shipping_rule_set_update(rule_set_id=second.pk, data={"is_active": True})
    assert list(ShippingRuleSet.objects.filter(is_active=True).values_list("pk", flat=True)) == [second.pk]
    first.refresh_from_db()
    assert not first.is_active
    assert AuditEntry.objects.filter(action="shipping_rule_set.deactivate", object_id=str(first.pk)).exists()
    with pytest.raises(DomainError) as exc:
        services.shipping_rule_set_create(code="summer", name="again")
    assert exc.value.code == "SHIPPING_RULE_SET_CODE_TAKEN"


def test_console_helpers(db):
    rs = services.shipping_presets_install()
    rule = services.shipping_rule_save(
        rule_set=rs,
        data={
            "rank": 99,
            "code": "vip",
            "name": "VIP",
            "member": "old",
            "region": "remote",
            "outcome": "free_any",
        },
    )
    with pytest.raises(DomainError) as exc:
        services.shipping_rule_save(
            rule_set=rs,
            data={"rank": 99, "code": "vip2", "name": "dup", "member": "old", "outcome": "free_any"},
        )
    assert exc.value.code == "SHIPPING_RULE_DUPLICATE"
    q = shipping_quote(member_kind="old", subtotal_fen=1, courier="ems", address=XJ)
    assert (q.charged_fen, q.rule_code) == (0, "vip")
    services.shipping_rule_delete(rule_id=rule.pk)
    services.postage_rate_save(rule_set=rs, courier="normal", region_group="remote", postage_fen=3000)
    q = shipping_quote(member_kind="old", subtotal_fen=1, courier="normal", address=XJ)
    assert (q.charged_fen, q.rule_code) == (2000, "remote-old")
    assert AuditEntry.objects.filter(action="shipping_rule_set.update").count() == 3


def test_tier_free_shipping_from_the_members_level(db):
    from laoke.tiers.services import tier_programme_create

    services.shipping_presets_install()
    member = member_create(name="包邮会员", mobile="13900003333")
    q = shipping_quote(member=member, subtotal_fen=100, courier="normal", address=ZJ)
    assert (q.member_kind, q.charged_fen, q.rule_code, q.tier_used) == ("new", 1000, "", False)
    tier_programme_create(
        code="fs",
        name="包邮等级",
        audience="individual",
        basis="cumulative_spend",
        is_active=True,
        levels=[{"rank": 0, "code": "fs", "name": "包邮会员", "threshold": 0, "free_shipping": True}],
    )
    q = shipping_quote(member=member, subtotal_fen=100, courier="sf", address=ZJ)
    assert (q.charged_fen, q.rule_code, q.tier_used) == (1200, "tier-free", True)
    q = shipping_quote(member=member, subtotal_fen=100, courier="normal", address=XJ)
    assert (q.charged_fen, q.rule_code) == (1500, "tier-remote")
    q = shipping_quote(
        member=member, subtotal_fen=100, courier="normal", address=ZJ, tier_free_shipping=False
    )
    assert (q.charged_fen, q.rule_code) == (1000, "")


def test_query_counts_on_the_hot_path(db, django_assert_num_queries):
    services.shipping_presets_install()
    member = member_create(name="计数", mobile="13900004444")
    tariff = selectors.active_tariff()
    with django_assert_num_queries(0):  # a loaded tariff and given kinds: pure
        shipping_quote(
            member_kind="old",
            tier_free_shipping=False,
            subtotal_fen=1,
            courier="sf",
            province="新疆",
            tariff=tariff,
        )
    with django_assert_num_queries(4):  # the active set, its rates, regions and rules
        shipping_quote(
            member_kind="old", tier_free_shipping=False, subtotal_fen=1, courier="sf", province="新疆"
        )
    with django_assert_num_queries(3):  # a member: statistics, its tier row, the entry level
        shipping_quote(member=member, subtotal_fen=1, courier="sf", province="新疆", tariff=tariff)

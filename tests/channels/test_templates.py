"""Message templates: the SMS rules (signature, opt-out, 70/67 segments, cost), placeholders
checked at save time, rendering (HTML escaping, fallbacks), member contexts (single and bulk in a
constant number of queries), and the API (CRUD, preview, errors with stable codes)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from laoke.cards.wallet import wallet_credit
from laoke.channels.models import MessageTemplate
from laoke.channels.selectors import template_context, template_contexts
from laoke.channels.services import message_template_create, message_template_update, template_problems
from laoke.channels.sms_text import sms_compose, sms_cost_fen, sms_segments
from laoke.channels.templating import render
from laoke.channels.unsubscribe import unsubscribe_token_read
from laoke.core import clock
from laoke.core.errors import ValidationErrors
from laoke.members.models import Member
from laoke.members.services import member_create
from laoke.points.presets import points_presets_install
from laoke.points.services import points_adjust
from laoke.tiers.presets import tier_presets_install

NOW = datetime(2026, 11, 12, 2, 0, tzinfo=UTC)
OPT = "回T退订"


def _codes(**kw) -> list[str]:
    base = {"channel": "sms", "kind": "marketing", "signature": "老客", "body": f"您好{{name}}，{OPT}"}
    return sorted(e.code for e in template_problems(**{**base, **kw}))


@pytest.mark.parametrize(
    ("overrides", "codes"),
    [
        ({}, []),
        ({"signature": "好"}, ["SMS_SIGNATURE_INVALID"]),  # 1 char
        ({"signature": "十二个字的签名正好十二个"}, []),  # 12 chars
        ({"signature": "十三个字的签名正好十三个字"}, ["SMS_SIGNATURE_INVALID"]),
        ({"signature": "老客【店】"}, ["SMS_SIGNATURE_INVALID"]),  # brackets inside
        ({"signature": ""}, ["SMS_SIGNATURE_INVALID"]),
        ({"body": "满100减10"}, ["SMS_OPT_OUT_MISSING"]),
        ({"body": "回T退订 满100减10"}, ["SMS_OPT_OUT_MISSING"]),  # not at the end
        ({"body": "满100减10，拒收请回复R"}, []),
        ({"body": "满100减10 退订回T。"}, []),  # trailing punctuation is fine
        ({"body": "满100减10", "kind": "transactional"}, []),  # notices need no opt-out
        ({"body": f"{{nom}}您好，{OPT}"}, ["TEMPLATE_VARIABLE_UNKNOWN"]),
        ({"body": f"{{name.__class__}}，{OPT}"}, ["TEMPLATE_SYNTAX_INVALID"]),  # no attribute access
        ({"body": "{name，" + OPT}, ["TEMPLATE_SYNTAX_INVALID"]),
        ({"body": f"{{{{literal}}}} {OPT}"}, []),  # escaped braces
        ({"channel": "email", "signature": "", "subject": "", "body": "hi"}, ["TEMPLATE_SUBJECT_REQUIRED"]),
        ({"channel": "email", "subject": "{x}", "body": "hi"}, ["TEMPLATE_VARIABLE_UNKNOWN"]),
        ({"channel": "call", "signature": "", "body": "请致电 {name}"}, []),
    ],
)
def test_template_validation_table(overrides, codes):
    assert _codes(**overrides) == codes


@pytest.mark.parametrize(
    ("n", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_segments_follow_the_carrier_rule(n, segments):
    text = "字" * n
    assert sms_segments(text) == segments
    # Independent statement of the rule (published by Aliyun / Tencent): ≤70 one, else ceil(n/67).
    assert segments == (1 if n <= 70 else math.ceil(n / 67))
    assert sms_cost_fen(text) == 5 * segments
    assert sms_cost_fen(text, 4) == 4 * segments


def test_price_per_segment_is_configurable(settings):
    settings.LAOKE = {**settings.LAOKE, "SMS_FEN_PER_SEGMENT": 4}
    assert sms_cost_fen("字" * 71) == 8
    assert sms_cost_fen("字" * 71, 5) == 10


def test_compose_counts_the_signature():
    body = "字" * 66  # 【老客】 is 4 more: 70 → one message; one more character → two
    assert sms_compose("老客", body) == "【老客】" + body
    assert sms_segments(sms_compose("老客", body)) == 1
    assert sms_segments(sms_compose("老客", body + "字")) == 2


def test_render_escapes_html_and_falls_back(settings):
    settings.LAOKE = {**settings.LAOKE, "SMS_FEN_PER_SEGMENT": 7}
    t = MessageTemplate(
        channel="email",
        kind="marketing",
        signature="",
        subject="{name}的专属礼",
        body="{name}：{coupon_code} {unknown_at_render}",
        html_body="<p>{name}</p><a href='{unsubscribe_link}'>x</a>",
    )
    out = render(t, {"name": "<b>王&李</b>", "coupon_code": None, "unsubscribe_link": "https://x/u/?a=1&b=2"})
    assert out.html_body == "<p>&lt;b&gt;王&amp;李&lt;/b&gt;</p><a href='https://x/u/?a=1&amp;b=2'>x</a>"
    assert out.body == "<b>王&李</b>： "  # text keeps it as is; missing values → empty
    assert out.subject == "<b>王&李</b>的专属礼"
    assert render(t, {}).subject == "会员的专属礼"  # the name's fallback
    sms = MessageTemplate(
        channel="sms", kind="marketing", signature="老客", subject="", body="{name}" + "字" * 61 + OPT
    )
    out = render(sms, {"name": "张三"})
    assert out.body == "【老客】张三" + "字" * 61 + OPT
    assert (len(out.body), out.segments, out.cost_fen) == (71, 2, 14)


@pytest.fixture
def frozen():
    with clock.frozen(NOW):
        yield NOW


def test_contexts_single_and_bulk(db, frozen, django_assert_max_num_queries):
    tier_presets_install(preset="online_shop")
    points_presets_install()
    a = member_create(name="老王", mobile="13800000001")
    wallet_credit(member=a, amount_fen=12_345, key="w-a", reason="test.seed")
    points_adjust(member=a, points=321, reason="seed", key="p-a")
    b = member_create(name="", mobile="13800000002")
    ctx = template_context(a, now=NOW, extra={"campaign": "双11回馈", "coupon_code": "ABC"})
    assert ctx["name"] == "老王"
    assert ctx["balance"] == "123.45"
    assert ctx["points"] == 321
    assert ctx["tier"]  # the open entry level of the online-shop preset
    assert (ctx["campaign"], ctx["coupon_code"]) == ("双11回馈", "ABC")
    assert unsubscribe_token_read(ctx["unsubscribe_link"].rstrip("/").rsplit("/", 1)[1]) == (a.pk, "sms")

    many = Member.objects.bulk_create(  # a bulk fixture: 30 plain members
        [
            Member(code=f"BULK{i:04d}", name=f"会员{i}", registered_at=NOW, created_at=NOW, updated_at=NOW)
            for i in range(30)
        ]
    )
    ids = [a.pk, b.pk, *(m.pk for m in many)]
    # Four of channels' own, whatever the number of members, plus what the apps above provide
    # (the service desk's care content: its articles, then one query over the members' lines).
    with django_assert_max_num_queries(6):
        contexts = template_contexts(ids, now=NOW, channel="email")
    assert set(contexts) == set(ids)
    assert contexts[b.pk]["balance"] == "0.00" and contexts[b.pk]["points"] == 0
    assert contexts[a.pk]["balance"] == "123.45"
    assert unsubscribe_token_read(contexts[b.pk]["unsubscribe_link"].rstrip("/").rsplit("/", 1)[1]) == (
        b.pk,
        "email",
    )
    t = MessageTemplate(
        channel="sms", kind="marketing", signature="老客", subject="", body="{name}余额{balance}元，" + OPT
    )
    with CaptureQueriesContext(connection) as q:
        bodies = [render(t, contexts[i]).body for i in ids]
    assert len(q.captured_queries) == 0  # rendering never touches the database
    assert bodies[1] == "【老客】会员余额0.00元，" + OPT


def test_services_refuse_and_audit(db, frozen):
    with pytest.raises(ValidationErrors) as err:
        message_template_create(name="坏", channel="sms", kind="marketing", signature="X", body="满减 {oops}")
    assert sorted(e.code for e in err.value.errors) == [
        "SMS_OPT_OUT_MISSING",
        "SMS_SIGNATURE_INVALID",
        "TEMPLATE_VARIABLE_UNKNOWN",
    ]
    t = message_template_create(
        name="通知", channel="sms", kind="transactional", signature="老客", body="余额{balance}元"
    )
    with pytest.raises(ValidationErrors) as err:  # becoming marketing needs the opt-out
        message_template_update(template_id=t.pk, kind="marketing")
    assert [e.code for e in err.value.errors] == ["SMS_OPT_OUT_MISSING"]
    t = message_template_update(template_id=t.pk, kind="marketing", body="余额{balance}元，" + OPT)
    assert t.kind == "marketing"
    from laoke.core.models import AuditEntry

    assert list(
        AuditEntry.objects.filter(object_id=str(t.pk), action__startswith="channels.template")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["channels.template.create", "channels.template.update"]


def test_api_crud_and_preview(api, db, frozen):
    client = api("marketer")
    P = "/api/v1/channels/templates"
    bad = client.post(
        P,
        {"name": "x", "channel": "sms", "kind": "marketing", "signature": "店", "body": "hi"},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert {e["code"] for e in bad.json()["details"]["errors"]} == {
        "SMS_SIGNATURE_INVALID",
        "SMS_OPT_OUT_MISSING",
    }
    zh = api("marketer", lang="zh-hans").post(
        P,
        {"name": "x", "channel": "sms", "kind": "marketing", "signature": "店", "body": f"hi {OPT}"},
        content_type="application/json",
    )
    assert zh.json()["details"]["errors"][0]["message"].startswith("短信签名")
    r = client.post(
        P,
        {
            "name": "双11",
            "channel": "sms",
            "kind": "marketing",
            "signature": "老客",
            "body": "{name}，送您{coupon_amount}元券，" + OPT,
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    tid = r.json()["id"]
    assert (
        client.patch(f"{P}/{tid}", {"is_active": False}, content_type="application/json").json()["is_active"]
        is False
    )
    assert [t["id"] for t in client.get(P + "?active=false").json()["items"]] == [tid]
    m = member_create(name="李四", mobile="13800000009")
    p = client.post(
        f"{P}/preview",
        {"template_id": tid, "member_id": m.pk, "extra": {"coupon_amount": "20"}},
        content_type="application/json",
    ).json()
    assert p["body"] == "【老客】李四，送您20元券，" + OPT
    assert (p["chars"], p["segments"], p["cost_fen"], p["problems"]) == (len(p["body"]), 1, 5, [])
    draft = client.post(
        f"{P}/preview",
        {"channel": "sms", "kind": "marketing", "signature": "老客", "body": "字" * 70},
        content_type="application/json",
    ).json()
    assert (draft["segments"], draft["cost_fen"]) == (2, 10)
    assert [x["code"] for x in draft["problems"]] == ["SMS_OPT_OUT_MISSING"]
    assert client.delete(f"{P}/{tid}").status_code == 204
    assert client.get(f"{P}/{tid}").status_code == 404


def test_bulk_tier_agrees_with_the_tiers_app(db, frozen, staff):
    """The bulk loader re-implements current_level's rule for a chunk; it must agree with it
    (own level, a group account's better level, none at all)."""
    from laoke.members.services import group_account_create
    from laoke.tiers.models import TierLevel
    from laoke.tiers.selectors import current_level
    from laoke.tiers.services import tier_grant

    tier_presets_install(preset="stored_value")
    admin = staff("admin")
    level = {lv.name: lv for lv in TierLevel.objects.all()}
    group = group_account_create(name="某公司")
    own = member_create(name="个人", mobile="13800000101")
    both = member_create(name="兼有", mobile="13800000102", group_account=group)
    via_group = member_create(name="团体", mobile="13800000103", group_account=group)
    none = member_create(name="无等级", mobile="13800000104")
    tier_grant(member=own, level=level["红钻"], reason="t", actor=admin)
    tier_grant(member=both, level=level["黄钻"], reason="t", actor=admin)
    tier_grant(group_account=group, level=level["金牌"], reason="t", actor=admin)
    members = [own, both, via_group, none]
    contexts = template_contexts([m.pk for m in members], now=NOW)
    expected = {m.pk: (current_level(member=m).name if current_level(member=m) else "") for m in members}
    assert {pk: c["tier"] for pk, c in contexts.items()} == expected
    assert expected == {own.pk: "红钻", both.pk: "金牌", via_group.pk: "金牌", none.pk: ""}

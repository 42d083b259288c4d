"""Tiers in the console: programmes and levels saved through the services (audited with the
staff user, checks shown as form errors, thresholds in yuan), manual grants as the "add" of the
current-tier page, history read-only."""

from django.test import Client

from laoke.core.models import AuditEntry
from laoke.members.services import group_account_create, member_create
from laoke.tiers.models import MemberTier, TierHistory, TierLevel, TierProgramme
from laoke.tiers.services import tier_presets_install

from .helpers import spend_and_evaluate

A = "/admin/tiers"
NO_INLINE = {"levels-TOTAL_FORMS": "0", "levels-INITIAL_FORMS": "0"}


def login(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    assert client.login(username=user.username, password="console-pass-1")
    client.user = user
    return client


def programme_form(**over):
    data = {
        "code": "shop",
        "name": "网店会员",
        "audience": "individual",
        "basis": "cumulative_spend",
        "downgrade_policy": "never",
        "review_month": "",
        "review_day": "",
        "is_active": "on",
        **NO_INLINE,
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def level_form(p, **over):
    data = {
        "programme": str(p.pk),
        "rank": "1",
        "code": "senior",
        "name": "高级会员",
        "rule_kind": "cumulative_spend",
        "threshold_value": "2000.00",
        "price_rate_bp": "9200",
        "points_multiplier_bp": "10000",
        "service_owner_role": "service_agent",
        "activities": ["tier_gifts", "promo_sms"],
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_marketer_designs_a_programme_in_the_console(staff):
    client = login(staff, "marketer")
    r = client.post(f"{A}/tierprogramme/add/", programme_form())
    assert r.status_code == 302, r.content.decode()[:3000]
    p = TierProgramme.objects.get()
    assert p.is_active and AuditEntry.objects.get(action="tier_programme.create").actor_id == client.user.pk

    r = client.post(f"{A}/tierprogramme/add/", programme_form(is_active=None))
    assert r.status_code == 200 and "already exists" in r.content.decode()
    r = client.post(f"{A}/tierprogramme/add/", programme_form(code="y", downgrade_policy="yearly_review"))
    assert r.status_code == 200 and "yearly review needs" in r.content.decode()
    assert TierProgramme.objects.count() == 1

    r = client.post(f"{A}/tierlevel/add/", level_form(p))
    assert r.status_code == 302, r.content.decode()[:3000]
    lv = TierLevel.objects.get()
    assert (lv.threshold, lv.price_rate_bp, lv.activities) == (200_000, 9200, ["tier_gifts", "promo_sms"])
    assert AuditEntry.objects.get(action="tier_level.create").actor_id == client.user.pk

    bad = [
        (
            level_form(p, code="vip", rank="2", threshold_value="1000"),
            "higher level cannot have a lower threshold",
        ),
        (level_form(p, code="vip", threshold_value="9000"), "already has a level of rank"),
        (level_form(p, code="vip", rank="2", threshold_value="12.345"), "threshold_value"),
        (level_form(p, code="vip", rank="2", price_rate_bp="0"), "price rate 1"),
        (level_form(p, code="vip", rank="2", rule_kind="order_count"), "grades by"),
        (level_form(p, rank="2", threshold_value="9000"), "already has a level coded"),
    ]
    for data, text in bad:
        r = client.post(f"{A}/tierlevel/add/", data)
        assert r.status_code == 200 and text in r.content.decode(), (data, r.content.decode()[:2000])
    assert TierLevel.objects.count() == 1

    r = client.post(
        f"{A}/tierlevel/{lv.pk}/change/", level_form(p, programme=None, threshold_value="2500", activities=[])
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    row = AuditEntry.objects.get(action="tier_level.update")
    assert row.after == {"threshold": 250_000, "activities": []}

    r = client.post(
        f"{A}/tierprogramme/{p.pk}/change/",
        programme_form(
            code=None, audience=None, downgrade_policy="yearly_review", review_month="1", review_day="1"
        ),
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    p.refresh_from_db()
    assert (p.downgrade_policy, p.review_month, p.review_day) == ("yearly_review", 1, 1)
    assert client.post(f"{A}/tierprogramme/{p.pk}/delete/", {"post": "yes"}).status_code == 403


def test_level_delete_goes_through_the_service(staff, member):
    (p,) = tier_presets_install(preset="online_shop")
    spend_and_evaluate(member, 1)
    client = login(staff, "marketer")
    spare = TierLevel.objects.create(
        programme=p,
        rank=9,
        code="spare",
        name="备用",
        rule_kind="cumulative_spend",
        threshold=10**9,
        created_at=p.created_at,
        updated_at=p.created_at,
    )
    r = client.post(f"{A}/tierlevel/{spare.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302 and not TierLevel.objects.filter(pk=spare.pk).exists()
    assert AuditEntry.objects.filter(action="tier_level.delete").count() == 1
    regular = p.levels.get(code="regular")
    r = client.post(f"{A}/tierlevel/{regular.pk}/delete/", {"post": "yes"})
    assert r.status_code in (200, 403)  # Django refuses: tier rows refer to it (PROTECT)
    assert TierLevel.objects.filter(pk=regular.pk).exists()


def test_manual_grant_in_the_console(staff, member):
    (p,) = tier_presets_install(preset="online_shop")
    _, grp = tier_presets_install(preset="stored_value", activate=False)
    vip = p.levels.get(code="vip")
    agent = login(staff, "service_agent")
    assert agent.get(f"{A}/membertier/add/").status_code == 403
    client = login(staff, "service_manager")
    form = {"member": str(member.pk), "group_account": "", "level": str(vip.pk), "reason": "经理特批"}
    r = client.post(f"{A}/membertier/add/", form)
    assert r.status_code == 302, r.content.decode()[:3000]
    row = MemberTier.objects.get(member=member)
    assert (row.level_id, row.how) == (vip.pk, "manual")
    h = TierHistory.objects.get()
    assert (h.actor_id, h.reason) == (client.user.pk, "经理特批")

    r = client.post(f"{A}/membertier/add/", form)
    assert r.status_code == 200 and "Already at this level" in r.content.decode()
    g = group_account_create(name="集团")
    r = client.post(f"{A}/membertier/add/", {**form, "member": "", "group_account": str(g.pk)})
    assert r.status_code == 200 and "does not belong" in r.content.decode()
    r = client.post(f"{A}/membertier/add/", {**form, "group_account": str(g.pk)})
    assert r.status_code == 200 and "not both" in r.content.decode()
    assert TierHistory.objects.count() == 1

    # lists: the history is read-only, the agent sees no group members' tiers
    staffer = member_create(name="员工", mobile="13900009999", group_account=g)
    spend_and_evaluate(staffer, 1)
    assert client.get(f"{A}/tierhistory/").status_code == 200
    assert client.get(f"{A}/tierhistory/{h.pk}/change/").status_code == 200
    body = agent.get(f"{A}/membertier/").content.decode()
    assert "员工" not in body and "老客" in body
    assert "员工" in client.get(f"{A}/membertier/").content.decode()
    assert client.get(f"{A}/tierprogramme/").status_code == 200
    assert client.get(f"{A}/tierprogramme/{grp.pk}/change/").status_code == 200


def test_place_members_action(staff, member):
    from .helpers import spend

    spend(member, 5_000)
    (p,) = tier_presets_install(preset="online_shop")
    client = login(staff, "marketer")
    r = client.post(f"{A}/tierprogramme/", {"action": "place_members", "_selected_action": [str(p.pk)]})
    assert r.status_code == 302
    assert MemberTier.objects.get(member=member).level.code == "vip"
    assert (
        client.post(
            f"{A}/tierprogramme/", {"action": "delete_selected", "_selected_action": [str(p.pk)]}
        ).status_code
        == 302  # no such action: "no action selected", nothing deleted
    )
    assert TierProgramme.objects.filter(pk=p.pk).exists()

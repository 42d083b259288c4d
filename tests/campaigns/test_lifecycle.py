"""Lifecycle, pause/resume/cancel with the outbox, budget stop, branches with a stratified control,
the dry run, member history and the campaign segment fields."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from laoke.campaigns.dispatch import campaigns_tick
from laoke.campaigns.models import Arm, CampaignMember, CampaignState, Contact
from laoke.campaigns.presets import campaigns_presets_install
from laoke.campaigns.selectors import campaign_dry_run, campaign_progress, member_campaign_history
from laoke.campaigns.services import (
    campaign_approve,
    campaign_cancel,
    campaign_create,
    campaign_pause,
    campaign_resume,
    campaign_schedule,
    campaign_update,
)
from laoke.cli import main as cli
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.messaging.models import Message
from laoke.promotions.models import Coupon
from laoke.segments.selectors import segment_queryset

from .conftest import T0

pytestmark = pytest.mark.django_db


def _data(cshop, **over):
    return {
        "name": "测试活动",
        "objective": "retention",
        "segment_id": cshop.segment.pk,
        "holdout_bp": 1000,
        "seed": 42,
        "waves": [{"name": "感谢", "template_id": cshop.sms.pk, "offer_template_id": cshop.offer.pk}],
        **over,
    }


def _launched(cshop, **over):
    c = campaign_create(data=_data(cshop, **over), actor=cshop.marketer)
    campaign_approve(campaign_id=c.pk, actor=cshop.manager)
    campaign_schedule(campaign_id=c.pk, starts_at=T0)
    campaigns_tick(T0)
    c.refresh_from_db()
    return c


def _state_code(fn, **kw):
    with pytest.raises(DomainError) as err:
        fn(**kw)
    return err.value.error.code


def test_only_drafts_change_and_states_follow_the_lifecycle(cshop):
    cshop.customers(10)
    c = campaign_create(data=_data(cshop), actor=cshop.marketer)
    sample = campaign_dry_run(c, now=T0)["samples"][0]["body"]
    assert "送您10.00元券" in sample and sample.endswith("回T退订")  # exactly as it will go out
    assert _state_code(campaign_schedule, campaign_id=c.pk) == "CAMPAIGN_STATE"  # not approved yet
    campaign_update(campaign_id=c.pk, data={"plain_terms": "满100减10，10天有效"}, actor=cshop.marketer)
    campaign_approve(campaign_id=c.pk, actor=cshop.manager)
    assert _state_code(campaign_update, campaign_id=c.pk, data={"name": "x"}) == "CAMPAIGN_STATE"
    assert _state_code(campaign_pause, campaign_id=c.pk) == "CAMPAIGN_STATE"  # not running
    campaign_schedule(campaign_id=c.pk, starts_at=T0 + timedelta(days=1))
    assert campaigns_tick(T0)["launched"] == 0
    with clock.frozen(T0 + timedelta(days=1)):
        assert campaigns_tick(T0 + timedelta(days=1))["launched"] == 1
    c.refresh_from_db()
    assert c.state == CampaignState.RUNNING and c.snapshot_id is not None
    # A wave that is invalid is refused with the field named.
    with pytest.raises(DomainError) as err:
        campaign_create(data=_data(cshop, name="坏", waves=[{"template_id": 999_999}]), actor=cshop.marketer)
    assert err.value.field == "waves[0].template_id"


def test_pause_holds_resume_releases_cancel_drops(cshop):
    cshop.customers(12)
    c = _launched(cshop)
    waiting = Message.objects.filter(purpose__startswith=c.purpose_prefix, state="waiting")
    n = waiting.count()
    assert n > 0
    campaign_pause(campaign_id=c.pk, reason="文案有误")
    assert waiting.filter(not_before__year=9999).count() == n  # held: the dispatcher will not take them
    later = T0 + timedelta(hours=12)  # 22:00 in Shanghai: released into the morning, not at night
    with clock.frozen(later):
        campaign_resume(campaign_id=c.pk)
    assert set(waiting.values_list("not_before", flat=True)) == {T0 + timedelta(hours=22)}
    campaign_cancel(campaign_id=c.pk, reason="停止")
    assert not waiting.exists()
    assert (
        Message.objects.filter(purpose__startswith=c.purpose_prefix, error="campaign cancelled").count() == n
    )


def test_budget_stops_the_campaign_where_the_money_ends(cshop):
    cshop.customers(20)
    c = campaign_create(data=_data(cshop, holdout_bp=0), actor=cshop.marketer)
    # Each contact costs its SMS (one 70-character segment, 5 fen) plus the coupon's 10元: a budget
    # for 4 and a half of them.
    campaign_update(campaign_id=c.pk, data={"budget_fen": 4 * 1_005 + 500}, actor=cshop.marketer)
    campaign_approve(campaign_id=c.pk, actor=cshop.manager)
    campaign_schedule(campaign_id=c.pk, starts_at=T0)
    campaigns_tick(T0)
    c.refresh_from_db()
    contacted = Contact.objects.filter(run__wave__campaign=c, outcome="contacted")
    bodies = Message.objects.filter(purpose__startswith=c.purpose_prefix).values_list("body", flat=True)
    assert all(len(b) <= 70 for b in bodies)
    assert contacted.count() == 4 and c.spent_fen == 4 * 1_005
    assert c.state == CampaignState.PAUSED and c.stop_reason == "budget"
    assert Coupon.objects.filter(issue_key__startswith=c.purpose_prefix).count() == 4
    campaign_resume(campaign_id=c.pk)  # without more budget the next tick stops it again
    campaigns_tick(T0 + timedelta(minutes=1))
    c.refresh_from_db()
    assert c.state == CampaignState.PAUSED and contacted.count() == 4 and c.spent_fen == 4 * 1_005


def test_branches_stratify_the_control_and_dry_run_matches_the_launch(cshop):
    a = cshop.customers(20)
    b = cshop.customers(30)
    for m in b:
        from laoke.members.tagging import member_tag_add, tag_create

        tag_create(name="B组") if m is b[0] else None
        member_tag_add(member_id=m.pk, tag_name="B组")
    data = _data(
        cshop,
        holdout_bp=2000,
        seed=7,
        branches=[
            {"name": "B", "rule": {"field": "tags", "op": "any", "value": ["B组"]}},
            {"name": "A", "rule": {}},
        ],
        waves=[
            {"branch": "B", "name": "B感谢", "template_id": cshop.sms.pk},
            {"branch": "A", "name": "A感谢", "template_id": cshop.sms.pk},
        ],
    )
    c = campaign_create(data=data, actor=cshop.marketer)
    dry = campaign_dry_run(c, now=T0)
    assert dry["audience"] == 50 and [x["members"] for x in dry["branches"]] == [30, 20]
    assert dry["control"] == 6 + 4 and dry["samples"] and dry["samples"][0]["body"].startswith("【老客商城】")
    assert Message.objects.count() == 0 and CampaignMember.objects.count() == 0  # nothing written
    campaign_approve(campaign_id=c.pk, actor=cshop.manager)
    campaign_schedule(campaign_id=c.pk, starts_at=T0)
    campaigns_tick(T0)
    rows = CampaignMember.objects.filter(campaign=c)
    for branch, members, position in (("B", b, 1), ("A", a, 2)):
        ids = sorted(m.pk for m in members)
        control = set(rows.filter(branch__name=branch, arm=Arm.CONTROL).values_list("member_id", flat=True))
        k = (len(ids) * 2000 + 5000) // 10000
        assert control == set(random.Random(f"laoke-holdout:7:{position}").sample(ids, k))
    progress = campaign_progress(c)
    assert {r["wave"] for r in progress["runs"]} == {"B感谢", "A感谢"}
    assert sum(r["contacted"] for r in progress["runs"]) == 50 - 10
    assert sum(r["outbox"].get("waiting", 0) for r in progress["runs"]) == 40


def test_history_shows_agents_the_exact_text_and_segments_see_campaigns(cshop):
    members = cshop.customers(10)
    c = _launched(cshop, plain_terms="满100减10元，10天内有效")
    contacted = Contact.objects.filter(run__wave__campaign=c, outcome="contacted").first()
    history = member_campaign_history(contacted.member_id)
    assert history[0]["campaign"] == "测试活动" and history[0]["plain_terms"] == "满100减10元，10天内有效"
    assert history[0]["text"] == Message.objects.get(member_id=contacted.member_id).body
    assert history[0]["coupon_code"] in history[0]["text"]

    received = segment_queryset({"field": "campaigns.received", "op": "in", "value": [str(c.pk)]}, now=T0)
    control = segment_queryset({"field": "campaigns.control", "op": "in", "value": [str(c.pk)]}, now=T0)
    contacted_ids = set(
        Contact.objects.filter(run__wave__campaign=c, outcome="contacted").values_list("member_id", flat=True)
    )
    assert set(received.values_list("pk", flat=True)) == contacted_ids
    assert control.count() == 1  # 10% of 10
    buyer = next(m for m in members if m.pk == contacted.member_id)
    cshop.buy(buyer, T0 + timedelta(days=2))
    responded = segment_queryset({"field": "campaigns.responded", "op": "in", "value": [str(c.pk)]}, now=T0)
    assert list(responded.values_list("pk", flat=True)) == [buyer.pk]
    late = members[-1] if members[-1].pk != buyer.pk else members[-2]
    if late.pk in contacted_ids:
        cshop.buy(late, T0 + timedelta(days=11))  # after the 10-day window: not a response
        assert list(responded.values_list("pk", flat=True)) == [buyer.pk]


def test_presets_install_as_drafts_and_cli(cshop, capsys):
    ids = campaigns_presets_install()
    assert set(ids) == {"double11_5_loops", "mother_baby", "three_stage"}
    assert campaigns_presets_install() == ids  # idempotent
    mb = c = None
    from laoke.campaigns.models import Campaign

    mb = Campaign.objects.get(pk=ids["mother_baby"])
    assert mb.state == "draft" and mb.branches.count() == 3 and mb.waves.count() == 9
    d11 = Campaign.objects.get(pk=ids["double11_5_loops"])
    assert d11.waves.get().loops == 5
    assert cli(["campaign", "dry-run", str(d11.pk)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["campaign_id"] == d11.pk and out["waves"][0]["runs"].__len__() == 5
    assert cli(["campaign", "approve", str(d11.pk)]) == 0
    capsys.readouterr()
    assert cli(["campaign", "launch", str(d11.pk)]) == 0
    c = json.loads(capsys.readouterr().out)
    assert c["state"] == "running" and len(c["runs"]) == 5
    assert cli(["campaign", "pause", str(d11.pk), "--reason", "检查"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "paused"


def test_attribution_by_code_then_last_touch_window_for_both_arms(cshop):
    members = {m.pk: m for m in cshop.customers(10)}
    c = _launched(cshop)  # 10% control: one member held out; the offer is valid 10 days
    run = c.waves.get().runs.get()
    arms = dict(CampaignMember.objects.filter(campaign=c).values_list("member_id", "arm"))
    control = next(m for m, a in arms.items() if a == Arm.CONTROL)
    treated = sorted(m for m, a in arms.items() if a == Arm.TREATMENT)
    coupon = Coupon.objects.get(member_id=treated[0])
    by_code = cshop.buy(members[treated[0]], T0 + timedelta(days=2), coupons=(coupon.code,))
    in_window = cshop.buy(members[treated[1]], T0 + timedelta(days=3))
    cshop.buy(members[treated[2]], T0 + timedelta(days=10, minutes=1))  # after the 10-day window
    held_out = cshop.buy(members[control], T0 + timedelta(days=1))
    cshop.buy(members[treated[3]], T0 - timedelta(days=1))  # before the contact
    got = campaign_progress(c)["runs"][0]["attribution"]
    assert got["treatment"] == {
        "members": 9,
        "responders": 2,
        "orders": 2,
        "revenue_fen": by_code.total_fen + in_window.total_fen,
        "orders_by_code": 1,
    }
    assert got["control"] == {
        "members": 1,
        "responders": 1,
        "orders": 1,
        "revenue_fen": held_out.total_fen,
        "orders_by_code": 0,
    }
    assert run.pk == campaign_progress(c)["runs"][0]["run_id"]

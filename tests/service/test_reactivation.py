"""Reactivation (SPEC 18 story 2): a member goes dormant after a month and is picked up by the
dormancy campaign once per episode; a member with an open complaint is kept out of the wave by the
campaigns guard; the 客服 handles the 'dissatisfied' review by phone and records the outcome. The
rule itself is approved by another department (core.approvals)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from laoke.analytics.evaluation import campaign_report
from laoke.campaigns.dispatch import campaigns_tick
from laoke.campaigns.models import Campaign, Contact
from laoke.cards.wallet import wallet_credit
from laoke.channels.services import message_template_create
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.messaging.models import Message
from laoke.orders.services import order_review
from laoke.service.hooks import campaign_complaints, marketing_suppression
from laoke.service.models import ReactivationPickup, ServiceCase
from laoke.service.reactivation import reactivation_rule_approve, reactivation_rule_save, reactivation_tick
from laoke.service.services import case_contact, case_file, case_resolve, service_tick

from .conftest import T0

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def _rule(desk, *, actor=None, name="休眠30天唤醒", **kw):
    template = message_template_create(
        name=f"唤醒短信{name}",
        channel="sms",
        kind="marketing",
        signature="老客商城",
        body="{name}，好久不见！新品已上架。回T退订",
    )
    kw.setdefault("kind", "dormant")
    return reactivation_rule_save(
        name=name, template_id=template.pk, holdout_bp=0, actor=actor or desk.marketer, **kw
    )


def test_rule_is_approved_by_another_department(desk):
    own = _rule(desk, actor=desk.gm, name="经理自己的规则")
    other_gm = desk.staff("general_manager")
    for actor, code in (
        (desk.gm, "APPROVAL_OWN_REQUEST"),
        (other_gm, "APPROVAL_OWN_ROLE"),
        (desk.marketer, "APPROVAL_PERMISSION"),
    ):
        with pytest.raises(DomainError) as exc:
            reactivation_rule_approve(rule_id=own.pk, actor=actor)
        assert exc.value.code == code
    rule = _rule(desk)  # filed by marketing: the marketer is refused, the general manager approves
    with pytest.raises(DomainError):
        reactivation_rule_approve(rule_id=rule.pk, actor=desk.staff("marketer"))
    assert reactivation_tick(T0) == {}  # not active before approval
    approved = reactivation_rule_approve(rule_id=rule.pk, actor=desk.gm)
    assert approved.is_active and approved.approved_by_id == desk.gm.pk


def test_story2_dormant_member_reactivated_once_and_complaint_handled(desk):
    quiet, unhappy, active = desk.customer(), desk.customer(), desk.customer()
    desk.buy(quiet, T0)
    bad_order = desk.buy(unhappy, T0)
    desk.buy(active, T0)
    rule = _rule(desk)
    reactivation_rule_approve(rule_id=rule.pk, actor=desk.gm)
    desk.buy(active, T0 + 20 * DAY)  # keeps buying: not dormant
    order_review(order_id=bad_order.pk, level="dissatisfied", text="质量太差", now=T0 + DAY)

    at = T0 + 31 * DAY
    with clock.frozen(at):
        assert service_tick(at)["from_reviews"] == 1
        assert reactivation_tick(at - DAY)[rule.name]["members"] == 0  # 30 days not yet over
        picked = reactivation_tick(at)[rule.name]
        assert picked["members"] == 2
        campaigns_tick(at)
    campaign = Campaign.objects.get(pk=picked["campaign"])
    assert (campaign.objective, campaign.state) == ("reactivation", "running")
    outcomes = dict(Contact.objects.filter(run__wave__campaign=campaign).values_list("member_id", "outcome"))
    assert outcomes == {quiet.pk: "contacted", unhappy.pk: "suppressed"}
    assert Contact.objects.get(member=unhappy).reason == "open complaint"
    assert Message.objects.filter(member=quiet, purpose__startswith=f"campaign:{campaign.pk}:").count() == 1
    assert not Message.objects.filter(member=unhappy, purpose__startswith="campaign:").exists()

    # picked up once per episode: later runs leave them alone
    with clock.frozen(at + 2 * DAY):
        assert reactivation_tick(at + 2 * DAY)[rule.name]["members"] == 0
    assert Campaign.objects.filter(preset=f"reactivation:{rule.pk}").count() == 1
    assert ReactivationPickup.objects.filter(rule=rule).count() == 2

    # the 客服 handles the dissatisfied review by phone and records the outcome
    case = ServiceCase.objects.get(member=unhappy)
    assert (case.level, case.method, case.assignee_id) == ("dissatisfied", "phone", desk.agent.pk)
    with clock.frozen(at + DAY / 2):
        case_contact(case_id=case.pk, outcome="reached", note="电话致歉，同意退货", actor=desk.agent)
        case_resolve(case_id=case.pk, outcome="已退货退款，会员接受道歉", actor=desk.agent)
    assert marketing_suppression([unhappy.pk, quiet.pk], at) == {}
    assert campaign_complaints([unhappy.pk, quiet.pk]) == [(unhappy.pk, at)]

    # a complaint of a contacted member inside the wave's window counts in the evaluation
    with clock.frozen(at + DAY):
        case_file(member_id=quiet.pk, level="criticism", text="短信太多了", source="phone")
    report = campaign_report(campaign)
    assert report["complaints_tracked"] is True
    assert report["totals"]["complaints"] == 1 and report["totals"]["contacted"] == 1

    # a new order then another month of silence is a new episode (and the once-active member,
    # silent since day 20, has now gone dormant too)
    desk.buy(quiet, at + 3 * DAY)
    later = at + 34 * DAY
    with clock.frozen(later):
        assert reactivation_tick(later)[rule.name]["members"] == 2
    assert ReactivationPickup.objects.filter(rule=rule, member=quiet).count() == 2
    assert ReactivationPickup.objects.filter(rule=rule, member=active).count() == 1
    assert not ReactivationPickup.objects.filter(rule=rule, member=unhappy, episode__gt=T0).exists()


def test_low_balance_needs_the_threshold_and_the_idle_month(desk):
    poor, rich = desk.customer(), desk.customer()
    wallet_credit(member=poor, amount_fen=1_500, key="w-poor", reason="test.seed")
    wallet_credit(member=rich, amount_fen=5_000, key="w-rich", reason="test.seed")
    desk.buy(poor, T0)
    desk.buy(rich, T0)
    rule = _rule(desk, name="余额不足", kind="low_balance", balance_below_fen=2_000)
    reactivation_rule_approve(rule_id=rule.pk, actor=desk.gm)
    at = T0 + 31 * DAY
    with clock.frozen(at):
        assert reactivation_tick(at)[rule.name]["members"] == 1
    assert list(ReactivationPickup.objects.values_list("member_id", flat=True)) == [poor.pk]
    with pytest.raises(DomainError) as exc:
        _rule(desk, name="缺阈值", kind="low_balance")
    assert exc.value.code == "SERVICE_RULE_INVALID"

"""A whole Double-11 5-loop campaign with an injected clock (issue 5, must show): the right members
get each loop, returners drop out, the control gets nothing, quiet hours and caps hold."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from laoke.campaigns.dispatch import campaigns_tick
from laoke.campaigns.models import Arm, CampaignMember, CampaignState, Contact, WaveRun
from laoke.campaigns.services import campaign_approve, campaign_create, campaign_schedule
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.messaging.models import Message
from laoke.messaging.services import message_enqueue
from laoke.promotions.models import Coupon

from .conftest import T0

pytestmark = pytest.mark.django_db


def _campaign(cshop, **over):
    data = {
        "name": "双11新客感谢回购",
        "objective": "retention",
        "target_metric": "response_rate",
        "target_value": 2000,
        "segment_id": cshop.segment.pk,
        "holdout_bp": 2000,
        "seed": 20261111,
        "waves": [
            {
                "name": "感谢+券",
                "template_id": cshop.sms.pk,
                "offer_template_id": cshop.offer.pk,
                "send_time": "10:00",
                "loops": 5,
                "loop_every_days": 30,
                "eval_days": 10,
            }
        ],
        **over,
    }
    return campaign_create(data=data, actor=cshop.marketer)


def _tick(at):
    with clock.frozen(at):
        return campaigns_tick(at)


def _run(campaign, loop):
    return WaveRun.objects.get(wave__campaign=campaign, loop=loop)


def _outcomes(run) -> dict[int, str]:
    return dict(Contact.objects.filter(run=run).values_list("member_id", "outcome"))


def _expected_control(ids, seed, bp):
    """Independent of the code under test: the documented draw (decision 0026)."""
    ordered = sorted(ids)
    k = (len(ordered) * bp + 5000) // 10000
    return set(random.Random(f"laoke-holdout:{seed}:0").sample(ordered, k))


def test_double11_five_loops(cshop):
    members = cshop.customers(30)
    no_consent = cshop.customers(2, consent=False)
    outsider = cshop.customers(1, tagged=False)[0]
    everyone = {m.pk for m in members + no_consent}

    campaign = _campaign(cshop)
    with pytest.raises(DomainError) as err:
        campaign_approve(campaign_id=campaign.pk, actor=cshop.marketer)
    assert err.value.error.code == "CAMPAIGN_SELF_APPROVAL"
    campaign_approve(campaign_id=campaign.pk, actor=cshop.manager)
    campaign_schedule(campaign_id=campaign.pk, starts_at=T0)

    # --- launch and loop 0 ------------------------------------------------------------------
    assert _tick(T0)["launched"] == 1
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.RUNNING
    arms = dict(CampaignMember.objects.filter(campaign=campaign).values_list("member_id", "arm"))
    assert set(arms) == everyone and outsider.pk not in arms
    control = {m for m, a in arms.items() if a == Arm.CONTROL}
    assert control == _expected_control(everyone, 20261111, 2000)
    assert len(control) == 6
    treatment = everyone - control

    loop0 = _outcomes(_run(campaign, 0))
    assert {m for m, o in loop0.items() if o == "control"} == control
    assert {m for m, o in loop0.items() if o == "suppressed"} == {m.pk for m in no_consent} - control
    contacted0 = {m for m, o in loop0.items() if o == "contacted"}
    assert contacted0 == treatment - {m.pk for m in no_consent}
    sms = Message.objects.filter(purpose__startswith=campaign.purpose_prefix, state="waiting")
    assert set(sms.values_list("member_id", flat=True)) == contacted0
    first = sms.get(member_id=min(contacted0))
    coupon = Coupon.objects.get(member_id=first.member_id)
    assert first.body.startswith("【老客商城】") and coupon.code in first.body and "10.00元券" in first.body
    assert first.not_before == T0  # 10:00 shop time: not quiet
    assert not Coupon.objects.filter(member_id__in=control).exists()

    # A second tick the same day writes nothing more (dedup per wave and member).
    _tick(T0 + timedelta(hours=1))
    assert Message.objects.filter(purpose__startswith=campaign.purpose_prefix).count() == len(contacted0)
    reasons = dict(Contact.objects.filter(outcome="suppressed").values_list("member_id", "reason"))
    assert set(reasons.values()) == {"no marketing consent"}  # the outbox's reason, asked before the offer
    assert not Coupon.objects.filter(member_id__in=reasons).exists()

    # --- returners drop out -------------------------------------------------------------------
    returners_t = sorted(contacted0)[:5]
    returners_c = sorted(control)[:2]
    for pk in returners_t + returners_c:
        cshop.buy(next(m for m in members + no_consent if m.pk == pk), T0 + timedelta(days=3))

    assert _tick(T0 + timedelta(days=29))["chunks"] == 0  # loop 1 is not due yet
    _tick(T0 + timedelta(days=30))
    loop1 = _outcomes(_run(campaign, 1))
    assert set(loop1) == everyone - set(returners_t) - set(returners_c)
    assert {m for m, o in loop1.items() if o == "control"} == control - set(returners_c)

    # --- quiet hours: loop 2 written at 22:00 shop time waits until 08:00 ------------------------
    late = T0 + timedelta(days=60, hours=12)  # 22:00 in Shanghai
    _tick(late)
    run2 = _run(campaign, 2)
    waiting2 = Message.objects.filter(
        purpose=f"campaign:{campaign.pk}:wave:{run2.wave_id}:loop:2", state="waiting"
    )
    assert waiting2.exists()
    morning = T0 + timedelta(days=60, hours=22)  # 08:00 the next morning in Shanghai
    assert set(waiting2.values_list("not_before", flat=True)) == {morning}

    # --- caps: someone already has a marketing SMS that day -> suppressed for the cap -------------
    capped = sorted({m for m, o in _outcomes(run2).items() if o == "contacted"})[0]
    due3 = _run(campaign, 3).due_at
    with clock.frozen(due3 - timedelta(hours=1)):
        message_enqueue(
            purpose="store-news",
            member=next(m for m in members if m.pk == capped),
            channel="sms",
            kind="marketing",
            body="【老客商城】新店开业。回T退订",
            not_before=due3 - timedelta(hours=1),
        )
    _tick(due3)
    loop3 = _outcomes(_run(campaign, 3))
    assert loop3[capped] == "suppressed"
    assert Contact.objects.get(run=_run(campaign, 3), member_id=capped).reason.startswith("frequency cap")

    # --- loop 4, then the campaign completes after the last evaluation window ------------------
    _tick(_run(campaign, 4).due_at)
    assert WaveRun.objects.filter(wave__campaign=campaign).count() == 5
    assert set(WaveRun.objects.filter(wave__campaign=campaign).values_list("state", flat=True)) == {"done"}
    campaign.refresh_from_db()
    assert campaign.ends_at == _run(campaign, 4).due_at + timedelta(days=10)
    _tick(campaign.ends_at - timedelta(minutes=1))
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.RUNNING
    _tick(campaign.ends_at)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED

    # The control got nothing, ever; every loop kept them only while they had not returned.
    assert not Message.objects.filter(
        member_id__in=control, purpose__startswith=campaign.purpose_prefix
    ).exists()
    assert not Coupon.objects.filter(member_id__in=control).exists()
    for loop in range(1, 5):
        entered = set(_outcomes(_run(campaign, loop)))
        assert not entered & (set(returners_t) | set(returners_c))

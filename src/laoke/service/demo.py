"""Demo data of the service desk: the seed presets, a handful of cases in each state (one
escalated), and the dormancy rule approved. Called by laoke/demo.py; fast (< 2 s)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model

from laoke.core.services import staff_user_create
from laoke.members.models import Member

from . import services
from .models import ReactivationRule
from .presets import service_presets_install
from .reactivation import reactivation_rule_approve

TEXTS = {
    "praise": ("宝贝很好，发货也快，给个好评！", "衣服质量不错，尺码合适。"),
    "neutral": ("还行吧，包装有点简陋。", "颜色和图片有点差别。"),
    "dissatisfied": ("奶粉罐子有凹陷，担心质量。", "童装洗了一次就起球了。"),
    "criticism": ("客服态度差，退货一周没人处理！", "收到的是旧款，和描述不符，要求上门处理。"),
}


def _user(role: str):
    found = get_user_model().objects.filter(username=f"demo_{role}").first()
    return found or staff_user_create(username=f"demo_{role}", password=secrets.token_urlsafe(16), role=role)


def demo_load(*, rng, now) -> dict:
    presets = service_presets_install()
    agent, manager = _user("service_agent"), _user("service_manager")
    _user("sales_manager")
    gm = _user("general_manager")
    ids = list(
        Member.objects.filter(status=Member.Status.ACTIVE).order_by("pk").values_list("pk", flat=True)[:500]
    )
    picked = rng.sample(ids, min(len(ids), 12))
    made = []
    for i, member_id in enumerate(picked):
        level = ("praise", "neutral", "dissatisfied", "criticism")[i % 4]
        made.append(
            services.case_file(
                member_id=member_id,
                level=level,
                text=rng.choice(TEXTS[level]),
                source=rng.choice(["phone", "h5", "staff"]),
                actor=agent,
            )
        )
    for case in made[:3]:
        services.case_contact(case_id=case.pk, outcome="reached", note="已电话沟通", actor=case.assignee)
    if made:
        services.case_resolve(case_id=made[0].pk, outcome="已致谢并赠送积分", actor=made[0].assignee)
    if len(made) > 3:
        services.case_escalate(case_id=made[3].pk, reason="会员要求领导处理", actor=manager)
    reviews = services.cases_from_reviews(now=now)
    dormant = ReactivationRule.objects.filter(name="休眠30天唤醒", approved_at__isnull=True).first()
    if dormant is not None:
        reactivation_rule_approve(rule_id=dormant.pk, actor=gm)
    return {**presets, "cases": len(made), "cases_from_reviews": reviews}

"""Demo data of staff work: three sales reps and their branch head, customers (one big), walk-in
prospects followed up over the last working days, a deal and a loss, work logs against the S0
quota, and the plan suggestions of today (staff_tick). Called by laoke/demo.py."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model

from laoke.core import clock
from laoke.core.models import Store
from laoke.core.services import staff_user_create

from . import services

CUSTOMERS = [
    ("佛山市顺德精工机械厂", "big"),
    ("东莞长安五金制品", "regular"),
    ("中山小榄包装材料厂", "regular"),
]
WALK_INS = [
    ("王建国", "家用轿车，预算 15 万", "H", True),
    ("林晓燕", "SUV，下月提车", "A", False),
    ("郑志明", "商务车两台", "B", False),
    ("高丽华", "先了解配置", "C", False),
]


def _user(username: str, role: str, store):
    found = get_user_model().objects.filter(username=username).first()
    return found or staff_user_create(
        username=username, password=secrets.token_urlsafe(16), role=role, store=store
    )


def demo_load(*, rng, now) -> dict:
    store = Store.objects.filter(kind=Store.Kind.STORE).order_by("pk").first()
    head = _user("demo_sales_manager", "sales_manager", store.parent if store else None)
    reps = [
        _user(name, "sales_rep", store) for name in ("demo_sales_rep", "demo_sales_rep_2", "demo_sales_rep_3")
    ]
    logs = prospects = 0
    for i, rep in enumerate(reps):
        accounts = [
            services.account_create(actor=head, name=f"{name}（{i + 1}）", rep_id=rep.pk, size=size)
            for name, size in CUSTOMERS
        ]
        leads = []
        for name, interest, level, key in WALK_INS:
            leads.append(
                services.prospect_register(
                    actor=rep,
                    name=f"{name}{i + 1}",
                    phone=f"139{rng.randrange(10**8):08d}",
                    interest=interest,
                    level=level,
                    key=key,
                )
            )
            prospects += 1
        # the last five days: visits and calls around the quota, follow-ups of the leads
        for back in range(5, 0, -1):
            day = clock.to_local(now) - timedelta(days=back)
            if day.isoweekday() > 5:
                continue
            for n, kind in enumerate(["new_visit"] * 2 + ["old_visit"] * 3 + ["call"] * 4):
                if rng.random() < 0.25:  # not every quota item gets done
                    continue
                subject = {}
                if kind == "old_visit":
                    subject = {"account_id": accounts[n % len(accounts)].pk}
                elif kind == "call" and n % 2 == 0:
                    subject = {"prospect_id": leads[n % len(leads)].pk}
                services.work_log_add(
                    actor=rep,
                    kind=kind,
                    at=day.replace(hour=9 + n, minute=rng.randrange(60)),
                    content="拜访洽谈" if "visit" in kind else "电话联络",
                    result="有意向" if rng.random() < 0.5 else "再联系",
                    **subject,
                )
                logs += 1
        services.prospect_close(actor=rep, prospect_id=leads[3].pk, outcome="lost", lost_reason="price")
        if i == 0:
            services.prospect_close(actor=rep, prospect_id=leads[1].pk, outcome="won", note="已签单")
    services.work_log_add(
        actor=head, kind="old_visit", account_id=accounts[0].pk, content="分公司负责人回访大客户"
    )
    tick = services.staff_tick(now)
    return {
        "sales_reps": len(reps),
        "prospects": prospects,
        "work_logs": logs + 1,
        **{f"tick_{k}": v for k, v in tick.items()},
    }

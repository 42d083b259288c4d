"""Greetings (SPEC 12, seeds 000/003): holiday and birthday messages, with a birthday gift for
members whose points reach a threshold (seed 003: 生日祝福……此项内容需对会员积分有较高的限制).

``greetings_tick(now)`` looks at the shop's day (Asia/Shanghai): a rule is due when its date minus
``days_before`` is today — a holiday on its date of that year (``dates`` per year for lunar
holidays, else ``month_day``), a birthday for the members born on that month and day (29 February
birthdays are greeted on 28 February in other years). Its messages go through the outbox with the
purpose ``greeting:{rule}:{year}``, unique per member, so a rerun — or a second tick the same day —
writes nothing twice; a gift is a coupon issued with the key ``greeting:{rule}:{year}:{member}``
in the same transaction as the message. Members are taken in chunks of ≤ 2,000, each one short
transaction. Template kinds decide consent as everywhere (a marketing greeting needs consent; the
outbox stores the others as suppressed with its reason). A phone-channel template puts the member
on the call list instead (seed 003: 电话通知会员顾客去领取礼品).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from laoke.campaigns.models import MESSAGE_CHANNELS
from laoke.channels.models import MessageTemplate, StaffTask
from laoke.channels.selectors import template_contexts
from laoke.channels.services import TaskRow, _staff_tasks_create_bulk
from laoke.channels.templating import compile_template
from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.money import fen_to_yuan
from laoke.ledger.models import Account
from laoke.members.models import Member
from laoke.messaging.models import Message
from laoke.messaging.services import MessageSpec, _messages_enqueue_bulk
from laoke.promotions.models import CouponTemplate
from laoke.promotions.services import _coupon_issue

from . import error_codes as E
from .models import GreetingPrivilege, GreetingRule

CHUNK = 2000
SEND_HOUR = 9  # greetings go out from 09:00 shop time


def holiday_date(rule: GreetingRule, year: int) -> date | None:
    raw = (rule.dates or {}).get(str(year))
    try:
        if raw:
            return date.fromisoformat(raw)
        if rule.month_day:
            month, day = (int(x) for x in rule.month_day.split("-"))
            return date(year, month, day)
    except ValueError:
        return None
    return None


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _audience(rule: GreetingRule, target: date):
    members = Member.objects.filter(status=Member.Status.ACTIVE)
    if rule.kind == GreetingRule.Kind.HOLIDAY:
        return members if holiday_date(rule, target.year) == target else None
    days = [(target.month, target.day)]
    if (target.month, target.day) == (2, 28) and not _is_leap(target.year):
        days.append((2, 29))
    from django.db.models import Q

    q = Q()
    for month, day in days:
        q |= Q(birthday__month=month, birthday__day=day)
    return members.filter(q)


def _offer_context(coupon, template: CouponTemplate) -> dict[str, str]:
    amount = template.amount_off_fen or template.unit_value_fen
    expiry = clock.to_local(coupon.valid_to - timedelta(seconds=1)).date().isoformat()
    return {"coupon_code": coupon.code, "coupon_amount": str(fen_to_yuan(amount)), "coupon_expiry": expiry}


def _chunk(
    rule: GreetingRule,
    template: MessageTemplate,
    privileges: list[GreetingPrivilege],
    ids: list[int],
    *,
    purpose: str,
    send_at: datetime,
    now: datetime,
) -> dict[str, int]:
    counts = {"messages": 0, "tasks": 0, "gifts": 0}
    done = Message if template.channel in MESSAGE_CHANNELS else StaffTask
    # a rerun (or a second tick the same day) skips those already greeted before any work
    already = set(done.objects.filter(purpose=purpose, member_id__in=ids).values_list("member_id", flat=True))
    ids = [i for i in ids if i not in already]
    if not ids:
        return counts
    gifts: dict[int, Any] = {}
    if privileges:
        points = dict(
            Account.objects.filter(member_id__in=ids, kind=Account.Kind.POINTS).values_list(
                "member_id", "balance"
            )
        )
        members = {m.pk: m for m in Member.objects.filter(pk__in=[i for i in ids if points.get(i, 0) > 0])}
        for member_id in ids:
            step = next((p for p in privileges if points.get(member_id, 0) >= p.min_points), None)
            if step is None or member_id not in members:
                continue
            try:
                with transaction.atomic():
                    coupon = _coupon_issue(
                        template=step.coupon_template,
                        member=members[member_id],
                        channel=f"GREET{rule.pk}",
                        key=f"{purpose}:{member_id}",
                        now=now,
                    )
            except (DomainError, IntegrityError):
                continue  # out of stock / limit reached: the greeting still goes, without the gift
            gifts[member_id] = _offer_context(coupon, step.coupon_template)
            counts["gifts"] += 1
    compiled = compile_template(template)
    contexts = template_contexts(ids, now=now, channel=template.channel)
    if template.channel in MESSAGE_CHANNELS:
        specs = []
        for member_id in ids:
            if member_id not in contexts:
                continue
            rendered = compiled.render({**contexts[member_id], **gifts.get(member_id, {})})
            specs.append(
                MessageSpec(
                    member_id=member_id,
                    body=rendered.body,
                    subject=rendered.subject,
                    html_body=rendered.html_body,
                )
            )
        written = _messages_enqueue_bulk(
            purpose=purpose,
            channel=template.channel,
            kind=template.kind,
            specs=specs,
            not_before=send_at,
            job_id=purpose[:64],
        )
        counts["messages"] = written["waiting"] + written["suppressed"]
    else:
        rows = [
            TaskRow(
                purpose=purpose,
                member_id=member_id,
                kind=template.channel,
                body=compiled.render({**contexts[member_id], **gifts.get(member_id, {})}).body,
                due_at=send_at,
                channel_code=f"GREET{rule.pk}",
                job_id=purpose[:64],
            )
            for member_id in ids
            if member_id in contexts
        ]
        counts["tasks"] = _staff_tasks_create_bulk(rows)
    return counts


def _rule_run(rule: GreetingRule, today: date, now: datetime, chunk: int) -> dict[str, int] | None:
    target = today + timedelta(days=rule.days_before)
    audience = _audience(rule, target)
    if audience is None:
        return None
    purpose = f"greeting:{rule.pk}:{target.year}"
    template = MessageTemplate.objects.get(pk=rule.template_id)
    privileges = list(rule.privileges.select_related("coupon_template").order_by("-min_points"))
    local_send = datetime.combine(today, time(SEND_HOUR), tzinfo=clock.shop_tz())
    send_at = max(now, local_send.astimezone(now.tzinfo))
    total = {"members": 0, "messages": 0, "tasks": 0, "gifts": 0}
    last = 0
    while True:
        ids = list(audience.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk])
        if not ids:
            break
        last = ids[-1]
        with transaction.atomic(durable=True):
            counts = _chunk(rule, template, privileges, ids, purpose=purpose, send_at=send_at, now=now)
            audit_write(
                action="service.greeting.send",
                obj=rule,
                after={"purpose": purpose, "members": len(ids), **counts},
            )
        total["members"] += len(ids)
        for k, v in counts.items():
            total[k] += v
    return total


def greetings_tick(now: datetime, *, chunk: int = CHUNK) -> dict[str, dict[str, int]]:
    """Send the greetings due today; returns per rule name what was written."""
    today = clock.to_local(now).date()
    out: dict[str, dict[str, int]] = {}
    for rule in GreetingRule.objects.filter(is_active=True).order_by("pk"):
        done = _rule_run(rule, today, now, max(1, min(chunk, CHUNK)))
        if done is not None:
            out[rule.name] = done
    return out


def _clean_dates(dates: Any) -> dict[str, str]:
    if dates in (None, ""):
        return {}
    if not isinstance(dates, dict) or len(dates) > 50:
        raise DomainError(E.RULE_INVALID, field="dates", why="a map of year to YYYY-MM-DD")
    out = {}
    for year, value in dates.items():
        try:
            d = date.fromisoformat(str(value))
        except ValueError:
            raise DomainError(E.RULE_INVALID, field="dates", why=f"{value!r} is not a date") from None
        if str(d.year) != str(year):
            raise DomainError(E.RULE_INVALID, field="dates", why=f"{value} is not in {year}")
        out[str(year)] = d.isoformat()
    return out


def greeting_rule_save(
    *,
    name: str,
    kind: str,
    template_id: int,
    month_day: str = "",
    dates: Any = None,
    days_before: int = 0,
    is_active: bool = True,
    privileges: list[dict] | None = None,
    rule_id: int | None = None,
    actor=None,
) -> GreetingRule:
    """Create or change a greeting rule; ``privileges`` (when given) replace the rule's gift steps:
    ``[{"name", "min_points", "coupon_template_id"}]``."""
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise DomainError(E.RULE_INVALID, field="name", why="a name of 1-60 characters")
    if kind not in GreetingRule.Kind.values:
        raise DomainError(E.RULE_INVALID, field="kind", why="holiday or birthday")
    clean_dates = _clean_dates(dates)
    month_day = (month_day or "").strip()
    if month_day:
        try:
            date.fromisoformat(f"2000-{month_day}")
        except ValueError:
            raise DomainError(E.RULE_INVALID, field="month_day", why="MM-DD") from None
    if kind == GreetingRule.Kind.HOLIDAY and not (month_day or clean_dates):
        raise DomainError(E.RULE_INVALID, field="dates", why="a holiday needs its date")
    if not isinstance(days_before, int) or not 0 <= days_before <= 30:
        raise DomainError(E.RULE_INVALID, field="days_before", why="0-30 days")
    now = clock.now()
    with transaction.atomic(durable=True):
        template = MessageTemplate.objects.filter(pk=template_id, is_active=True).first()
        if template is None:
            raise DomainError(NOT_FOUND, field="template_id")
        if rule_id is None:
            if GreetingRule.objects.filter(name=name).exists():
                raise DomainError(E.NAME_TAKEN, field="name", name=name)
            rule = GreetingRule(updated_at=now)
        else:
            rule = GreetingRule.objects.select_for_update().filter(pk=rule_id).first()
            if rule is None:
                raise DomainError(NOT_FOUND, field="rule_id")
        rule.name, rule.kind, rule.template = name, kind, template
        rule.month_day, rule.dates, rule.days_before = month_day, clean_dates, days_before
        rule.is_active, rule.updated_at = bool(is_active), now
        rule.save()
        if privileges is not None:
            rule.privileges.all().delete()
            for i, p in enumerate(privileges):
                tpl = CouponTemplate.objects.filter(pk=p.get("coupon_template_id"), is_active=True).first()
                points = p.get("min_points")
                if tpl is None or not isinstance(points, int) or points < 0:
                    raise DomainError(
                        E.RULE_INVALID, field=f"privileges[{i}]", why="an active coupon and points ≥ 0"
                    )
                GreetingPrivilege.objects.create(
                    rule=rule,
                    name=str(p.get("name") or tpl.name)[:60],
                    min_points=points,
                    coupon_template=tpl,
                )
        audit_write(
            action="service.greeting.save",
            obj=rule,
            after={
                "name": name,
                "kind": kind,
                "template": template.pk,
                "dates": clean_dates,
                "month_day": month_day,
            },
            actor=actor,
        )
    return rule

"""Reads of the channels app: template contexts (one member or many in a constant number of
queries), templates and staff-task work lists."""

from __future__ import annotations

from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.module_loading import import_string

from laoke.core import clock
from laoke.ledger.models import Account
from laoke.members.models import Member
from laoke.members.selectors import member_visible_queryset
from laoke.tiers.models import Audience, MemberTier, RuleKind, TierLevel

from .models import MessageTemplate, StaffTask
from .unsubscribe import unsubscribe_url_maker


def shop_link() -> str:
    return settings.LAOKE.get("SHOP_URL") or settings.LAOKE_PUBLIC_URL


def _entry_level() -> TierLevel | None:
    # Same rule as tiers.selectors.current_level: the active individual programme's open level.
    return (
        TierLevel.objects.filter(
            programme__audience=Audience.INDIVIDUAL, programme__is_active=True, threshold=0
        )
        .exclude(rule_kind=RuleKind.MANUAL)
        .order_by("rank")
        .first()
    )


def template_contexts(
    member_ids, *, now: datetime | None = None, channel: str = "sms", extra: dict | None = None
) -> dict[int, dict]:
    """The variables of many members at once (a campaign chunk): four queries whatever the
    number of members — members, tier rows (own and group), the entry level, balances — plus
    those of the apps that provide variables (``_app_variables``; the care content: two).

    - ``tier``: the level that prices the member (the better of its own and its group's, or the
      open entry level without a row), as ``tiers.selectors.current_level`` decides;
    - ``balance``: the stored-value wallet in yuan ("12.30"), ``points``: the points account
      balance (the ledger's figure; lots past their expiry are swept by the points tick);
    - ``unsubscribe_link``: a signed link withdrawing consent on ``channel``;
    - ``extra`` (the campaign's coupon, canonical name, shop link with channel code) is merged
      over every member's values.
    Members that do not exist are left out.
    """
    now = now or clock.now()
    ids = sorted({int(i) for i in member_ids})
    if not ids:
        return {}
    members = list(Member.objects.filter(pk__in=ids).values_list("id", "code", "name", "group_account_id"))
    groups = {m[3] for m in members if m[3]}
    tiers = (
        MemberTier.objects.filter(Q(member_id__in=ids) | Q(group_account_id__in=groups))
        .filter(level__isnull=False, level__programme__is_active=True)
        .select_related("level")
    )
    own: dict[int, TierLevel] = {}
    of_group: dict[int, TierLevel] = {}
    for row in tiers:
        if row.member_id is not None:
            own[row.member_id] = row.level
        else:
            of_group[row.group_account_id] = row.level
    entry = _entry_level() if len(own) < len(members) else None
    balances: dict[tuple[int, str], int] = {
        (m, k): b
        for m, k, b in Account.objects.filter(
            member_id__in=ids, kind__in=[Account.Kind.WALLET, Account.Kind.POINTS]
        ).values_list("member_id", "kind", "balance")
    }
    provided = _app_variables(ids, now)
    base = {"shop_link": shop_link(), **(extra or {})}
    unsubscribe_url = unsubscribe_url_maker()
    out: dict[int, dict] = {}
    wallet, points = Account.Kind.WALLET.value, Account.Kind.POINTS.value
    for pk, code, name, group_id in members:
        levels = [lv for lv in (of_group.get(group_id), own.get(pk)) if lv is not None]
        if pk not in own and entry is not None:
            levels.append(entry)
        level = min(levels, key=lambda lv: lv.price_rate_bp) if levels else None
        fen = balances.get((pk, wallet), 0)
        ctx = {
            "name": name,
            "member_code": code,
            "tier": level.name if level else "",
            "balance": f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}",
            "points": balances.get((pk, points), 0),
            "unsubscribe_link": unsubscribe_url(pk, channel),
        }
        ctx.update(provided.get(pk, ()))
        ctx.update(base)
        out[pk] = ctx
    return out


def _app_variables(ids: list[int], now: datetime) -> dict[int, dict]:
    """Variables apps above channels provide (e.g. the service desk's care content): each app
    may name ``AppConfig.template_variables = "dotted.path"``, a callable ``(member_ids, now) ->
    {member_id: {variable: value}}`` over variables declared in ``templating.VARIABLES``."""
    out: dict[int, dict] = {}
    for cfg in apps.get_app_configs():
        path = getattr(cfg, "template_variables", None)
        if path:
            for pk, values in import_string(path)(ids, now).items():
                out.setdefault(pk, {}).update(values)
    return out


def template_context(
    member: Member, *, now: datetime | None = None, extra: dict | None = None, channel: str = "sms"
) -> dict:
    """One member's variables (the bulk loader for one id, so both always agree)."""
    return template_contexts([member.pk], now=now, channel=channel, extra=extra).get(member.pk, {})


SAMPLE_CONTEXT = {
    "name": "王小明",
    "member_code": "M000001",
    "tier": "金卡会员",
    "balance": "128.50",
    "points": 2300,
    "coupon_code": "DEMO8K2Q",
    "coupon_amount": "20.00",
    "coupon_expiry": "2026-12-31",
    "unsubscribe_link": "https://example.com/u/unsubscribe/…/",
    "campaign": "双11老客回馈",
    "care_title": "奶粉每天喝几次？",
    "care_body": "0–6 个月宝宝每天 6–8 次，每次间隔约 3 小时……",
}


def sample_context() -> dict:
    return {**SAMPLE_CONTEXT, "shop_link": shop_link()}


def template_list(*, channel: str | None = None, active: bool | None = None) -> QuerySet[MessageTemplate]:
    qs = MessageTemplate.objects.all()
    if channel:
        qs = qs.filter(channel=channel)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


def can_see_all_tasks(user) -> bool:
    return bool(user and user.has_perm("channels.assign_stafftask"))


def task_list(
    user, *, mine: bool = False, state: str | None = None, kind: str | None = None, purpose_prefix: str = ""
) -> QuerySet[StaffTask]:
    """Tasks this user may see: a manager (assign permission) sees all; an agent sees the ones
    assigned to them and the unassigned ones (to pick up). ``mine`` narrows to their own."""
    qs = StaffTask.objects.select_related("member", "assignee").filter(
        member__in=member_visible_queryset(user, include_inactive=True)
    )
    if mine:
        qs = qs.filter(assignee=user)
    elif not can_see_all_tasks(user):
        qs = qs.filter(Q(assignee=user) | Q(assignee__isnull=True))
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if purpose_prefix:
        qs = qs.filter(purpose__startswith=purpose_prefix)
    return qs

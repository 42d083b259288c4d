"""Reads of the member pages: everything is filtered by the session's member, never by an id
the caller chose (a path id that belongs to someone else is simply not found)."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from django.db.models import Q

from laoke.core import clock
from laoke.core.errors import INVALID_CURSOR, DomainError
from laoke.ledger.models import Account, Transfer
from laoke.members.models import Agreement, AgreementAcceptance, Member
from laoke.orders.models import Order
from laoke.points.models import GiftRedemption
from laoke.points.selectors import points_balance
from laoke.promotions.models import Coupon
from laoke.tiers.models import TierLevel
from laoke.tiers.rules import figures_for, rule_for
from laoke.tiers.selectors import current_level


def balances(member: Member) -> dict[str, int]:
    rows = dict(
        Account.objects.filter(
            member=member, kind__in=[Account.Kind.WALLET, Account.Kind.WALLET_BONUS, Account.Kind.POINTS]
        ).values_list("kind", "balance")
    )
    return {
        "paid_fen": rows.get(Account.Kind.WALLET, 0),
        "bonus_fen": rows.get(Account.Kind.WALLET_BONUS, 0),
        "points": rows.get(Account.Kind.POINTS, 0),
    }


def tier_progress(member: Member) -> dict | None:
    """The member's level and how far the next automatic level of the same programme is."""
    level = current_level(member=member)
    if level is None:
        return None
    out = {"code": level.code, "name": level.name, "rank": level.rank, "next": None}
    nxt = (
        TierLevel.objects.filter(programme_id=level.programme_id, rank__gt=level.rank)
        .exclude(rule_kind="manual")
        .order_by("rank")
        .first()
    )
    if nxt is not None:
        figures = figures_for(programme=nxt.programme, member=member, today=clock.today(), levels=[nxt])
        value = rule_for(nxt).figure(figures) or 0
        out["next"] = {
            "code": nxt.code,
            "name": nxt.name,
            "rule": nxt.rule_kind,
            "threshold": nxt.threshold,
            "value": value,
            "missing": max(nxt.threshold - value, 0),
            "percent": min(100, value * 100 // nxt.threshold) if nxt.threshold else 100,
        }
    return out


def summary(member: Member) -> dict:
    b = balances(member)
    pb = points_balance(member=member)
    now = clock.now()
    coupons = (
        Coupon.objects.filter(member=member, state="issued")
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=now))
        .count()
    )
    return {
        "id": member.pk,
        "code": member.code,
        "name": member.name,
        "mobile": member.mobile,
        "wallet": {
            "paid_fen": b["paid_fen"],
            "bonus_fen": b["bonus_fen"],
            "total_fen": b["paid_fen"] + b["bonus_fen"],
        },
        "points": {
            "balance": pb.balance,
            "available": pb.available,
            "expiring": pb.expiring,
            "first_expiry": pb.first_expiry,
        },
        "tier": tier_progress(member),
        "coupons": coupons,
    }


def agreement_state(member: Member | None) -> dict:
    latest = Agreement.objects.filter(published_at__isnull=False).order_by("-published_at", "-id").first()
    if latest is None:
        return {"version": None, "title": "", "body": "", "accepted": None}
    accepted = None
    if member is not None:
        accepted = AgreementAcceptance.objects.filter(member=member, agreement=latest).exists()
    return {
        "version": latest.version,
        "title": latest.title,
        "body": latest.body,
        "published_at": latest.published_at,
        "accepted": accepted,
    }


# --- activity history: orders, points and wallet moves, gift redemptions ------------------------

KINDS = ("order", "transfer", "redemption")


def _encode(at: datetime, kind: str, pk: int) -> str:
    raw = json.dumps({"at": at.isoformat(), "k": KINDS.index(kind), "id": pk})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        at = datetime.fromisoformat(data["at"])
        k, pk = int(data["k"]), int(data["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DomainError(INVALID_CURSOR, field="cursor") from exc
    if at.tzinfo is None or not 0 <= k < len(KINDS):
        raise DomainError(INVALID_CURSOR, field="cursor")
    return at, k, pk


def _before(field: str, kind: str, cursor) -> Q:
    """Rows strictly after the cursor in the order (at desc, kind desc, id desc)."""
    if cursor is None:
        return Q()
    at, k, pk = cursor
    mine = KINDS.index(kind)
    q = Q(**{f"{field}__lt": at})
    if mine < k:
        q |= Q(**{field: at})
    elif mine == k:
        q |= Q(**{field: at, "pk__lt": pk})
    return q


def history(member: Member, *, cursor: str | None = None, limit: int = 20) -> tuple[list[dict], str | None]:
    limit = min(max(limit or 20, 1), 100)
    cur = _decode(cursor) if cursor else None
    accounts = {pk: kind for pk, kind in Account.objects.filter(member=member).values_list("pk", "kind")}
    items: list[dict] = []
    orders = (
        Order.objects.filter(member=member)
        .filter(_before("created_at", "order", cur))
        .order_by("-created_at", "-pk")
        .values("pk", "number", "status", "total_fen", "created_at")[: limit + 1]
    )
    for o in orders:
        items.append(
            {
                "kind": "order",
                "id": o["pk"],
                "at": o["created_at"],
                "title": o["number"],
                "status": o["status"],
                "amount": -o["total_fen"],
                "unit": "fen",
            }
        )
    if accounts:
        ids = list(accounts)
        transfers = (
            Transfer.objects.filter(Q(debit_id__in=ids) | Q(credit_id__in=ids))
            .filter(_before("created_at", "transfer", cur))
            .order_by("-created_at", "-pk")
            .values("pk", "debit_id", "credit_id", "amount", "reason", "reference", "created_at")[: limit + 1]
        )
        for t in transfers:
            mine = t["credit_id"] if t["credit_id"] in accounts else t["debit_id"]
            kind = accounts[mine]
            sign = 1 if t["credit_id"] in accounts else -1
            items.append(
                {
                    "kind": "points" if kind == Account.Kind.POINTS else "wallet",
                    "id": t["pk"],
                    "at": t["created_at"],
                    "title": t["reason"],
                    "status": kind,
                    "amount": sign * t["amount"],
                    "unit": "points" if kind == Account.Kind.POINTS else "fen",
                    "_k": "transfer",
                }
            )
    redemptions = (
        GiftRedemption.objects.filter(member=member)
        .filter(_before("redeemed_at", "redemption", cur))
        .order_by("-redeemed_at", "-pk")
        .values("pk", "gift__name", "points", "status", "redeemed_at")[: limit + 1]
    )
    for r in redemptions:
        items.append(
            {
                "kind": "redemption",
                "id": r["pk"],
                "at": r["redeemed_at"],
                "title": r["gift__name"],
                "status": r["status"],
                "amount": -r["points"],
                "unit": "points",
            }
        )
    for it in items:
        it.setdefault("_k", it["kind"])
    items.sort(key=lambda it: (it["at"], KINDS.index(it["_k"]), it["id"]), reverse=True)
    page = items[:limit]
    nxt = None
    if len(items) > limit:
        last = page[-1]
        nxt = _encode(last["at"], last["_k"], last["id"])
    for it in page:
        it.pop("_k", None)
    return page, nxt

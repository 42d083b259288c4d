"""The value part of member 360: tier and its history, points (balance, open lots, movements) and
the stored-value wallet (balance, movements) — each shown only to roles that may read it, each
read through its app's selectors. Amounts stay integers (fen, points); the template formats."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from laoke.cards.selectors import wallet_history, wallet_summary
from laoke.catalog.models import Category
from laoke.core import clock
from laoke.core.money import format_yuan, rate_label
from laoke.members.models import Member
from laoke.orders.selectors import member_orders
from laoke.points.selectors import member_lots, points_balance, points_history, signed_amount
from laoke.stats.selectors import member_profile
from laoke.tiers.selectors import current_level, tier_history, tier_of

HISTORY_ROWS = 20
REASONS = {
    "points.earn": _("points earned on an order"),
    "points.spend": _("points paid with"),
    "points.redeem": _("gift redeemed"),
    "points.redeem.cancel": _("gift redemption cancelled"),
    "points.expire": _("points expired"),
    "points.refund.reverse": _("refund: earned points taken back"),
    "points.refund.return": _("refund: spent points given back"),
    "points.adjust": _("manual adjustment"),
    "points.migrate": _("old programme converted"),
    "points.signin": _("daily sign-in"),
    "card_recharge": _("prepaid card recharged"),
    "order.payment": _("order paid from the wallet"),
    "wallet_close_refund": _("wallet closed: balance refunded"),
    "wallet_close_forfeit": _("wallet closed: balance forfeited"),
}


def _reason(code: str):
    return REASONS.get(code, code)


def _local(dt):
    return clock.to_local(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def _movements(transfers, owner_account_id: int) -> list[dict]:
    rows = []
    for t in transfers[:HISTORY_ROWS]:
        incoming = t.credit_id == owner_account_id
        rows.append(
            {
                "at": _local(t.created_at),
                "amount": t.amount if incoming else -t.amount,
                "display": ("+" if incoming else "") + format_yuan(t.amount if incoming else -t.amount),
                "reason": _reason(t.reason),
                "reference": t.reference,
                "reversal": t.reverses_id is not None,
            }
        )
    return rows


def member_value(user, member: Member) -> dict:
    out: dict = {}
    if user.has_perm("tiers.view_membertier"):
        row = tier_of(member=member)
        level = current_level(member=member)
        out["tier"] = {
            "level": level.name if level else "",
            "programme": row.level.programme.name if row else "",
            "since": _local(row.since) if row else "",
            "price_rate_bp": level.price_rate_bp if level else None,
            "price_rate": rate_label(level.price_rate_bp) if level else "",
            "points_multiplier_bp": level.points_multiplier_bp if level else None,
            "history": [
                {
                    "at": _local(h.at),
                    "from": h.from_level.name if h.from_level else "",
                    "to": h.to_level.name if h.to_level else "",
                    "reason": h.reason,
                }
                for h in tier_history(member)[:HISTORY_ROWS]
            ],
        }
    if user.has_perm("points.view_pointslot"):
        bal = points_balance(member=member)
        history = points_history(member=member).order_by("-created_at", "-id")[:HISTORY_ROWS]
        out["points"] = {
            "balance": bal.balance,
            "available": bal.available,
            "expiring": bal.expiring,
            "first_expiry": _local(bal.first_expiry),
            "lots": [
                {
                    "earned_at": _local(lot.earned_at),
                    "kind": lot.get_kind_display(),
                    "amount": lot.amount,
                    "remaining": lot.remaining,
                    "expires_at": _local(lot.expires_at),
                }
                for lot in member_lots(member=member, open_only=True)[:HISTORY_ROWS]
            ],
            "history": [
                {
                    "at": _local(t.created_at),
                    "amount": signed_amount(t, member.pk),
                    "reason": _reason(t.reason),
                    "reference": t.reference,
                }
                for t in history
            ],
        }
    if user.has_perm("cards.view_wallet"):
        summary = wallet_summary(member=member)
        account = summary["account"]
        out["wallet"] = {
            "balance_fen": summary["balance_fen"],
            "balance": format_yuan(summary["balance_fen"]),
            "closed": summary["closed"],
            "history": _movements(wallet_history(account), account.pk) if account else [],
        }
    if user.has_perm("orders.view_order"):
        p = member_profile(member, today=clock.today(), top=5)
        names = dict(
            Category.objects.filter(pk__in=[c for c, _s, _q in p.categories]).values_list("pk", "name")
        )
        out["orders"] = {
            "count": p.order_count,
            "spend": format_yuan(p.spend_total_fen),
            "average": format_yuan(p.average_basket_fen),
            "last_12_months": format_yuan(p.last_12_months_spend_fen),
            "discount_share": f"{p.discount_share_bp / 100:.1f}%",
            "first": _local(p.first_order_at),
            "last": _local(p.last_order_at),
            "categories": [
                {"name": names.get(c, c), "spend": format_yuan(spend), "units": units}
                for c, spend, units in p.categories
            ],
            "recent": [
                {
                    "id": o.pk,
                    "number": o.number,
                    "at": _local(o.paid_at),
                    "status": o.get_status_display(),
                    "total": format_yuan(o.total_fen),
                }
                for o in member_orders(member, limit=HISTORY_ROWS)
            ],
        }
    return out

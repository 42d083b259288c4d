"""Draw games (抽奖, seed 002): the supermarket's free pre-purchase lottery and the 人人有奖 receipt
draw.

A game has prize tiers with SET probabilities in basis points; their sum is at most 10,000 and the
rest is "no prize" (购物愉快，下次再来！). A receipt draw (人人有奖) must add up to exactly 10,000. One
draw takes a uniform number in [0, 10000) from the RNG — ``secrets.SystemRandom`` in production,
an injected ``random.Random(seed)`` in tests — and walks the tiers in order. A tier whose stock is
gone yields "no prize" (the other tiers keep their probabilities). The stock is taken by a guarded
``UPDATE … SET awarded = awarded + 1 WHERE awarded < stock`` (and a CHECK in the database), so no
concurrency awards more than the stock. The per-member limits (per day, per game) are numbered
draws under unique constraints, counted under the member's row lock. A coupon prize is issued
through the promotions coupon helper inside the same transaction, keyed by the entry
(``draw:{entry}``), so it is issued exactly once.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from laoke.catalog.models import GiftItem
from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.members.locks import locked_members
from laoke.promotions.models import CouponTemplate
from laoke.promotions.services import _coupon_issue

from . import error_codes as E
from .models import DrawEntry, DrawGame, DrawKind, DrawPrize

FULL = 10_000
# Test-only hook for the race test's negative control: take the stock by read-check-write.
_UNGUARDED_STOCK = False

GAME_FIELDS = {
    "code",
    "name",
    "kind",
    "starts_at",
    "ends_at",
    "daily_limit",
    "entry_limit",
    "min_receipt_fen",
    "no_prize_label",
    "prizes",
}
PRIZE_FIELDS = {"name", "probability_bp", "stock", "coupon_template_id", "gift_item_id"}


def _bad(field: str) -> DomainError:
    return DomainError(E.DRAW_GAME_INVALID, field=field)


def _int(value: Any, field: str, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high and value > high):
        raise _bad(field)
    return value


def _clean_prizes(raw: Any) -> list[dict]:
    if not isinstance(raw, list) or not raw or len(raw) > 20:
        raise _bad("prizes")
    out = []
    for i, p in enumerate(raw):
        if not isinstance(p, dict) or set(p) - PRIZE_FIELDS:
            raise _bad(f"prizes.{i}")
        name = p.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise _bad(f"prizes.{i}.name")
        tpl = item = None
        if p.get("coupon_template_id") is not None:
            tpl = CouponTemplate.objects.filter(pk=p["coupon_template_id"], is_active=True).first()
            if tpl is None:
                raise _bad(f"prizes.{i}.coupon_template_id")
        if p.get("gift_item_id") is not None:
            item = GiftItem.objects.filter(pk=p["gift_item_id"], is_active=True).first()
            if item is None or tpl is not None:
                raise _bad(f"prizes.{i}.gift_item_id")
        out.append(
            {
                "name": name.strip(),
                "probability_bp": _int(
                    p.get("probability_bp"), f"prizes.{i}.probability_bp", low=1, high=FULL
                ),
                "stock": _int(p.get("stock"), f"prizes.{i}.stock", low=0, high=10**8),
                "coupon_template": tpl,
                "gift_item": item,
            }
        )
    return out


def draw_game_create(*, data: dict, actor=None, idem: idempotency.Claim | None = None) -> DrawGame:
    """A draw game with its prize tiers (``prizes``: name, probability_bp, stock and optionally a
    coupon template or a gift item)."""
    unknown = set(data) - GAME_FIELDS
    if unknown:
        raise _bad(sorted(unknown)[0])
    code, name = data.get("code"), data.get("name")
    if not isinstance(code, str) or not code.strip() or len(code) > 40:
        raise _bad("code")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise _bad("name")
    kind = data.get("kind", DrawKind.PRE_PURCHASE)
    if kind not in DrawKind.values:
        raise _bad("kind")
    starts, ends = data.get("starts_at"), data.get("ends_at")
    if not isinstance(starts, datetime) or starts.tzinfo is None:
        raise _bad("starts_at")
    if not isinstance(ends, datetime) or ends.tzinfo is None or ends <= starts:
        raise _bad("ends_at")
    prizes = _clean_prizes(data.get("prizes"))
    total = sum(p["probability_bp"] for p in prizes)
    if total > FULL or (kind == DrawKind.RECEIPT and total != FULL):
        raise DomainError(E.DRAW_PROBABILITY_SUM, field="prizes", total=total)
    entry_limit = data.get("entry_limit")
    if entry_limit is not None:
        _int(entry_limit, "entry_limit", low=1, high=10_000)
    label = data.get("no_prize_label") or "购物愉快，下次再来！"
    if not isinstance(label, str) or len(label) > 100:
        raise _bad("no_prize_label")
    with transaction.atomic(durable=True):
        if DrawGame.objects.filter(code=code.strip()).exists():
            raise _bad("code")
        game = DrawGame.objects.create(
            code=code.strip(),
            name=name.strip(),
            kind=kind,
            starts_at=starts,
            ends_at=ends,
            daily_limit=_int(data.get("daily_limit", 1), "daily_limit", low=1, high=1000),
            entry_limit=entry_limit,
            min_receipt_fen=_int(data.get("min_receipt_fen", 0), "min_receipt_fen", low=0, high=10**10),
            no_prize_label=label,
            created_at=clock.now(),
        )
        DrawPrize.objects.bulk_create([DrawPrize(game=game, **p) for p in prizes])
        audit_write(
            action="draw_game.create",
            obj=game,
            after={"kind": kind, "prizes": [(p["name"], p["probability_bp"], p["stock"]) for p in prizes]},
            actor=actor,
        )
        idempotency.complete(idem, game)
    return game


def pick(prizes: list[DrawPrize], roll: int) -> DrawPrize | None:
    """The tier ``roll`` (0 ≤ roll < 10000) falls in, walking the tiers in order; None = no prize."""
    edge = 0
    for prize in prizes:
        edge += prize.probability_bp
        if roll < edge:
            return prize
    return None


def _take_stock(prize: DrawPrize) -> bool:
    if _UNGUARDED_STOCK:  # negative control only: a lost-update read-check-write
        current = DrawPrize.objects.get(pk=prize.pk)
        if current.awarded >= current.stock:
            return False
        DrawPrize.objects.filter(pk=prize.pk).update(awarded=current.awarded + 1)
        return True
    return bool(
        DrawPrize.objects.filter(pk=prize.pk, awarded__lt=F("stock")).update(awarded=F("awarded") + 1)
    )


def draw(
    *,
    game_id: int,
    member_id: int,
    receipt_ref: str = "",
    receipt_fen: int = 0,
    actor=None,
    rng=None,
    idem: idempotency.Claim | None = None,
) -> DrawEntry:
    """One draw by ``member_id``. Returns the entry (``prize`` None means no prize)."""
    rng = rng or secrets.SystemRandom()
    game = DrawGame.objects.filter(pk=game_id).first()
    if game is None:
        raise DomainError(NOT_FOUND)
    now = clock.now()
    if not game.is_active or not game.starts_at <= now < game.ends_at:
        raise DomainError(E.DRAW_NOT_OPEN)
    receipt_ref = (receipt_ref or "").strip()
    if game.kind == DrawKind.RECEIPT:
        if not receipt_ref or len(receipt_ref) > 64:
            raise DomainError(E.DRAW_GAME_INVALID, field="receipt_ref")
        if (
            isinstance(receipt_fen, bool)
            or not isinstance(receipt_fen, int)
            or receipt_fen < game.min_receipt_fen
        ):
            raise DomainError(E.DRAW_RECEIPT_BELOW, field="receipt_fen", threshold=game.min_receipt_fen / 100)
    day = clock.to_local(now).date()
    try:
        with transaction.atomic(durable=True):
            member = locked_members().filter(pk=member_id).first()
            if member is None:
                raise DomainError(NOT_FOUND)
            if receipt_ref and DrawEntry.objects.filter(game=game, receipt_ref=receipt_ref).exists():
                raise DomainError(E.DRAW_RECEIPT_USED, field="receipt_ref")
            mine = DrawEntry.objects.filter(game=game, member=member)
            today_n = mine.filter(day=day).count()
            if today_n >= game.daily_limit:
                raise DomainError(E.DRAW_DAILY_LIMIT, limit=game.daily_limit)
            total_n = mine.count()
            if game.entry_limit is not None and total_n >= game.entry_limit:
                raise DomainError(E.DRAW_ENTRY_LIMIT, limit=game.entry_limit)
            prizes = list(game.prizes.order_by("pk"))
            prize = pick(prizes, rng.randrange(FULL))
            if prize is not None and not _take_stock(prize):
                prize = None  # sold out: no prize
            entry = DrawEntry.objects.create(
                game=game,
                member=member,
                day=day,
                day_seq=today_n + 1,
                seq=total_n + 1,
                prize=prize,
                receipt_ref=receipt_ref,
                drawn_at=now,
                drawn_by=actor if getattr(actor, "pk", None) else None,
            )
            if prize is not None and prize.coupon_template_id:
                entry.coupon = _coupon_issue(
                    template=prize.coupon_template,
                    member=member,
                    channel="draw",
                    key=f"draw:{entry.pk}",
                    now=now,
                )
                entry.save(update_fields=["coupon"])
            audit_write(
                action="draw.entry",
                obj=entry,
                after={"game": game.pk, "member": member.pk, "prize": getattr(prize, "pk", None)},
                actor=actor,
            )
            idempotency.complete(idem, entry)
    except IntegrityError as exc:  # a concurrent draw took the same number (or the same receipt)
        raise DomainError(E.DRAW_BUSY) from exc
    return entry

"""The gift catalogue per store (levels 80 … 8,000 points, 1–10 gifts per level and store, seed
002) and redemption.

A redemption is one transaction: the gift leaves the store's stock through
``catalog._gift_stock_adjust`` (a guarded UPDATE), then the member's points account is locked and
the points are taken oldest-first. If the stock is gone, or the points are not enough, the whole
transaction rolls back, so a member who loses the race for the last gift keeps every point. Redemptions happen on the programme's window days (1–4
of each month, shop time) unless the clerk holds ``points.redeem_outside_window``.

Permanent member (永久会员, seed 002): redeeming the gift of the programme's permanent level
(8,000) — which needs 8,000 points — makes the member permanent. The redemption row records it
(``made_permanent``, unique per member); the member flag is set by ``members.member_mark_permanent``
right after the commit (members offers no in-transaction helper yet), and ``points_tick`` repairs
a flag a crash left unset.
"""

from __future__ import annotations

from django.db import transaction

from laoke.catalog.models import GiftItem
from laoke.catalog.services import _gift_stock_adjust
from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.models import Store
from laoke.members.models import Member

from . import lots
from .earning import _check_key, _check_member
from .error_codes import (
    POINTS_KEY_REUSED,
    POINTS_LEVEL_FULL,
    POINTS_OFFER_UNAVAILABLE,
    POINTS_REDEMPTION_CANCELLED,
    POINTS_SETTING_INVALID,
    POINTS_WINDOW_CLOSED,
)
from .models import GiftLevel, GiftOffer, GiftRedemption, PointsLot, PointsProgramme
from .programme import active_programme, expiry_for

MAX_GIFTS_PER_LEVEL = 10


def gift_level_create(*, points: int, name: str, value_fen: int | None = None, actor=None) -> GiftLevel:
    if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= 10**9:
        raise DomainError(POINTS_SETTING_INVALID, field="points")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise DomainError(POINTS_SETTING_INVALID, field="name")
    with transaction.atomic(durable=True):
        programme = active_programme()
        level, created = GiftLevel.objects.get_or_create(
            programme=programme, points=points, defaults={"name": name.strip(), "value_fen": value_fen}
        )
        if created:
            audit_write(
                action="points.gift_level.create",
                obj=level,
                after={"points": points, "name": name},
                actor=actor,
            )
    return level


def gift_offer_add(*, store: Store, level: GiftLevel, gift: GiftItem, actor=None) -> GiftOffer:
    """Put a gift on a store's catalogue at a level (at most 10 active gifts per level)."""
    with transaction.atomic(durable=True):
        # Lock the level so two clerks adding the 10th and 11th gift cannot both pass the count.
        GiftLevel.objects.select_for_update().get(pk=level.pk)
        offer = GiftOffer.objects.filter(store=store, level=level, gift=gift).first()
        if offer is not None and offer.is_active:
            return offer
        active = GiftOffer.objects.filter(store=store, level=level, is_active=True).count()
        if active >= MAX_GIFTS_PER_LEVEL:
            raise DomainError(POINTS_LEVEL_FULL, field="level", max=MAX_GIFTS_PER_LEVEL)
        if offer is None:
            offer = GiftOffer.objects.create(store=store, level=level, gift=gift, created_at=clock.now())
        else:
            offer.is_active = True
            offer.save(update_fields=["is_active"])
        audit_write(
            action="points.gift_offer.add",
            obj=offer,
            after={"store": store.code, "level": level.points, "gift": gift.code},
            actor=actor,
        )
    return offer


def in_window(programme: PointsProgramme, at=None) -> bool:
    if programme.window_start_day is None:
        return True
    day = clock.to_local(at or clock.now()).day
    return programme.window_start_day <= day <= programme.window_end_day


def _may_redeem_outside(actor) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "has_perm", None)
        and actor.has_perm("points.redeem_outside_window")
    )


def gift_redeem(
    *,
    member: Member,
    offer: GiftOffer,
    key: str,
    actor=None,
    outside_window: bool = False,
    idem: idempotency.Claim | None = None,
) -> GiftRedemption:
    """Redeem one gift of a store's catalogue for its level's points. Same key → same redemption."""
    _check_key(key)
    with transaction.atomic(durable=True):
        done = GiftRedemption.objects.filter(key=key).first()
        if done is None:
            done = _gift_redeem(
                member=member, offer=offer, key=key, actor=actor, outside_window=outside_window
            )
        elif done.member_id != member.pk or done.offer_id != offer.pk:
            raise DomainError(POINTS_KEY_REUSED, field="key")
        idempotency.complete(idem, done)
    if done.made_permanent:
        _mark_permanent(done)
    return done


def _gift_redeem(*, member, offer, key, actor, outside_window) -> GiftRedemption:
    _check_member(member)
    programme = active_programme()
    offer = GiftOffer.objects.select_related("level", "gift", "store").filter(pk=offer.pk).first()
    if offer is None or not offer.is_active or not offer.level.is_active or not offer.gift.is_active:
        raise DomainError(POINTS_OFFER_UNAVAILABLE, field="offer")
    if offer.level.programme_id != programme.pk:
        raise DomainError(POINTS_OFFER_UNAVAILABLE, field="offer")
    now = clock.now()
    outside = not in_window(programme, now)
    if outside and not (outside_window and _may_redeem_outside(actor)):
        raise DomainError(
            POINTS_WINDOW_CLOSED,
            field="offer",
            start=programme.window_start_day,
            end=programme.window_end_day,
        )
    # The gift first: the scarce thing decides, and a loser of the race for the last one fails
    # before touching points (its transaction rolls back either way).
    _gift_stock_adjust(
        gift=offer.gift, store=offer.store, delta=-1, reason=f"points redemption {key}"[:200], actor=actor
    )
    points = offer.level.points
    transfer, _new = lots._debit(
        member=member,
        amount=points,
        key=f"redeem:{key}",
        reason="points.redeem",
        reference=f"gift:{offer.gift.code}@{offer.store.code}",
    )
    permanent = bool(
        programme.permanent_points
        and points >= programme.permanent_points
        and not member.is_permanent
        and not GiftRedemption.objects.filter(member=member, made_permanent=True).exists()
    )
    clerk = actor if getattr(actor, "pk", None) else None
    redemption = GiftRedemption.objects.create(
        member=member,
        offer=offer,
        store=offer.store,
        gift=offer.gift,
        points=points,
        key=key,
        outside_window=outside,
        made_permanent=permanent,
        transfer=transfer,
        redeemed_at=now,
        clerk=clerk,
    )
    balance = lots._balance(member)  # the debit holds the account's lock: before = after + points
    audit_write(
        action="points.redeem",
        obj=redemption,
        before={"balance": balance + points},
        after={
            "balance": balance,
            "member": member.pk,
            "gift": offer.gift.code,
            "store": offer.store.code,
            "points": points,
            "outside_window": outside,
            "made_permanent": permanent,
        },
        actor=actor,
    )
    return redemption


def _mark_permanent(redemption: GiftRedemption) -> None:
    from laoke.members.services import member_mark_permanent

    try:
        member_mark_permanent(
            member_id=redemption.member_id,
            reason=f"redeemed the {redemption.points}-point gift (redemption {redemption.pk})",
        )
    except DomainError:  # merged or deleted meanwhile: nothing to mark
        pass


def gift_redemption_cancel(
    *, redemption_id: int, reason: str, actor=None, idem: idempotency.Claim | None = None
) -> GiftRedemption:
    """Undo a redemption (gift brought back): points given back as a fresh lot, stock + 1."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
        raise DomainError(POINTS_SETTING_INVALID, field="reason")
    with transaction.atomic(durable=True):
        r = GiftRedemption.objects.select_for_update().filter(pk=redemption_id).first()
        if r is None:
            raise DomainError(NOT_FOUND, field="redemption_id")
        if r.status == GiftRedemption.Status.CANCELLED:
            raise DomainError(POINTS_REDEMPTION_CANCELLED)
        now = clock.now()
        lots._credit(
            member=r.member,
            amount=r.points,
            key=f"redeem-cancel:{r.key}",
            reason="points.redeem.cancel",
            kind=PointsLot.Kind.RETURN,
            reverses=r.transfer,
            expires_at=expiry_for(active_programme(), now),
            at=now,
        )
        _gift_stock_adjust(
            gift=r.gift, store=r.store, delta=1, reason=f"redemption cancelled {r.pk}", actor=actor
        )
        r.status, r.cancelled_at, r.cancel_reason = GiftRedemption.Status.CANCELLED, now, reason.strip()
        r.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        balance = lots._balance(r.member)  # the credit holds the account's lock: before = after − points
        audit_write(
            action="points.redeem.cancel",
            obj=r,
            before={"balance": balance - r.points},
            after={"reason": reason.strip(), "points": r.points, "balance": balance},
            actor=actor,
        )
        idempotency.complete(idem, r)
    return r

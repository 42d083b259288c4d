"""Writes of the holiday gift campaigns (seed 000).

The workflow: a service assistant (客服) or a sales rep (业务员) files an application; the service
manager and the sales manager each review it (both must pass, in either order); the planning
department (企划部, the marketer role) gives the final approval, which is where the quota of the
recipient type is enforced (under a row lock on the quota). Every decision goes through
``core.approvals.approval_check`` against the requester and the roles they held when filing, so a
department never approves its own request. A rejection at any step ends the application and needs
a reason.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from laoke.core import clock, idempotency
from laoke.core.approvals import approval_check, roles_of
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.members.models import Member

from . import error_codes as E
from . import presets
from .models import (
    ApplicationState,
    GiftApplication,
    GiftCampaign,
    GiftLevel,
    Holiday,
    RecipientQuota,
    RecipientType,
)

STEP_SERVICE, STEP_SALES, STEP_FINAL = "service_review", "sales_review", "final_approval"
STEP_PERMISSIONS = {
    STEP_SERVICE: "holidays.review_service_giftapplication",
    STEP_SALES: "holidays.review_sales_giftapplication",
    STEP_FINAL: "holidays.approve_giftapplication",
}


def _require_atomic() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("holidays helpers run inside the caller's transaction")


def _check_card_message(message: str) -> None:
    if not message.strip() or len(message) > 300:
        raise DomainError(E.CAMPAIGN_INVALID, field="card_message")
    lowered = message.lower()
    for word in presets.GIFT_WORDS:
        if word.lower() in lowered:
            raise DomainError(E.CARD_NAMES_GIFT, field="card_message", word=word)


def _fen(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > 10**9:
        raise DomainError(E.CAMPAIGN_INVALID, field=field)
    return value


def gift_campaign_preset_create(
    *,
    year: int,
    level_prices_fen: dict[str, int],
    name: str = "",
    card_message: str = presets.CARD_MESSAGE,
    card_unit_price_fen: int = presets.CARD_UNIT_PRICE_FEN,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> GiftCampaign:
    """The seed 000 mid-autumn campaign for ``year``: its quotas, the 高档/普通 levels at the given
    unit prices (the seed leaves them as "XX元"), the 3元 card and the dates computed from the
    lunar calendar."""
    dates = presets.mid_autumn_dates(year)  # refuses years outside the table
    prices = {
        code: _fen(level_prices_fen.get(code), f"level_prices_fen.{code}") for code, _ in presets.LEVELS
    }
    unknown = set(level_prices_fen) - set(prices)
    if unknown:
        raise DomainError(E.CAMPAIGN_INVALID, field=f"level_prices_fen.{sorted(unknown)[0]}")
    _check_card_message(card_message)
    if (
        isinstance(card_unit_price_fen, bool)
        or not isinstance(card_unit_price_fen, int)
        or card_unit_price_fen < 0
    ):
        raise DomainError(E.CAMPAIGN_INVALID, field="card_unit_price_fen")
    name = (name or f"{year}年中秋节客户送礼").strip()
    if len(name) > 100:
        raise DomainError(E.CAMPAIGN_INVALID, field="name")
    with transaction.atomic(durable=True):
        campaign = GiftCampaign.objects.create(
            name=name,
            holiday=Holiday.MID_AUTUMN,
            year=year,
            card_unit_price_fen=card_unit_price_fen,
            card_message=card_message,
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=clock.now(),
            **dates,
        )
        GiftLevel.objects.bulk_create(
            [
                GiftLevel(campaign=campaign, code=code, name=label, unit_price_fen=prices[code])
                for code, label in presets.LEVELS
            ]
        )
        RecipientQuota.objects.bulk_create(
            [
                RecipientQuota(campaign=campaign, recipient_type=t, quota=q, persons_per_gift=p)
                for t, q, p in presets.QUOTAS
            ]
        )
        audit_write(
            action="gift_campaign.create",
            obj=campaign,
            after={"year": year, "levels": prices, "card_unit_price_fen": card_unit_price_fen},
            actor=actor,
        )
        idempotency.complete(idem, campaign)
    return campaign


# --- applications ----------------------------------------------------------------------------------

APPLICATION_FIELDS = {
    "recipient_type",
    "name",
    "company",
    "address",
    "phone",
    "decision_power",
    "level",
    "member_id",
    "visited_on",
    "note",
}


def _text(data: dict, field: str, max_len: int, *, required: bool) -> str:
    value = data.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value.strip()) > max_len or (required and not value.strip()):
        raise DomainError(E.APPLICATION_INVALID, field=field)
    return value.strip()


def _clean_application(campaign: GiftCampaign, data: dict) -> dict:
    unknown = set(data) - APPLICATION_FIELDS
    if unknown:
        raise DomainError(E.APPLICATION_INVALID, field=sorted(unknown)[0])
    rtype = data.get("recipient_type")
    if rtype not in RecipientType.values:
        raise DomainError(E.APPLICATION_INVALID, field="recipient_type")
    phone = _text(data, "phone", 30, required=True)
    if sum(c.isdigit() for c in phone) < 7 or any(not (c.isdigit() or c in "+- ()") for c in phone):
        raise DomainError(E.APPLICATION_INVALID, field="phone")
    if not isinstance(data.get("decision_power"), bool):
        raise DomainError(E.APPLICATION_INVALID, field="decision_power")
    level = GiftLevel.objects.filter(campaign=campaign, code=data.get("level")).first()
    if level is None:
        raise DomainError(E.APPLICATION_INVALID, field="level")
    member = None
    if data.get("member_id") is not None:
        member = Member.objects.filter(pk=data["member_id"]).first()
        if member is None:
            raise DomainError(E.APPLICATION_INVALID, field="member_id")
    visited_on = data.get("visited_on")
    if rtype == RecipientType.WALK_IN:
        if not isinstance(visited_on, date):
            raise DomainError(E.APPLICATION_INVALID, field="visited_on")
        if campaign.walkin_from and not (campaign.walkin_from <= visited_on <= campaign.walkin_until):
            raise DomainError(
                E.WALKIN_OUTSIDE_WINDOW,
                field="visited_on",
                start=campaign.walkin_from.isoformat(),
                end=campaign.walkin_until.isoformat(),
            )
    elif visited_on is not None:
        raise DomainError(E.APPLICATION_INVALID, field="visited_on")
    return {
        "recipient_type": rtype,
        "name": _text(data, "name", 100, required=True),
        "company": _text(data, "company", 100, required=False),
        "address": _text(data, "address", 300, required=True),
        "phone": phone,
        "decision_power": data["decision_power"],
        "level": level,
        "member": member,
        "visited_on": visited_on,
        "note": _text(data, "note", 300, required=False),
    }


def gift_application_file(
    *, campaign_id: int, data: dict, actor, idem: idempotency.Claim | None = None
) -> GiftApplication:
    """File a 送礼申请 (the seed's form: type, name, address, phone; plus decision power and the
    gift level). The requester and their roles are kept for the approval rule."""
    campaign = GiftCampaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise DomainError(NOT_FOUND)
    clean = _clean_application(campaign, data)
    if not getattr(actor, "pk", None):
        raise DomainError(E.APPLICATION_INVALID, field="requested_by")
    with transaction.atomic(durable=True):
        app = GiftApplication.objects.create(
            campaign=campaign,
            requested_by=actor,
            requester_roles=roles_of(actor),
            created_at=clock.now(),
            **clean,
        )
        audit_write(
            action="gift_application.file",
            obj=app,
            after={"campaign": campaign.pk, "type": app.recipient_type, "level": app.level.code},
            actor=actor,
        )
        idempotency.complete(idem, app)
    return app


def _lock_application(application_id: int) -> GiftApplication:
    app = GiftApplication.objects.select_for_update().filter(pk=application_id).first()
    if app is None:
        raise DomainError(NOT_FOUND)
    return app


def _check(app: GiftApplication, step: str, actor) -> None:
    approval_check(
        actor=actor,
        permission=STEP_PERMISSIONS[step],
        requested_by_id=app.requested_by_id,
        requester_roles=app.requester_roles,
        step=step,
    )


def _reject(app: GiftApplication, step: str, reason: str, actor, now) -> None:
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise DomainError(E.REASON_REQUIRED, field="reason")
    app.state = ApplicationState.REJECTED
    app.reject_step = step
    app.reject_reason = reason
    app.decided_by = actor
    app.decided_at = now


def gift_application_review(
    *,
    application_id: int,
    step: str,
    approve: bool,
    reason: str = "",
    actor,
    idem: idempotency.Claim | None = None,
) -> GiftApplication:
    """One of the two reviews (``service_review`` by the service manager, ``sales_review`` by the
    sales manager). When both have passed, the application awaits the final approval."""
    if step not in (STEP_SERVICE, STEP_SALES):
        raise DomainError(E.APPLICATION_INVALID, field="step")
    with transaction.atomic(durable=True):
        app = _lock_application(application_id)
        _check(app, step, actor)
        if app.state != ApplicationState.PENDING:
            raise DomainError(E.APPLICATION_STATE, state=app.get_state_display())
        at_field = "service_review_at" if step == STEP_SERVICE else "sales_review_at"
        if getattr(app, at_field) is not None:
            raise DomainError(E.STEP_DONE, step=step)
        now = clock.now()
        if approve:
            setattr(app, at_field, now)
            setattr(app, at_field.replace("_at", "_by"), actor)
            if app.service_review_at and app.sales_review_at:
                app.state = ApplicationState.REVIEWED
        else:
            _reject(app, step, reason, actor, now)
        app.save()
        audit_write(
            action=f"gift_application.{step}",
            obj=app,
            before={"state": ApplicationState.PENDING.value},
            after={"approve": approve, "state": app.state, "reason": app.reject_reason},
            actor=actor,
        )
        idempotency.complete(idem, app)
    return app


def gift_application_decide(
    *, application_id: int, approve: bool, reason: str = "", actor, idem: idempotency.Claim | None = None
) -> GiftApplication:
    """The planning department's final approval (or rejection). Approval counts against the quota of
    the recipient type, checked under the quota row's lock."""
    with transaction.atomic(durable=True):
        app = _lock_application(application_id)
        _check(app, STEP_FINAL, actor)
        if app.state == ApplicationState.PENDING:
            raise DomainError(E.REVIEWS_PENDING)
        if app.state != ApplicationState.REVIEWED:
            raise DomainError(E.APPLICATION_STATE, state=app.get_state_display())
        now = clock.now()
        if approve:
            quota = (
                RecipientQuota.objects.select_for_update()
                .filter(campaign_id=app.campaign_id, recipient_type=app.recipient_type)
                .first()
            )
            used = GiftApplication.objects.filter(
                campaign_id=app.campaign_id,
                recipient_type=app.recipient_type,
                state=ApplicationState.APPROVED,
            ).count()
            if quota is not None and used >= quota.quota:
                raise DomainError(E.QUOTA_FULL, type=app.get_recipient_type_display(), quota=quota.quota)
            app.state = ApplicationState.APPROVED
            app.decided_by = actor
            app.decided_at = now
        else:
            _reject(app, STEP_FINAL, reason, actor, now)
        app.save()
        audit_write(
            action="gift_application.final",
            obj=app,
            before={"state": ApplicationState.REVIEWED.value},
            after={"approve": approve, "state": app.state, "reason": app.reject_reason},
            actor=actor,
        )
        idempotency.complete(idem, app)
    return app


def gift_courier_export(*, campaign_id: int, fmt: str = "xlsx", allow_late: bool = False, actor=None):
    """The courier list as a file (see export.py), with an audit row: it carries addresses and
    phones. Refused after the courier deadline unless ``allow_late`` (the file is then marked)."""
    from .export import courier_file

    campaign = GiftCampaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise DomainError(NOT_FOUND)
    result = courier_file(campaign, fmt=fmt, allow_late=allow_late, today=clock.today())
    with transaction.atomic(durable=True):
        audit_write(
            action="gift_campaign.export",
            obj=campaign,
            after={"rows": result.rows, "format": fmt, "late": result.late},
            actor=actor,
        )
    return result

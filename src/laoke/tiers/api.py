"""REST endpoints of the tiers app: /api/v1/tiers/… (thin over services and selectors).

Programmes and levels are configured by marketers (``tiers:write``); a member's or group's tier
and history are read with ``value:read``. Ranges and codes are checked by the services, so a bad
rate or threshold comes back with its own code (TIER_RATE_INVALID …), not a schema error.
Members follow the object rule of the members API (a service agent sees individual members only);
group accounts' tiers need ``members.see_group_members``. Writes accept an Idempotency-Key (a
tier changes prices but moves no value, so the key is optional).
"""

from datetime import date, datetime
from typing import Any

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from laoke.core.api import idempotent_write, paginate, require
from laoke.core.errors import NOT_FOUND, PERMISSION_DENIED, DomainError
from laoke.members.models import GroupAccount, Member
from laoke.members.selectors import member_visible_queryset

from . import selectors, services
from .models import TierLevel, TierProgramme

router = Router(tags=["tiers"])


class In(Schema):
    """Request bodies: an unknown field is a 422, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class LevelIn(In):
    rank: int
    code: str = Field(..., max_length=100)
    name: str = Field(..., max_length=100)
    rule_kind: str | None = Field(None, max_length=40)
    threshold: int = 0
    price_rate_bp: int = 10_000
    points_multiplier_bp: int = 10_000
    free_shipping: bool = False
    service_owner_role: str | None = Field(None, max_length=40)
    activities: list[str] = Field(default_factory=list, max_length=20)


class LevelPatch(In):
    rank: int | None = None
    code: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=100)
    rule_kind: str | None = Field(None, max_length=40)
    threshold: int | None = None
    price_rate_bp: int | None = None
    points_multiplier_bp: int | None = None
    free_shipping: bool | None = None
    service_owner_role: str | None = Field(None, max_length=40)
    activities: list[str] | None = Field(None, max_length=20)


class LevelOut(Schema):
    id: int
    programme_id: int
    rank: int
    code: str
    name: str
    rule_kind: str
    threshold: int
    price_rate_bp: int
    points_multiplier_bp: int
    free_shipping: bool
    service_owner_role: str
    activities: list[str]


class ProgrammeIn(In):
    code: str = Field(..., max_length=100)
    name: str = Field(..., max_length=100)
    audience: str = Field(..., max_length=20)
    basis: str = Field(..., max_length=40)
    downgrade_policy: str = Field("never", max_length=40)
    review_month: int | None = None
    review_day: int | None = None
    is_active: bool = False
    levels: list[LevelIn] = Field(default_factory=list, max_length=50)


class ProgrammePatch(In):
    name: str | None = Field(None, max_length=100)
    basis: str | None = Field(None, max_length=40)
    downgrade_policy: str | None = Field(None, max_length=40)
    review_month: int | None = None
    review_day: int | None = None
    is_active: bool | None = None


class ProgrammeOut(Schema):
    id: int
    code: str
    name: str
    audience: str
    basis: str
    downgrade_policy: str
    review_month: int | None
    review_day: int | None
    is_active: bool
    last_review_on: date | None
    levels: list[LevelOut]


def _programme_out(p: TierProgramme) -> dict[str, Any]:
    return {
        **{k: getattr(p, k) for k in ProgrammeOut.model_fields if k != "levels"},
        "levels": [_level_out(lv) for lv in sorted(p.levels.all(), key=lambda lv: lv.rank)],
    }


def _level_out(lv: TierLevel) -> dict[str, Any]:
    return {k: getattr(lv, k) for k in LevelOut.model_fields}


def _programme(programme_id: int) -> TierProgramme:
    p = selectors.programme_list().filter(pk=programme_id).first()
    if p is None:
        raise DomainError(NOT_FOUND, field="programme_id")
    return p


# --- programmes and levels -----------------------------------------------------------------------


@router.get("/programmes", response=list[ProgrammeOut], summary="Tier programmes with their levels")
@require("tiers.view_tierprogramme", "value:read")
def programme_list(request, audience: str | None = Query(None, max_length=20), active: bool | None = None):
    return [_programme_out(p) for p in selectors.programme_list(audience=audience, active=active)]


@router.post(
    "/programmes", response={201: ProgrammeOut}, summary="Create a programme (accepts Idempotency-Key)"
)
@require("tiers.add_tierprogramme", "tiers:write")
def programme_create(request, payload: ProgrammeIn):
    data = payload.dict()
    levels = [{k: v for k, v in lv.items() if v is not None} for lv in data.pop("levels")]

    def call(claim):
        return services.tier_programme_create(**data, levels=levels, actor=request.user, idem=claim)

    def render(programme):
        return 201, ProgrammeOut(**_programme_out(_programme(programme.pk))).model_dump(mode="json")

    return idempotent_write(
        request, scope="tiers.programme.create", payload=payload.dict(), call=call, render=render
    )


@router.get("/programmes/{int:programme_id}", response=ProgrammeOut, summary="One programme")
@require("tiers.view_tierprogramme", "value:read")
def programme_detail(request, programme_id: int):
    return _programme_out(_programme(programme_id))


@router.patch(
    "/programmes/{int:programme_id}",
    response=ProgrammeOut,
    summary="Change a programme (switching the basis re-points its automatic levels)",
)
@require("tiers.change_tierprogramme", "tiers:write")
def programme_update(request, programme_id: int, payload: ProgrammePatch):
    services.tier_programme_update(
        programme_id=programme_id, data=payload.dict(exclude_unset=True), actor=request.user
    )
    return _programme_out(_programme(programme_id))


@router.delete(
    "/programmes/{int:programme_id}",
    response={204: None},
    summary="Delete an inactive programme nobody was ever placed in",
)
@require("tiers.delete_tierprogramme", "tiers:write")
def programme_delete(request, programme_id: int):
    services.tier_programme_delete(programme_id=programme_id, actor=request.user)
    return Status(204, None)


@router.post(
    "/programmes/{int:programme_id}/levels",
    response={201: LevelOut},
    summary="Add a level (accepts Idempotency-Key)",
)
@require("tiers.add_tierlevel", "tiers:write")
def level_create(request, programme_id: int, payload: LevelIn):
    programme = _programme(programme_id)
    spec = {k: v for k, v in payload.dict().items() if v is not None}

    def call(claim):
        return services.tier_level_create(programme=programme, actor=request.user, idem=claim, **spec)

    def render(level):
        return 201, LevelOut(**_level_out(level)).model_dump(mode="json")

    return idempotent_write(
        request, scope=f"tiers.level.create:{programme_id}", payload=payload.dict(), call=call, render=render
    )


@router.patch("/levels/{int:level_id}", response=LevelOut, summary="Change a level")
@require("tiers.change_tierlevel", "tiers:write")
def level_update(request, level_id: int, payload: LevelPatch):
    return _level_out(
        services.tier_level_update(
            level_id=level_id, data=payload.dict(exclude_unset=True), actor=request.user
        )
    )


@router.delete("/levels/{int:level_id}", response={204: None}, summary="Delete a level nobody holds or held")
@require("tiers.delete_tierlevel", "tiers:write")
def level_delete(request, level_id: int):
    services.tier_level_delete(level_id=level_id, actor=request.user)
    return Status(204, None)


# --- a member's or group's tier ----------------------------------------------------------------------


class LevelRef(Schema):
    id: int
    code: str
    name: str
    price_rate_bp: int


class OwnTier(Schema):
    level: LevelRef | None
    since: datetime
    how: str


class MemberTierOut(Schema):
    member_id: int
    level: LevelOut | None = Field(
        description="The level that prices the member (own or group's, the better)"
    )
    own: OwnTier | None
    group_level: LevelRef | None


class GroupTierOut(Schema):
    group_account_id: int
    level: LevelOut | None
    own: OwnTier | None


class HistoryOut(Schema):
    id: int
    at: datetime
    how: str
    reason: str
    from_level: LevelRef | None
    to_level: LevelRef | None
    actor_label: str


class HistoryPage(Schema):
    items: list[HistoryOut]
    next_cursor: str | None


class GrantIn(In):
    level_id: int
    reason: str = Field(..., max_length=400)


class ChangeOut(Schema):
    history_id: int
    from_level: LevelRef | None
    to_level: LevelRef | None
    how: str
    reason: str


class EvaluateOut(Schema):
    changed: bool
    change: ChangeOut | None


def _ref(lv: TierLevel | None) -> dict | None:
    return (
        None
        if lv is None
        else {"id": lv.pk, "code": lv.code, "name": lv.name, "price_rate_bp": lv.price_rate_bp}
    )


def _own(row) -> dict | None:
    return None if row is None else {"level": _ref(row.level), "since": row.since, "how": row.how}


def _change(change) -> dict:
    return {
        "history_id": change.history_id,
        "from_level": _ref(change.from_level),
        "to_level": _ref(change.to_level),
        "how": change.how,
        "reason": change.reason,
    }


def _history(rows) -> list[dict]:
    return [
        {
            "id": h.pk,
            "at": h.at,
            "how": h.how,
            "reason": h.reason,
            "from_level": _ref(h.from_level),
            "to_level": _ref(h.to_level),
            "actor_label": h.actor_label,
        }
        for h in rows
    ]


def _member(request, member_id: int) -> Member:
    member = member_visible_queryset(request.user).filter(pk=member_id).first()
    if member is None:
        raise DomainError(NOT_FOUND, field="member_id")
    return member


def _group(request, group_id: int) -> GroupAccount:
    if not request.user.has_perm("members.see_group_members"):
        raise DomainError(PERMISSION_DENIED)
    group = GroupAccount.objects.filter(pk=group_id).first()
    if group is None:
        raise DomainError(NOT_FOUND, field="group_id")
    return group


def _level(level_id: int) -> TierLevel:
    level = TierLevel.objects.filter(pk=level_id).first()
    if level is None:
        raise DomainError(NOT_FOUND, field="level_id")
    return level


@router.get("/members/{int:member_id}", response=MemberTierOut, summary="A member's tier")
@require("tiers.view_membertier", "value:read")
def member_tier(request, member_id: int):
    member = _member(request, member_id)
    level = selectors.current_level(member=member)
    group_level = (
        selectors.group_level(group_account=member.group_account) if member.group_account_id else None
    )
    return {
        "member_id": member.pk,
        "level": _level_out(level) if level else None,
        "own": _own(selectors.tier_of(member=member)),
        "group_level": _ref(group_level),
    }


@router.get("/members/{int:member_id}/history", response=HistoryPage, summary="A member's tier history")
@require("tiers.view_tierhistory", "value:read")
def member_history(
    request,
    member_id: int,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=500),
):
    member = _member(request, member_id)
    items, nxt = paginate(selectors.tier_history(member), cursor=cursor, limit=limit)
    return {"items": _history(items), "next_cursor": nxt}


def _grant(request, payload: GrantIn, owner: dict, scope: str):
    level = _level(payload.level_id)

    def call(claim):
        return services.tier_grant(
            **owner, level=level, reason=payload.reason, actor=request.user, idem=claim
        )

    def render(change):
        return 200, ChangeOut(**_change(change)).model_dump(mode="json")

    return idempotent_write(request, scope=scope, payload=payload.dict(), call=call, render=render)


@router.post(
    "/members/{int:member_id}/grant",
    response=ChangeOut,
    summary="Put a member at a level by hand, with a reason (accepts Idempotency-Key)",
)
@require("tiers.grant_tier", "tiers:write")
def member_grant(request, member_id: int, payload: GrantIn):
    member = _member(request, member_id)
    return _grant(request, payload, {"member": member}, f"tiers.grant:m{member.pk}")


@router.post(
    "/members/{int:member_id}/evaluate",
    response=EvaluateOut,
    summary="Re-evaluate a member's entry rules now (upgrades only), e.g. after an import",
)
@require("tiers.change_membertier", "tiers:write")
def member_evaluate(request, member_id: int):
    change = services.tier_evaluate(member=_member(request, member_id), reason="api evaluate")
    return {"changed": change is not None, "change": _change(change) if change else None}


@router.get("/groups/{int:group_id}", response=GroupTierOut, summary="A group account's tier")
@require("tiers.view_membertier", "value:read")
def group_tier(request, group_id: int):
    group = _group(request, group_id)
    level = selectors.group_level(group_account=group)
    return {
        "group_account_id": group.pk,
        "level": _level_out(level) if level else None,
        "own": _own(selectors.tier_of(group_account=group)),
    }


@router.get("/groups/{int:group_id}/history", response=HistoryPage, summary="A group account's tier history")
@require("tiers.view_tierhistory", "value:read")
def group_history(
    request,
    group_id: int,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=500),
):
    group = _group(request, group_id)
    items, nxt = paginate(selectors.tier_history(group_account=group), cursor=cursor, limit=limit)
    return {"items": _history(items), "next_cursor": nxt}


@router.post(
    "/groups/{int:group_id}/grant",
    response=ChangeOut,
    summary="Put a group account at a level by hand, with a reason (accepts Idempotency-Key)",
)
@require("tiers.grant_tier", "tiers:write")
def group_grant(request, group_id: int, payload: GrantIn):
    group = _group(request, group_id)
    return _grant(request, payload, {"group_account": group}, f"tiers.grant:g{group.pk}")


@router.post(
    "/groups/{int:group_id}/evaluate",
    response=EvaluateOut,
    summary="Re-evaluate a group account's entry rules now (upgrades only)",
)
@require("tiers.change_membertier", "tiers:write")
def group_evaluate(request, group_id: int):
    change = services.tier_evaluate(group_account=_group(request, group_id), reason="api evaluate")
    return {"changed": change is not None, "change": _change(change) if change else None}

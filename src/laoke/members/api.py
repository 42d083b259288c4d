"""Members API: /api/v1/members/… (thin: parse, check, call one service or selector, render).

PII in responses is masked like the console unless the caller holds ``members.view_pii`` and,
for tokens, the ``members:pii`` scope.
"""

import json
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr

from laoke.core.api import has_scope, idempotent_write, paginate, require
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.models import Store

from . import selectors, services
from .models import AttributeDefinition, CorporateAccount, GroupAccount, Member, Tag
from .validation import mask_mobile, mobile_national

router = Router(tags=["members"])

ChannelName = Literal["sms", "email", "phone", "direct_mail", "app_push", "sensitive_pi"]


class _Viewer:
    """The request's user, narrowed to what its token scopes allow (PII needs members:pii)."""

    def __init__(self, request):
        self.user = request.user
        self._pii_scope = has_scope(request, "members:pii")

    def has_perm(self, perm: str) -> bool:
        if perm == "members.view_pii" and not self._pii_scope:
            return False
        return self.user.has_perm(perm)


def _viewer(request):
    return _Viewer(request)


def _visible(request, member_id: int, *, field: str = "member_id") -> Member:
    member = selectors.member_visible_queryset(_viewer(request)).filter(pk=member_id).first()
    if member is None:
        raise DomainError(NOT_FOUND, field=field)
    return member


def _check_group_visible(request, group_id: int | None) -> None:
    """Putting a member into a group account is for those who may see group members."""
    if group_id is not None and not request.user.has_perm("members.see_group_members"):
        raise DomainError(NOT_FOUND, field="group_account_id")


def _store(store_id: int | None) -> Store | None:
    if store_id is None:
        return None
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        raise DomainError(NOT_FOUND, field="store_id")
    return store


# --- schemas --------------------------------------------------------------------------------------


class In(Schema):
    """Request bodies: an unknown field is a 422, not silently dropped (a typo'd 'mobil')."""

    model_config = ConfigDict(extra="forbid")


class MemberIn(In):
    name: str = Field("", max_length=60)
    mobile: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=254)
    gender: Literal["", "F", "M"] = ""
    birthday: date | None = None
    id_number: str = Field("", max_length=18)
    address: str | None = Field(None, max_length=255)
    source: Member.Source = Member.Source.API
    home_store_id: int | None = None
    group_account_id: int | None = None
    exclude_personalised: bool = False
    notes: str = Field("", max_length=2000)
    refs: list[tuple[str, str]] = Field(default_factory=list, max_length=20)
    consents: dict[ChannelName, bool] = Field(default_factory=dict)
    agreement_version: str | None = Field(None, max_length=20)


class MemberPatch(In):
    name: str | None = Field(None, max_length=60)
    mobile: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=254)
    gender: Literal["", "F", "M"] | None = None
    birthday: date | None = None
    id_number: str | None = Field(None, max_length=18)
    address: str | None = Field(None, max_length=255)
    home_store_id: int | None = None
    group_account_id: int | None = None
    exclude_personalised: bool | None = None
    notes: str | None = Field(None, max_length=2000)


class MemberRow(Schema):
    id: int
    code: str
    name: str
    mobile: str
    province: str
    city: str
    lifecycle: str
    status: str
    group_account_id: int | None
    home_store_id: int | None
    registered_at: datetime


class MemberPage(Schema):
    items: list[MemberRow]
    next_cursor: str | None


class MemberDetail(Schema):
    id: int
    code: str
    name: str
    mobile: str
    email: str
    gender: str
    birthday: str | None
    province: str
    city: str
    district: str
    address: str
    id_number: str
    source: str
    registered_at: str | None
    lifecycle: str
    status: str
    group_account: str | None
    home_store: str | None
    is_permanent: bool
    exclude_personalised: bool
    notes: str
    merged_into: int | None
    tags: list[str]
    attributes: list[dict[str, Any]]
    consents: list[dict[str, Any]]
    cards: list[dict[str, Any]]
    refs: list[dict[str, Any]]
    pii_masked: bool


def _row(member: Member, *, unmasked: bool) -> dict:
    return {
        "id": member.pk,
        "code": member.code,
        "name": member.name,
        "mobile": mobile_national(member.mobile) if unmasked else mask_mobile(member.mobile),
        "province": member.province,
        "city": member.city,
        "lifecycle": member.lifecycle,
        "status": member.status,
        "group_account_id": member.group_account_id,
        "home_store_id": member.home_store_id,
        "registered_at": member.registered_at,
    }


# --- members --------------------------------------------------------------------------------------


@router.get("", response=MemberPage, summary="Search members (name, member number, mobile or external id)")
@require("members.view_member", "members:read")
def member_list(
    request,
    q: str | None = Query(None, max_length=100),
    lifecycle: Member.Lifecycle | None = None,
    store_id: int | None = None,
    group_id: int | None = None,
    permanent: bool | None = None,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=500),
):
    viewer = _viewer(request)
    qs = selectors.member_search(
        viewer, q=q, lifecycle=lifecycle, store_id=store_id, group_id=group_id, permanent=permanent
    )
    items, nxt = paginate(qs, cursor=cursor, limit=limit)
    # Lists are always masked: unmasking is per member (detail), so each unmasked view is audited.
    return {"items": [_row(m, unmasked=False) for m in items], "next_cursor": nxt}


@router.post("", response={201: MemberDetail}, summary="Register a member (accepts Idempotency-Key)")
@require("members.add_member", "members:write")
def member_create(request, payload: MemberIn):
    viewer = _viewer(request)
    _check_group_visible(request, payload.group_account_id)

    def call(claim):
        return services.member_create(
            name=payload.name,
            mobile=payload.mobile,
            email=payload.email,
            gender=payload.gender,
            birthday=payload.birthday,
            id_number=payload.id_number,
            address=payload.address,
            source=payload.source,
            home_store=payload.home_store_id,
            group_account=payload.group_account_id,
            exclude_personalised=payload.exclude_personalised,
            notes=payload.notes,
            refs=[tuple(r) for r in payload.refs],
            consents=dict(payload.consents),
            consent_source="api",
            agreement_version=payload.agreement_version,
            idem=claim,
        )

    def render(member):
        return 201, services.member_view(viewer=viewer, member_id=member.pk)

    return idempotent_write(request, scope="members.create", payload=payload.dict(), call=call, render=render)


@router.get(
    "/{int:member_id}", response=MemberDetail, summary="One member (PII masked without the PII permission)"
)
@require("members.view_member", "members:read")
def member_detail(request, member_id: int):
    return services.member_view(viewer=_viewer(request), member_id=member_id)


@router.patch("/{int:member_id}", response=MemberDetail, summary="Change a member's profile")
@require("members.change_member", "members:write")
def member_update(request, member_id: int, payload: MemberPatch):
    _visible(request, member_id)
    data = payload.dict(exclude_unset=True)
    _check_group_visible(request, data.get("group_account_id"))
    for key in ("home_store_id", "group_account_id"):
        if key in data:
            data[key[: -len("_id")]] = data.pop(key)
    viewer = _viewer(request)

    def call(claim):
        return services.member_update(member_id=member_id, data=data, idem=claim)

    def render(member):
        return 200, services.member_view(viewer=viewer, member_id=member.pk)

    return idempotent_write(
        request,
        scope="members.update",
        payload={"id": member_id, **payload.dict(exclude_unset=True)},
        call=call,
        render=render,
    )


class RefIn(In):
    source: str = Field(..., min_length=1, max_length=32)
    external_id: str = Field(..., min_length=1, max_length=128)


@router.post("/{int:member_id}/refs", response={201: RefIn}, summary="Add an external identity")
@require("members.change_member", "members:write")
def member_ref_add(request, member_id: int, payload: RefIn):
    _visible(request, member_id)
    ref = services.member_ref_add(member_id=member_id, source=payload.source, external_id=payload.external_id)
    return Status(201, {"source": ref.source, "external_id": ref.external_id})


# --- consent --------------------------------------------------------------------------------------


class ConsentOut(Schema):
    channel: str
    state: str
    changed_at: str | None
    source: str


class ConsentIn(In):
    granted: bool
    source: str = Field("api", min_length=1, max_length=64)
    note: str = Field("", max_length=255)


class UnsubscribeIn(In):
    channel: ChannelName
    source: str = Field("operator", min_length=1, max_length=64)
    note: str = Field("", max_length=255)


@router.get("/{int:member_id}/consents", response=list[ConsentOut], summary="Consent per channel")
@require("members.view_member", "members:read")
def consent_list(request, member_id: int):
    member = _visible(request, member_id)
    return [
        {"channel": c.channel, "state": c.state, "changed_at": c.changed_at.isoformat(), "source": c.source}
        for c in member.consents.order_by("channel")
    ]


@router.put("/{int:member_id}/consents/{channel}", response=ConsentOut, summary="Grant or withdraw consent")
@require("members.manage_consent", "members:write")
def consent_put(request, member_id: int, channel: ChannelName, payload: ConsentIn):
    _visible(request, member_id)
    c = services.consent_set(
        member_id=member_id,
        channel=channel,
        granted=payload.granted,
        source=payload.source,
        note=payload.note,
    )
    return {
        "channel": c.channel,
        "state": c.state,
        "changed_at": c.changed_at.isoformat(),
        "source": c.source,
    }


@router.post("/{int:member_id}/unsubscribe", response=ConsentOut, summary="Unsubscribe from a channel")
@require("members.manage_consent", "members:write")
def member_unsubscribe(request, member_id: int, payload: UnsubscribeIn):
    _visible(request, member_id)
    c = services.member_unsubscribe(
        member_id=member_id, channel=payload.channel, source=payload.source, note=payload.note
    )
    return {
        "channel": c.channel,
        "state": c.state,
        "changed_at": c.changed_at.isoformat(),
        "source": c.source,
    }


# --- tags and attributes --------------------------------------------------------------------------


class TagIn(In):
    name: str = Field(..., min_length=1, max_length=50)
    kind: Tag.Kind = Tag.Kind.GENERAL


class TagOut(Schema):
    id: int
    name: str
    kind: str


@router.get("/tags", response=list[TagOut], summary="Tags (sensitive ones only with that permission)")
@require("members.view_tag", "members:read")
def tag_list(request):
    qs = Tag.objects.order_by("name")
    if not selectors.can_see_sensitive_tags(request.user):
        qs = qs.exclude(kind=Tag.Kind.SENSITIVE)
    return list(qs)


@router.post("/tags", response={201: TagOut}, summary="Create a tag")
@require("members.add_tag", "members:write")
def tag_create(request, payload: TagIn):
    return Status(201, services.tag_create(name=payload.name, kind=payload.kind))


class MemberTagIn(In):
    tag: str = Field(..., min_length=1, max_length=50)


@router.post("/{int:member_id}/tags", response={201: dict}, summary="Tag a member")
@require("members.tag_member", "members:write")
def member_tag_add(request, member_id: int, payload: MemberTagIn):
    _visible(request, member_id)
    services.member_tag_add(member_id=member_id, tag_name=payload.tag)
    return Status(201, {"member_id": member_id, "tag": payload.tag})


@router.delete("/{int:member_id}/tags/{tag}", response={204: None}, summary="Remove a tag from a member")
@require("members.tag_member", "members:write")
def member_tag_remove(request, member_id: int, tag: str):
    _visible(request, member_id)
    services.member_tag_remove(member_id=member_id, tag_name=tag)
    return Status(204, None)


class AttributeDefIn(In):
    key: str = Field(..., min_length=1, max_length=50, pattern=r"^[-a-zA-Z0-9_]+$")
    label: str = Field(..., min_length=1, max_length=100)
    type: AttributeDefinition.Type
    choices: list[str] = Field(default_factory=list, max_length=200)
    is_sensitive: bool = False


class AttributeDefOut(Schema):
    id: int
    key: str
    label: str
    type: str
    choices: list[str]
    is_sensitive: bool


@router.get("/attributes", response=list[AttributeDefOut], summary="Custom attribute definitions")
@require("members.view_attributedefinition", "members:read")
def attribute_list(request):
    return list(AttributeDefinition.objects.order_by("key"))


@router.post("/attributes", response={201: AttributeDefOut}, summary="Define a custom attribute")
@require("members.add_attributedefinition", "members:write")
def attribute_create(request, payload: AttributeDefIn):
    return Status(
        201,
        services.attribute_definition_create(
            key=payload.key,
            label=payload.label,
            type=payload.type,
            choices=payload.choices,
            is_sensitive=payload.is_sensitive,
        ),
    )


class AttributeValueIn(In):
    """JSON types as sent (true stays a boolean, 1.5 a number); the attribute's type decides."""

    value: StrictBool | StrictInt | StrictFloat | StrictStr | None = None


@router.put("/{int:member_id}/attributes/{key}", response=dict, summary="Set a custom attribute value")
@require("members.set_attribute", "members:write")
def attribute_set(request, member_id: int, key: str, payload: AttributeValueIn):
    _visible(request, member_id)
    av = services.member_attribute_set(member_id=member_id, key=key, value=payload.value)
    return {"key": key, "value": services.attribute_value_of(av) if av else None}


# --- group accounts and corporate archive ---------------------------------------------------------


class GroupIn(In):
    name: str = Field(..., min_length=1, max_length=120)
    kind: GroupAccount.Kind = GroupAccount.Kind.COMPANY
    contact_name: str = Field("", max_length=60)
    contact_mobile: str = Field("", max_length=20)


class GroupPatch(In):
    name: str | None = Field(None, min_length=1, max_length=120)
    kind: GroupAccount.Kind | None = None
    contact_name: str | None = Field(None, max_length=60)
    contact_mobile: str | None = Field(None, max_length=20)


class GroupOut(Schema):
    id: int
    name: str
    kind: str
    contact_name: str
    contact_mobile: str


def _group_out(group: GroupAccount, request) -> dict:
    unmasked = _viewer(request).has_perm("members.view_pii")
    return {
        "id": group.pk,
        "name": group.name,
        "kind": group.kind,
        "contact_name": group.contact_name,
        "contact_mobile": mobile_national(group.contact_mobile)
        if unmasked
        else mask_mobile(group.contact_mobile),
    }


@router.get("/groups", response=list[GroupOut], summary="Group accounts (集体)")
@require("members.see_group_members", "members:read")
def group_list(request):
    return [_group_out(g, request) for g in GroupAccount.objects.order_by("name")]


@router.post("/groups", response={201: GroupOut}, summary="Create a group account")
@require("members.add_groupaccount", "members:write")
def group_create(request, payload: GroupIn):
    group = services.group_account_create(
        name=payload.name,
        kind=payload.kind,
        contact_name=payload.contact_name,
        contact_mobile=payload.contact_mobile,
    )
    return Status(201, _group_out(group, request))


@router.patch("/groups/{int:group_id}", response=GroupOut, summary="Change a group account")
@require("members.change_groupaccount", "members:write")
def group_update(request, group_id: int, payload: GroupPatch):
    group = services.group_account_update(group_id=group_id, data=payload.dict(exclude_unset=True))
    return _group_out(group, request)


class CorporateIn(In):
    unit_name: str = Field(..., min_length=1, max_length=200)
    contact_name: str = Field("", max_length=60)
    position: str = Field("", max_length=60)
    phone: str = Field("", max_length=30)
    address: str = Field("", max_length=255)
    annual_spend_fen: int = Field(0, ge=0)
    agreed_discount_bp: int = Field(10_000, ge=0, le=10_000)
    klass: CorporateAccount.Klass = CorporateAccount.Klass.POTENTIAL


class CorporateOut(Schema):
    id: int
    unit_name: str
    contact_name: str
    position: str
    annual_spend_fen: int
    agreed_discount_bp: int
    klass: str


@router.get("/corporate", response=list[CorporateOut], summary="Corporate archive (重点/会议/潜在)")
@require("members.view_corporateaccount", "members:read")
def corporate_list(request, klass: CorporateAccount.Klass | None = None):
    qs = CorporateAccount.objects.order_by("unit_name")
    return list(qs.filter(klass=klass) if klass else qs)


@router.post("/corporate", response={201: CorporateOut}, summary="Add a corporate customer")
@require("members.add_corporateaccount", "members:write")
def corporate_create(request, payload: CorporateIn):
    return Status(201, services.corporate_account_create(data=payload.dict()))


# --- membership cards -----------------------------------------------------------------------------


class CardIssueIn(In):
    purchase_fen: int | None = Field(None, ge=0, description="the single purchase that triggers the card")
    first_purchase: bool = False
    store_id: int | None = None


class CardReplaceIn(In):
    old_number: str | None = Field(None, max_length=32)
    customer_stub: bool = False
    store_id: int | None = None


class CardOut(Schema):
    number: str
    state: str
    valid_until: date | None
    fee_fen: int
    fee_note: str


@router.post("/{int:member_id}/card", response={201: CardOut}, summary="Issue a membership card")
@require("members.issue_membershipcard", "members:write")
def card_issue(request, member_id: int, payload: CardIssueIn):
    _visible(request, member_id)
    return Status(
        201,
        services.membership_card_issue(
            member_id=member_id,
            purchase_fen=payload.purchase_fen,
            first_purchase=payload.first_purchase,
            store=_store(payload.store_id),
        ),
    )


@router.post(
    "/{int:member_id}/card/replace", response={201: CardOut}, summary="Replace a lost card (old one voided)"
)
@require("members.issue_membershipcard", "members:write")
def card_replace(request, member_id: int, payload: CardReplaceIn):
    _visible(request, member_id)
    return Status(
        201,
        services.membership_card_replace(
            member_id=member_id,
            old_number=payload.old_number,
            customer_stub=payload.customer_stub,
            store=_store(payload.store_id),
        ),
    )


# --- merge and PIPL -------------------------------------------------------------------------------


class MergeIn(In):
    source_id: int


@router.post("/{int:member_id}/merge", response=dict, summary="Merge a duplicate member into this one")
@require("members.merge_member", "members:write")
def member_merge(request, member_id: int, payload: MergeIn):
    _visible(request, member_id)
    _visible(request, payload.source_id, field="source_id")
    record = services.member_merge(source_id=payload.source_id, target_id=member_id)
    return {"target_id": member_id, "source_id": payload.source_id, "moved": record.moved}


@router.get(
    "/{int:member_id}/pi-export",
    response=dict,
    summary="PIPL export of one member (JSON, or ?format=xlsx)",
    openapi_extra={
        "responses": {
            200: {
                "description": "OK",
                "content": {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "format": "binary"}
                    }
                },
            }
        }
    },
)
@require("members.export_member_pi", "members:pii")
def member_pi_export(request, member_id: int, format: Literal["json", "xlsx"] = "json"):
    member = _visible(request, member_id)
    # The files exist only for this response: no copy of the person's data stays on the server.
    with tempfile.TemporaryDirectory(prefix="laoke-pipl-") as tmp:
        paths = services.member_pi_export(member_id=member.pk, out_dir=Path(tmp))
        if format == "xlsx":
            resp = HttpResponse(
                paths["xlsx"].read_bytes(),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            resp["Content-Disposition"] = f'attachment; filename="{paths["xlsx"].name}"'
            resp["Cache-Control"] = "no-store"
            return resp
        return json.loads(paths["json"].read_text(encoding="utf-8"))


class ForgetIn(In):
    reason: str = Field(..., min_length=1, max_length=200)


@router.post("/{int:member_id}/forget", response=dict, summary="PIPL deletion: anonymise the member")
@require("members.forget_member", "members:write")
def member_forget(request, member_id: int, payload: ForgetIn):
    member = _visible(request, member_id)
    services.member_forget(member_id=member.pk, reason=payload.reason)
    return {"id": member.pk, "status": "anonymised"}

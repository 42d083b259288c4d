"""Core endpoints: who am I, stores, the audit log."""

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from . import selectors, services
from .api import idempotent_write, paginate, require
from .models import Store

router = Router(tags=["core"])


class WhoAmI(Schema):
    username: str
    roles: list[str]
    scopes: list[str] | None


@router.get("/whoami", response=WhoAmI, summary="The authenticated staff user or token")
def whoami(request):
    token = getattr(request, "api_token", None)
    return {
        "username": request.user.username,
        "roles": sorted(request.user.groups.values_list("name", flat=True)),
        "scopes": token.scopes if token else None,
    }


class StoreIn(Schema):
    code: str = Field(..., max_length=32)
    name: str = Field(..., max_length=100)
    kind: Store.Kind = Store.Kind.STORE
    parent_code: str | None = None
    address: str = Field("", max_length=255)


class StoreOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    address: str
    is_active: bool


class StorePage(Schema):
    items: list[StoreOut]
    next_cursor: str | None


@router.get("/stores", response=StorePage, summary="List stores and branches")
@require("core.view_store", "members:read")
def store_list(request, cursor: str | None = None, limit: int = 50):
    items, nxt = paginate(selectors.store_list(), cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": nxt}


@router.post("/stores", response={201: StoreOut}, summary="Create a store or branch")
@require("core.add_store", "members:write")
def store_create(request, payload: StoreIn):
    parent = get_object_or_404(Store, code=payload.parent_code) if payload.parent_code else None

    def call(claim):
        return services.store_create(
            code=payload.code,
            name=payload.name,
            kind=payload.kind,
            parent=parent,
            address=payload.address,
            idem=claim,
        )

    def render(store):
        return 201, StoreOut.from_orm(store).dict()

    return idempotent_write(request, scope="stores.create", payload=payload.dict(), call=call, render=render)


class AuditOut(Schema):
    id: int
    at: datetime
    actor_label: str
    action: str
    object_type: str
    object_id: str
    before: dict | None
    after: dict | None
    ip: str | None
    request_id: str


class AuditPage(Schema):
    items: list[AuditOut]
    next_cursor: str | None


@router.get("/audit", response=AuditPage, summary="The audit log, newest first")
@require("core.view_auditentry", "audit:read")
def audit_list(
    request,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
):
    qs = selectors.audit_list(action=action, object_type=object_type, object_id=object_id)
    items, nxt = paginate(qs, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": nxt}

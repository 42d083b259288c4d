"""Group accounts (集体: company, family) and the corporate archive (hotel, B2B: 单位 with
contact, annual spend, agreed price rate and class 重点/会议/潜在).

A group account's members are seen by holders of ``members.see_group_members`` (service
managers, admins, API clients), not by service agents (the object rule, selectors.py).

Re-exported by services.py: call them as ``laoke.members.services.<name>``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from laoke.core import clock
from laoke.core.audit import audit_write, diff
from laoke.core.errors import FIELD_INVALID, NOT_FOUND, DomainError
from laoke.core.models import Store
from laoke.core.validation import check_choice, check_length, require

from .error_codes import GROUP_NAME_REQUIRED
from .models import CorporateAccount, GroupAccount
from .validation import normalize_mobile

# --- group accounts -------------------------------------------------------------------------------


def clean_group_data(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in data:
        if key not in ("name", "kind", "contact_name", "contact_mobile", "manager", "home_store"):
            raise DomainError(FIELD_INVALID, field=key)
    if "name" in data or creating:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise DomainError(GROUP_NAME_REQUIRED, field="name")
        check_length("name", name, 120)
        out["name"] = name.strip()
    if "kind" in data:
        check_choice("kind", data["kind"], GroupAccount.Kind.choices)
        out["kind"] = str(data["kind"])
    if "contact_name" in data:
        check_length("contact_name", data["contact_name"] or "", 60)
        out["contact_name"] = (data["contact_name"] or "").strip()
    if "contact_mobile" in data:
        out["contact_mobile"] = normalize_mobile(data["contact_mobile"], field="contact_mobile") or ""
    if "manager" in data:
        manager = data["manager"]
        if manager is not None and not (getattr(manager, "pk", None) and manager.is_staff):
            raise DomainError(FIELD_INVALID, field="manager")
        out["manager"] = manager
    if "home_store" in data:
        store = data["home_store"]
        if store is not None and not isinstance(store, Store):
            raise DomainError(FIELD_INVALID, field="home_store")
        out["home_store"] = store
    return out


def _group_snapshot(group: GroupAccount) -> dict[str, Any]:
    return {
        "name": group.name,
        "kind": group.kind,
        "contact_name": group.contact_name,
        "contact_mobile": group.contact_mobile,
        "manager": group.manager_id,
        "home_store": group.home_store_id,
    }


def group_account_create(
    *,
    name: str,
    kind: str = GroupAccount.Kind.COMPANY,
    contact_name: str = "",
    contact_mobile: str = "",
    manager=None,
    home_store: Store | None = None,
    actor=None,
) -> GroupAccount:
    """A 集体 account (company, family); its members are seen by managers, not by agents."""
    values = clean_group_data(
        {
            "name": name,
            "kind": kind,
            "contact_name": contact_name,
            "contact_mobile": contact_mobile,
            "manager": manager,
            "home_store": home_store,
        },
        creating=True,
    )
    with transaction.atomic(durable=True):
        group = GroupAccount.objects.create(created_at=clock.now(), **values)
        audit_write(action="group_account.create", obj=group, after=_group_snapshot(group), actor=actor)
    return group


def group_account_update(*, group_id: int, data: dict[str, Any], actor=None) -> GroupAccount:
    values = clean_group_data(data, creating=False)
    with transaction.atomic(durable=True):
        group = GroupAccount.objects.select_for_update().filter(pk=group_id).first()
        if group is None:
            raise DomainError(NOT_FOUND, field="group_id")
        before = _group_snapshot(group)
        for key, value in values.items():
            setattr(group, key, value)
        group.save()
        b, a = diff(before, _group_snapshot(group))
        if a:
            audit_write(action="group_account.update", obj=group, before=b, after=a, actor=actor)
    return group


# --- corporate archive ----------------------------------------------------------------------------

_CORP_TEXT = {"unit_name": 200, "contact_name": 60, "position": 60, "phone": 30, "address": 255}
_CORP_INT = {"annual_spend_fen": None, "agreed_discount_bp": 10_000}


def clean_corporate_data(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in data:
        if key not in _CORP_TEXT and key not in _CORP_INT and key not in ("klass", "group_account"):
            raise DomainError(FIELD_INVALID, field=key)
    for key, max_len in _CORP_TEXT.items():
        if key in data:
            value = data[key] or ""
            if not isinstance(value, str):
                raise DomainError(FIELD_INVALID, field=key)
            check_length(key, value, max_len)
            out[key] = value.strip()
    if "klass" in data:
        check_choice("klass", data["klass"], CorporateAccount.Klass.choices)
        out["klass"] = str(data["klass"])
    for key, upper in _CORP_INT.items():
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise DomainError(FIELD_INVALID, field=key)
            if upper is not None and value > upper:
                raise DomainError(FIELD_INVALID, field=key)
            out[key] = value
    if "group_account" in data:
        group = data["group_account"]
        if group is not None and not isinstance(group, GroupAccount):
            group = GroupAccount.objects.filter(pk=group).first() if isinstance(group, int) else None
            if group is None:
                raise DomainError(NOT_FOUND, field="group_account")
        out["group_account"] = group
    return out


def _corp_snapshot(corp: CorporateAccount) -> dict[str, Any]:
    # The contact's phone is personal information: audited as changed, not by value.
    return {
        "unit_name": corp.unit_name,
        "contact_name": corp.contact_name,
        "position": corp.position,
        "phone": "***" if corp.phone else "",
        "address": corp.address,
        "annual_spend_fen": corp.annual_spend_fen,
        "agreed_discount_bp": corp.agreed_discount_bp,
        "klass": corp.klass,
        "group_account": corp.group_account_id,
    }


def corporate_account_create(*, data: dict[str, Any], actor=None) -> CorporateAccount:
    """Corporate archive (hotel, B2B): 单位, contact, position, phone, address, annual spend
    (fen), agreed price rate (bp), class 重点/会议/潜在."""
    values = clean_corporate_data(data)
    require("unit_name", values.get("unit_name"))
    with transaction.atomic(durable=True):
        corp = CorporateAccount.objects.create(created_at=clock.now(), **values)
        audit_write(action="corporate.create", obj=corp, after=_corp_snapshot(corp), actor=actor)
    return corp


def corporate_account_update(*, corporate_id: int, data: dict[str, Any], actor=None) -> CorporateAccount:
    values = clean_corporate_data(data)
    if "unit_name" in values:
        require("unit_name", values["unit_name"])
    with transaction.atomic(durable=True):
        corp = CorporateAccount.objects.select_for_update().filter(pk=corporate_id).first()
        if corp is None:
            raise DomainError(NOT_FOUND, field="corporate_id")
        before = _corp_snapshot(corp)
        for k, v in values.items():
            setattr(corp, k, v)
        corp.save()
        b, a = diff(before, _corp_snapshot(corp))
        if a:
            audit_write(action="corporate.update", obj=corp, before=b, after=a, actor=actor)
    return corp

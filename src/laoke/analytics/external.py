"""Import an externally run campaign (SPEC 11) so it gets the same report as Laoke's own.

Contacts CSV ``member_ref,arm,contacted_at`` — arm ``control`` is the holdout, any other label a
treatment arm; orders CSV ``member_ref,ordered_at,amount`` — amount in yuan. The files are read by
``core.tabular`` (UTF-8 with or without a BOM, GBK/GB18030, or xlsx; headers case-insensitive;
spreadsheet guards such as ``="…"`` and a leading ``'`` removed). Times and amounts are parsed
by ``core.tabular.parse_time`` / ``parse_yuan``: ISO 8601 or 2026/06/01 10:00 (a date alone is
midnight), without an offset shop time (Asia/Shanghai); yuan with at most two decimals. A member_ref is
looked up as a ``MemberRef`` of source ``external``, then as a member number; unknown references
become bare members with that ``MemberRef`` (no contact data, nothing of value).

Everything is validated first and every problem is reported by file, row and column; a file with
any problem imports nothing. Then one transaction: the campaign (source external, completed), the
members created, contacts and orders inserted in chunks tagged with the job id, one audit row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from django.db import transaction

from laoke.campaigns.models import Campaign, CampaignState, Objective, Source
from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.bulk import insert_rows
from laoke.core.errors import DomainError, ErrorCode, RowError, RowErrors
from laoke.core.tabular import ROW_UNDECODABLE, parse_time, parse_yuan, read_table
from laoke.members.services import _members_for_refs

from .error_codes_evaluation import (
    ANALYTICS_CAMPAIGN_NAME_TAKEN,
    ANALYTICS_IMPORT_INVALID,
    ANALYTICS_WINDOW_INVALID,
    ROW_AMOUNT,
    ROW_COLUMNS,
    ROW_DATETIME,
    ROW_DUPLICATE,
    ROW_EMPTY_FILE,
    ROW_HEADER_MISSING,
    ROW_REQUIRED,
    ROW_TOO_LONG,
)
from .models import ExternalCampaign, ExternalContact, ExternalOrder

__all__ = ["external_campaign_import", "parse_time", "parse_yuan"]  # the parsers: api, console, cli

REF_SOURCE = "external"
CONTACT_COLUMNS = ("member_ref", "arm", "contacted_at")
ORDER_COLUMNS = ("member_ref", "ordered_at", "amount")
CHUNK = 5000


class _Rows:
    """A file read by ``core.tabular`` with its header checked (case-insensitive); rows come with
    their number in the file. A row with fewer cells than the header is ROW_COLUMNS."""

    def __init__(self, name: str, stream: IO, columns: tuple[str, ...], errors: list[RowError]):
        self.name, self.errors, self.columns = name, errors, columns
        raw = stream.read()
        self.table = read_table(raw if isinstance(raw, bytes) else raw.encode("utf-8"), name)
        errors.extend(p for p in self.table.problems if p.error is ROW_UNDECODABLE)
        header = [h.lower() for h in self.table.headers]
        self.index = {}
        for col in columns:
            if col in header:
                self.index[col] = header.index(col)
            else:
                errors.append(RowError(name, 1, col, "", ROW_HEADER_MISSING))
        self.width = self.table.width

    def __iter__(self):
        if len(self.index) < len(self.columns):
            return
        if not self.table.rows:
            self.error(1, "", "", ROW_EMPTY_FILE)
        ragged = self.table.ragged
        for number, cells in self.table.rows:
            if ragged.get(number, self.width) < self.width:
                self.error(number, "", ",".join(cells), ROW_COLUMNS, expected=self.width)
                continue
            n = len(cells)
            yield number, {col: cells[i] if i < n else "" for col, i in self.index.items()}

    def error(self, row: int, column: str, value: str, code: ErrorCode, **params) -> None:
        self.errors.append(RowError(self.name, row, column, value, code, tuple(params.items())))

    def text(self, number: int, cells: dict, column: str, max_len: int) -> str | None:
        value = cells[column]
        if not value:
            self.error(number, column, value, ROW_REQUIRED)
            return None
        if len(value) > max_len:
            self.error(number, column, value, ROW_TOO_LONG, max=max_len)
            return None
        return value

    def when(self, number: int, cells: dict, column: str) -> datetime | None:
        value = parse_time(cells[column])
        if value is None:
            self.error(number, column, cells[column], ROW_DATETIME)
        return value


@dataclass
class _Parsed:
    contacts: list[tuple[int, str, str, datetime]]  # row, ref, arm, contacted_at
    orders: list[tuple[int, str, datetime, int]]  # row, ref, ordered_at, fen


def _parse(contacts: IO, orders: IO, contacts_name: str, orders_name: str) -> _Parsed:
    errors: list[RowError] = []
    parsed = _Parsed([], [])
    rows = _Rows(contacts_name, contacts, CONTACT_COLUMNS, errors)
    first: dict[str, int] = {}
    for number, cells in rows:
        ref = rows.text(number, cells, "member_ref", 128)
        arm = rows.text(number, cells, "arm", 40)
        at = rows.when(number, cells, "contacted_at")
        if ref is not None and ref in first:
            rows.error(number, "member_ref", ref, ROW_DUPLICATE, first=first[ref])
            continue
        if ref is not None:
            first[ref] = number
        if ref is not None and arm is not None and at is not None:
            parsed.contacts.append((number, ref, arm.lower() if arm.lower() == "control" else arm, at))
    rows = _Rows(orders_name, orders, ORDER_COLUMNS, errors)
    for number, cells in rows:
        ref = rows.text(number, cells, "member_ref", 128)
        at = rows.when(number, cells, "ordered_at")
        fen = parse_yuan(cells["amount"])
        if fen is None:
            rows.error(number, "amount", cells["amount"], ROW_AMOUNT)
        if ref is not None and at is not None and fen is not None:
            parsed.orders.append((number, ref, at, fen))
    if errors:
        raise RowErrors(ANALYTICS_IMPORT_INVALID, errors)
    return parsed


def external_campaign_import(
    *,
    name: str,
    contacts: IO,
    orders: IO,
    window_days: int = 30,
    cost_fen: int = 0,
    contacts_name: str = "contacts.csv",
    orders_name: str = "orders.csv",
    plain_terms: str = "",
    actor=None,
    now: datetime | None = None,
) -> dict:
    """Validate both files, then import them as one external campaign. Returns a summary with
    the campaign ``id``; raises RowErrors (nothing written) if any row is bad."""
    now = now or clock.now()
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise DomainError(ROW_REQUIRED if not name else ROW_TOO_LONG, field="name", column="name", max=120)
    if not 1 <= int(window_days) <= 365:
        raise DomainError(ANALYTICS_WINDOW_INVALID, field="window_days")
    if Campaign.objects.filter(name=name).exists():
        raise DomainError(ANALYTICS_CAMPAIGN_NAME_TAKEN, field="name", name=name)
    parsed = _parse(contacts, orders, contacts_name, orders_name)
    job = f"extcampaign:{uuid.uuid4().hex[:12]}"
    arms: dict[str, int] = {}
    for _, _, arm, _ in parsed.contacts:
        arms[arm] = arms.get(arm, 0) + 1
    with transaction.atomic(durable=True):
        campaign = Campaign.objects.create(
            name=name,
            plain_terms=plain_terms,
            objective=Objective.RETENTION,
            source=Source.EXTERNAL,
            seed=0,
            holdout_bp=0,
            state=CampaignState.COMPLETED,
            spent_fen=max(int(cost_fen), 0),
            started_at=min((c[3] for c in parsed.contacts), default=now),
            finished_at=now,
            members_drawn=len(parsed.contacts),
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
            updated_at=now,
        )
        refs = [c[1] for c in parsed.contacts] + [o[1] for o in parsed.orders]
        member_of, created = _members_for_refs(REF_SOURCE, refs, now=now, job_id=job)
        table = ExternalContact._meta.db_table
        rows = [(campaign.pk, member_of[ref], arm, at, row) for row, ref, arm, at in parsed.contacts]
        for i in range(0, len(rows), CHUNK):
            insert_rows(
                table, ("campaign_id", "member_id", "arm", "contacted_at", "row"), rows[i : i + CHUNK]
            )
        table = ExternalOrder._meta.db_table
        rows = [(campaign.pk, member_of[ref], at, fen, row) for row, ref, at, fen in parsed.orders]
        for i in range(0, len(rows), CHUNK):
            insert_rows(
                table, ("campaign_id", "member_id", "ordered_at", "amount_fen", "row"), rows[i : i + CHUNK]
            )
        ExternalCampaign.objects.create(
            campaign=campaign,
            window_days=window_days,
            contacts_file=contacts_name[:255],
            orders_file=orders_name[:255],
            contacts=len(parsed.contacts),
            orders=len(parsed.orders),
            members_created=created,
            job_id=job,
            imported_at=now,
        )
        summary = {
            "id": campaign.pk,
            "name": campaign.name,
            "job_id": job,
            "contacts": len(parsed.contacts),
            "orders": len(parsed.orders),
            "arms": dict(sorted(arms.items())),
            "members_created": created,
            "window_days": window_days,
            "warnings": [] if "control" in arms else ["no_control_arm"],
        }
        audit_write(action="campaign.import_external", obj=campaign, after=summary, actor=actor)
    return summary

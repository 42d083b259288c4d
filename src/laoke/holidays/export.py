"""The courier list (交邮政局的名单): one row per approved recipient with the address, phone, gift
level, the card message and the delivery window. xlsx through core.xlsx (openpyxl) or CSV (UTF-8
with BOM, so Excel opens it). After the courier deadline the export is refused unless asked for as
late, and a late file says so on every row."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from laoke.core.clock import to_local
from laoke.core.errors import DomainError
from laoke.core.xlsx import workbook_bytes

from . import error_codes as E
from .models import ApplicationState, GiftApplication, GiftCampaign

HEADERS = [
    "序号",
    "客户类型",
    "收件人",
    "单位",
    "地址",
    "联系电话",
    "礼品档次",
    "贺卡寄语",
    "送达时间",
    "备注",
]


@dataclass
class CourierFile:
    content: bytes
    filename: str
    content_type: str
    rows: int
    late: bool


def window_text(campaign: GiftCampaign) -> str:
    until = to_local(campaign.delivery_until)
    return f"{campaign.delivery_from:%Y-%m-%d} 至 {until:%Y-%m-%d %H:%M} 前"


def courier_rows(campaign: GiftCampaign, *, late: bool = False) -> list[list]:
    window = window_text(campaign)
    flag = "逾期交件" if late else ""
    rows = []
    apps = (
        GiftApplication.objects.filter(campaign=campaign, state=ApplicationState.APPROVED)
        .select_related("level")
        .order_by("recipient_type", "pk")
    )
    for n, app in enumerate(apps, start=1):
        rows.append(
            [
                n,
                app.get_recipient_type_display(),
                app.name,
                app.company,
                app.address,
                app.phone,
                app.level.name,
                campaign.card_message,
                window,
                flag,
            ]
        )
    return rows


def courier_file(campaign: GiftCampaign, *, fmt: str, allow_late: bool, today: date) -> CourierFile:
    if fmt not in ("xlsx", "csv"):
        raise DomainError(E.CAMPAIGN_INVALID, field="format")
    late = today > campaign.courier_deadline
    if late and not allow_late:
        raise DomainError(E.EXPORT_LATE, deadline=campaign.courier_deadline.isoformat())
    rows = courier_rows(campaign, late=late)
    stem = f"courier-{campaign.pk}-{campaign.year}{'-LATE' if late else ''}"
    if fmt == "xlsx":
        content = workbook_bytes([("邮寄名单", HEADERS, rows)])
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(HEADERS)
        writer.writerows(rows)
        content = ("\ufeff" + buf.getvalue()).encode("utf-8")
        ctype = "text/csv; charset=utf-8"
    return CourierFile(
        content=content, filename=f"{stem}.{fmt}", content_type=ctype, rows=len(rows), late=late
    )

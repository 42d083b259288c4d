"""`laoke channel …`: templates, preview, the direct-mail file (0600, never overwritten), the tick."""

from __future__ import annotations

import io
import json

from django.db import transaction
from openpyxl import load_workbook

from laoke.channels.services import TaskRow, _staff_tasks_create_bulk, message_template_create
from laoke.cli import main
from laoke.members.services import member_create


def test_channel_commands(db, tmp_path, capsys):
    t = message_template_create(
        name="提醒", channel="sms", kind="marketing", signature="老客", body="{name}，新品到店 回T退订"
    )
    m = member_create(name="钱十", mobile="13800001010", address="浙江省杭州市西湖区文三路 3 号")
    assert main(["channel", "templates", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == [
        {"id": t.pk, "name": "提醒", "channel": "sms", "kind": "marketing", "active": True}
    ]
    assert main(["channel", "preview", str(t.pk), "--member", str(m.pk), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["body"] == "【老客】钱十，新品到店 回T退订" and (out["segments"], out["cost_fen"]) == (1, 5)
    with transaction.atomic():
        _staff_tasks_create_bulk(
            [TaskRow(purpose="campaign:3:mail", member_id=m.pk, kind="mail", channel_code="DM3")]
        )
    target = tmp_path / "mail.xlsx"
    assert main(["channel", "mail-export", "--purpose-prefix", "campaign:3:", "--output", str(target)]) == 0
    assert (target.stat().st_mode & 0o777) == 0o600
    rows = list(
        load_workbook(io.BytesIO(target.read_bytes()), read_only=True).active.iter_rows(values_only=True)
    )
    assert [(r[2], r[9]) for r in rows[1:]] == [("钱十", "DM3")]
    assert main(["channel", "mail-export", "--purpose-prefix", "campaign:3:", "--output", str(target)]) == 2
    assert main(["channel", "tasks-tick"]) == 0

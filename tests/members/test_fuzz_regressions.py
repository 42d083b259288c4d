"""What the API fuzz (decision 0040) found in /api/v1/members: a control character in a member's
text (typed or imported) made the PIPL xlsx export (and any xlsx export) fail with 500."""

import io

from openpyxl import load_workbook

from laoke.core.xlsx import workbook_bytes
from laoke.members.services import member_create


def test_the_pipl_xlsx_export_drops_characters_xlsx_forbids(api):
    member = member_create(name="赵\x01敏\x1b", mobile="13800000012")
    r = api("service_manager").get(f"/api/v1/members/{member.pk}/pi-export", {"format": "xlsx"})
    assert r.status_code == 200, r.content[:300]  # was 500 (IllegalCharacterError)
    wb = load_workbook(io.BytesIO(r.content))
    rows = {row[0]: row[1] for row in wb["member"].iter_rows(min_row=2, values_only=True)}
    assert rows["name"] == "赵敏"
    # the JSON export keeps the text exactly as stored
    assert api("service_manager").get(f"/api/v1/members/{member.pk}/pi-export").json()["member"]["name"] == (
        "赵\x01敏\x1b"
    )


def test_every_xlsx_export_drops_them():
    data = workbook_bytes([("s", ["a", "b"], [["x\x00y\x07", "注\x1f释"]])])
    row = next(load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2, values_only=True))
    assert row == ("xy", "注释")

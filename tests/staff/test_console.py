"""The console pages of staff work: each renders for a permitted role and is refused to a role
without the right; the log form and the prospect form write through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from laoke.core import clock
from laoke.staff import services
from laoke.staff.models import Prospect, WorkLog
from tests.staff.fixtures import MON, local

PAGES = ["staff_index", "staff_log", "staff_prospects", "staff_assessment", "staff_assessment_xlsx"]


@pytest.mark.parametrize("name", PAGES)
def test_pages_render_for_a_rep_and_not_for_a_cashier(client, staff, team, name):
    client.force_login(team.rep)
    with clock.frozen(MON):
        assert client.get(reverse(name)).status_code == 200
    client.force_login(staff("cashier"))
    assert client.get(reverse(name)).status_code == 403


def test_my_day_shows_bars_due_visits_and_follow_ups(client, team):
    account = services.account_create(actor=team.head, name="东方公司", rep_id=team.rep.pk)
    with clock.frozen(MON):
        services.prospect_register(actor=team.rep, name="刘先生")
    with clock.frozen(local(2026, 6, 2, 9)):
        services.work_log_add(actor=team.rep, kind="call")
    client.force_login(team.rep)
    with clock.frozen(local(2026, 6, 2, 12)):
        html = client.get(reverse("staff_index"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-kind="call" data-done="1" data-target="4"' in html
    assert "东方公司" in html and "刘先生" in html
    assert account.pk


def test_manager_sees_a_rep_day_and_a_rep_cannot_see_another(client, team):
    client.force_login(team.head)
    with clock.frozen(MON):
        r = client.get(reverse("staff_index") + f"?rep={team.rep.pk}")
        assert r.status_code == 200 and r.context["rep"] == team.rep
        client.force_login(team.rep2)
        r = client.get(reverse("staff_index") + f"?rep={team.rep.pk}")
    assert r.status_code == 302


def test_log_form_and_prospect_forms_write(client, team):
    client.force_login(team.rep)
    with clock.frozen(local(2026, 6, 2, 15)):
        r = client.post(
            reverse("staff_prospects"), {"name": "新访客", "phone": "13700001234", "level": "H", "key": "1"}
        )
        assert r.status_code == 302
        p = Prospect.objects.get(name="新访客")
        assert (p.rep, p.level, p.key) == (team.rep, "H", True)
        r = client.post(
            reverse("staff_log"), {"kind": "new_visit", "prospect": p.pk, "at": "2026-06-02T14:00"}
        )
        assert r.status_code == 302
        log = WorkLog.objects.get(prospect=p)
        assert clock.to_local(log.at).hour == 14
        r = client.post(
            reverse("staff_prospect_close", args=[p.pk]), {"outcome": "won", "create_member": "1"}
        )
        assert r.status_code == 302
        p.refresh_from_db()
        assert p.status == "won" and p.member.mobile == "+8613700001234"


def test_assessment_page_files_and_signs(client, team):
    client.force_login(team.rep)
    with clock.frozen(local(2026, 7, 1)):
        client.post(reverse("staff_assessment_file"), {"month": "2026-06"})
        client.force_login(team.head)
        r = client.get(reverse("staff_assessment") + "?month=2026-06")
        assert r.status_code == 200 and b"chart-assessment" in r.content
        row = next(x for x in r.context["rows"] if x["rep"] == "rep")
        client.post(reverse("staff_assessment_sign", args=[row["assessment"].pk]), {"month": "2026-06"})
        row["assessment"].refresh_from_db()
    assert row["assessment"].state == "signed"

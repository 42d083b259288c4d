"""Console pages of holidays: rendered for permitted roles, refused to the others; decisions and
the export from the campaign page."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from laoke.core import clock
from laoke.holidays import services
from laoke.holidays.models import GiftApplication

from .helpers import campaign, form

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.parametrize(
    "role,status",
    [
        ("marketer", 200),
        ("sales_manager", 200),
        ("general_manager", 200),
        ("cashier", 200),
        ("redemption_clerk", 403),
        ("api_client", 403),
    ],
)
def test_index_page(staff, role, status):
    campaign(2026)
    r = _client(staff(role)).get(reverse("holidays_index"))
    assert r.status_code == status
    if status == 200 and role != "cashier":
        assert b'data-testid="gift-campaign"' in r.content


def test_campaign_page_review_and_export(staff):
    rep, smgr, plan, clerk = staff("sales_rep"), staff("service_manager"), staff("marketer"), staff("cashier")
    c = campaign(2026)
    url = reverse("holidays_campaign", args=[c.pk])
    assert _client(clerk).get(url).status_code == 403
    r = _client(rep).post(reverse("holidays_apply", args=[c.pk]), {**form(), "decision_power": "on"})
    assert r.status_code == 302
    app = GiftApplication.objects.get(campaign=c)
    assert app.requested_by == rep and app.decision_power
    page = _client(smgr).get(url)
    assert page.status_code == 200 and f'data-id="{app.pk}"'.encode() in page.content
    r = _client(smgr).post(
        reverse("holidays_decide", args=[app.pk]), {"step": "service_review", "decision": "approve"}
    )
    assert r.status_code == 302
    app.refresh_from_db()
    assert app.service_review_at is not None
    # a step the user may not decide is refused
    r = _client(rep).post(
        reverse("holidays_decide", args=[app.pk]), {"step": "sales_review", "decision": "approve"}
    )
    assert r.status_code == 403
    services.gift_application_review(
        application_id=app.pk, step="sales_review", approve=True, actor=staff("sales_manager")
    )
    services.gift_application_decide(application_id=app.pk, approve=True, actor=plan)
    with clock.frozen(datetime(2026, 9, 1, tzinfo=UTC)):
        assert b'data-testid="export-xlsx"' in _client(plan).get(url).content
        r = _client(plan).get(reverse("holidays_export", args=[c.pk]) + "?format=xlsx")
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2] == "张三"
    assert _client(rep).get(reverse("holidays_export", args=[c.pk])).status_code == 403

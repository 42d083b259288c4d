"""A sales team for the staff tests: branch 北区 (a sales manager, the branch head) with store
北一店 (reps ``rep`` and ``rep2``), another branch 南区 (rep ``far``) and a general manager."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

# Monday 1 June 2026, 10:00 in Shanghai
MON = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def local(y, m, d, hh=10, mm=0) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    from laoke.core import clock

    return datetime(y, m, d, hh, mm, tzinfo=clock.shop_tz()).astimezone(UTC)


@pytest.fixture
def team(staff):
    from laoke.core.services import store_create

    north = store_create(code="N", name="北区", kind="branch")
    shop = store_create(code="N1", name="北一店", parent=north)
    south = store_create(code="S", name="南区", kind="branch")
    return SimpleNamespace(
        north=north,
        shop=shop,
        south=south,
        head=staff("sales_manager", username="head", store=north),
        head2=staff("sales_manager", username="head2", store=north),
        rep=staff("sales_rep", username="rep", store=shop),
        rep2=staff("sales_rep", username="rep2", store=shop),
        far=staff("sales_rep", username="far", store=south),
        gm=staff("general_manager", username="gm"),
    )

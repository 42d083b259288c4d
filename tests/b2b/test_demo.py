"""The demo hook runs through the real services and leaves a board, a funnel and an overdue notice."""

from __future__ import annotations

import numpy as np
import pytest

from laoke.b2b.demo import demo_load
from laoke.b2b.models import ChargeAccount, ChargeEntry, OverdueNotice
from laoke.b2b.selectors import funnel
from laoke.core import clock

pytestmark = pytest.mark.django_db


def test_demo_load(roles):
    out = demo_load(rng=np.random.default_rng(7), now=clock.now())
    assert out["b2b_opportunities"] == 8 and out["b2b_overdue"] == OverdueNotice.objects.count() >= 1
    f = funnel()
    assert f.outcomes["won"] == 1 and f.outcomes["lost"] == 1
    for acc in ChargeAccount.objects.all():
        signed = sum(
            e.amount_fen if e.kind == "charge" else -e.amount_fen
            for e in ChargeEntry.objects.filter(account=acc)
        )
        assert acc.outstanding_fen == signed <= acc.credit_limit_fen

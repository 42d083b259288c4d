"""The demo hook loads a few reps with logs and prospects through the services, quickly."""

from __future__ import annotations

import random
import time

from laoke.core import clock
from laoke.staff.demo import demo_load
from laoke.staff.models import Prospect, WorkLog
from tests.staff.fixtures import local


def test_demo_load(roles):
    now = local(2026, 6, 12, 18)  # a Friday evening
    t = time.perf_counter()
    with clock.frozen(now):
        out = demo_load(rng=random.Random(7), now=now)
    assert time.perf_counter() - t < 5
    assert out["sales_reps"] == 3 and out["prospects"] == 12
    assert WorkLog.objects.count() == out["work_logs"] > 30
    assert Prospect.objects.filter(status="lost", lost_reason="price").count() == 3
    assert Prospect.objects.filter(status="won").count() == 1
    assert out["tick_suggested"] > 0

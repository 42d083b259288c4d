"""The demo hook loads cases and presets through the services; ``laoke service tick`` runs the
ticks and prints what they did as JSON."""

from __future__ import annotations

import argparse
import json
import random

import pytest

from laoke.core import clock
from laoke.service.cli import add_parser
from laoke.service.demo import demo_load
from laoke.service.models import ReactivationRule, ServiceCase

pytestmark = pytest.mark.django_db


def test_demo_load(desk):
    for _ in range(8):
        desk.customer()
    out = demo_load(rng=random.Random(3), now=clock.now())
    assert out["cases"] == 8 and ServiceCase.objects.count() == 8
    assert ServiceCase.objects.filter(state="resolved").count() == 1
    assert ServiceCase.objects.filter(escalation_level=1).count() == 1
    assert ReactivationRule.objects.get(name="休眠30天唤醒").is_active


def test_cli_tick(desk, capsys):
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(["service", "tick", "--now", "2027-02-06T01:00:00+00:00"])
    assert args.fn(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["service"] == {"from_reviews": 0, "escalated": 0} and out["reactivation"] == {}

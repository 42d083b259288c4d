"""Concurrent activations of shipping rule sets on PostgreSQL.

The guard: an activation locks every rule set in pk order before it looks for the active one, so
N concurrent activations of N different sets queue; each retires the one before it and exactly
one set is active at the end, every activation succeeding. Negative control: without the lock
(``services._UNGUARDED_FOR_TESTS``) two activations both see the old active set, and the second
to commit trips the one-active partial unique index (an IntegrityError: a 500 at the API).
"""

import pytest
from django.db import IntegrityError, connection

from laoke.shipping import services
from laoke.shipping.models import ShippingRuleSet
from tests.race import pg_threads, race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _sets(n):
    services.shipping_presets_install()
    return [services.shipping_rule_set_create(code=f"set-{i}", name=f"规则{i}").pk for i in range(n)]


def _activate_all(ids):
    def fn(i):
        try:
            services.shipping_rule_set_update(rule_set_id=ids[i], data={"is_active": True})
            return "ok"
        except IntegrityError:
            return "integrity"

    return race(len(ids), fn)


def test_concurrent_activations_leave_one_active():
    assert connection.vendor == "postgresql"
    ids = _sets(min(12, pg_threads()))
    results = _activate_all(ids)
    assert results == ["ok"] * len(ids)
    active = list(ShippingRuleSet.objects.filter(is_active=True).values_list("pk", flat=True))
    assert len(active) == 1 and active[0] in ids


def test_without_the_lock_activations_collide(monkeypatch):
    """Negative control."""
    ids = _sets(min(12, pg_threads()))
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    results = _activate_all(ids)
    assert "integrity" in results

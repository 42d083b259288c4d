"""The walk's harness: a known actor, a setup clock and a call clock, and the audit rows a call
wrote. Expected figures come from the ledger (``ledger.selectors.member_balances``, the transfer
rows) and the domain rows, read independently of what the service wrote into the audit row."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import TestCase

from laoke.core import clock, context
from laoke.core.models import AuditEntry

# A Tuesday, 2 June 2026, 10:00 in Shanghai (inside the points programme's redemption window).
SETUP_AT = datetime(2026, 6, 2, 2, 0, tzinfo=UTC)
CALL_AT = SETUP_AT + timedelta(minutes=7)

_n = itertools.count(1)


def seq() -> int:
    return next(_n)


@dataclass
class Row:
    """One audit row the call must write. ``obj`` is a model instance or (object_type, object_id);
    ``before``/``after`` are subsets the row's before/after must contain (None: not checked)."""

    action: str
    obj: Any
    before: dict | None = None
    after: dict | None = None

    def target(self) -> tuple[str, str]:
        if isinstance(self.obj, tuple):
            return self.obj[0], str(self.obj[1])
        return self.obj._meta.label_lower, str(self.obj.pk)


@dataclass
class Walk:
    actor: Any  # the staff user every call runs as (None: a system call)
    calls: list[list[AuditEntry]] = field(default_factory=list)
    system: bool = False

    def call(self, fn, /, *, pass_actor: bool = True, system: bool = False, **kwargs):
        """Run one service at CALL_AT as the actor (passed as ``actor=`` and set in the request
        context, as the API does); remember the audit rows it wrote."""
        self.system = system
        mark = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        user = None if system else self.actor
        if pass_actor and not system:
            kwargs["actor"] = user
        with clock.frozen(CALL_AT), context.using(user=user):
            with TestCase.captureOnCommitCallbacks(execute=True):
                result = fn(**kwargs)
        self.calls.append(list(AuditEntry.objects.filter(pk__gt=mark).order_by("pk")))
        return result


def check_rows(walk: Walk, expected: list[Row]) -> None:
    assert len(walk.calls) == 1, "a recipe makes exactly one walked call"
    rows = walk.calls[0]
    got = sorted((r.action, r.object_type, r.object_id) for r in rows)
    want = sorted((e.action, *e.target()) for e in expected)
    assert got == want, f"audit rows {got} != expected {want}"
    for r in rows:
        assert r.at == CALL_AT, f"{r.action}: at {r.at} is not the clock's {CALL_AT}"
        if walk.system:
            assert (r.actor_id, r.actor_label) == (None, "system"), (r.action, r.actor_label)
        else:
            assert r.actor_id == walk.actor.pk, f"{r.action}: actor {r.actor_id} != {walk.actor.pk}"
            assert r.actor_label == walk.actor.get_username()
    unused = list(rows)
    for e in expected:  # each expected row matches its own audit row (several may share a target)
        same = [r for r in unused if (r.action, r.object_type, r.object_id) == (e.action, *e.target())]
        problems = [(r.pk, _mismatch(r, e)) for r in same]
        match = next((r for r, (_pk, wrong) in zip(same, problems, strict=True) if not wrong), None)
        assert match is not None, f"{e.action}: no row with the expected before/after: {problems}"
        unused.remove(match)


def _mismatch(row: AuditEntry, e: Row) -> dict:
    wrong = {}
    for name, subset in (("before", e.before), ("after", e.after)):
        value = getattr(row, name) or {}
        for k, v in (subset or {}).items():
            if value.get(k, "<missing>") != v:
                wrong[f"{name}.{k}"] = {"row": value.get(k, "<missing>"), "expected": v}
    return wrong

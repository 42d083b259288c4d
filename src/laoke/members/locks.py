"""The one way to lock member rows: ``FOR NO KEY UPDATE`` on PostgreSQL.

A member lock serialises one member's value writes (two settlements, a settlement and a 销卡…).
``FOR UPDATE`` would also block the ``FOR KEY SHARE`` lock that PostgreSQL's deferred foreign-key
checks take at COMMIT on every row that references the member: a card recharge that credited the
wallet and then commits waits for a settlement holding the member row, which waits for the
recharge's wallet row — a deadlock (found by ``make load``). ``FOR NO KEY UPDATE`` still excludes
other member locks and updates, but lets those checks through, since nobody changes a member's id.
SQLite locks the whole database for a write, so the clause is moot there.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Member

NO_KEY = True  # tests/orders/test_deadlock_pg.py sets False for its negative control


def locked_members(qs: QuerySet | None = None) -> QuerySet:
    """``qs`` (all members by default) locked for the caller's transaction."""
    return (Member.objects.all() if qs is None else qs).select_for_update(no_key=NO_KEY)

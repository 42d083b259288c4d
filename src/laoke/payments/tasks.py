"""Huey tasks of payments: the reconciliation tick."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from laoke.core import clock

from .services import payments_tick


@db_periodic_task(crontab(minute="*"))
def payments_tick_periodic():
    with lock_task("payments-tick"):
        return payments_tick(clock.now())

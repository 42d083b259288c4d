"""Huey task: ``points_tick`` (expiry, reminders, repairs) every ten minutes with the business clock."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from laoke.core import clock

from .tick import points_tick


@db_periodic_task(crontab(minute="*/10"))
def points_tick_periodic():
    # One tick at a time (two would still be safe: guarded UPDATEs and unique keys).
    with lock_task("points-tick"):
        return points_tick(clock.now())

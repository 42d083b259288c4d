"""Huey periodic task of staff work: the day's plan suggestions and overdue cadences."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from laoke.core import clock

from .services import staff_tick


@db_periodic_task(crontab(minute="5", hour="*/2"))
def staff_tick_periodic():
    with lock_task("staff-tick"):
        return staff_tick(clock.now())

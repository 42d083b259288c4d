"""Huey tasks of the channels app (content half): the PIPL scrub of staff tasks every ten
minutes, a thin call of its ``*_tick(now)`` service with the business clock."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from laoke.core import clock

from .services import staff_tasks_privacy_tick


@db_periodic_task(crontab(minute="*/10"))
def staff_tasks_privacy_periodic():
    return staff_tasks_privacy_tick(clock.now())

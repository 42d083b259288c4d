"""Huey tasks of b2b: the daily overdue-collection tick."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from laoke.core import clock

from .services import b2b_tick


@db_periodic_task(crontab(minute="15", hour="*"))
def b2b_tick_periodic():
    return b2b_tick(clock.now())

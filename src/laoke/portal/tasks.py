"""Huey tasks of the member pages: drop ended login codes and sessions."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from laoke.core import clock

from .services import portal_tick


@db_periodic_task(crontab(minute="17"))
def portal_tick_periodic():
    return portal_tick(clock.now())

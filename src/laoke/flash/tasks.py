"""Huey tasks of the flash zone: the tick that rotates runs and opens the day's stock."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from laoke.core import clock

from .services import flash_tick


@db_periodic_task(crontab(minute="*"))
def flash_tick_periodic():
    return flash_tick(clock.now())

"""Huey tasks of the orders app: default COD reviews and order completion."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from laoke.core import clock

from .services import orders_tick


@db_periodic_task(crontab(minute="*/10"))
def orders_tick_periodic():
    return orders_tick(clock.now())

"""Huey periodic tasks of the service desk. Huey's crontab runs on UTC (``utc`` is left at its
default): reviews in and escalations every 10 minutes; greetings every hour (a rerun writes
nothing, and messages written before 09:00 shop time wait until then), so a stopped worker
catches up the same day; reactivation once a day at 01:00 UTC = 09:00 in Shanghai (each run with
members starts one campaign)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from laoke.core import clock

from .greetings import greetings_tick
from .reactivation import reactivation_tick
from .services import service_tick


@db_periodic_task(crontab(minute="*/10"))
def service_tick_periodic():
    with lock_task("service-tick"):
        return service_tick(clock.now())


@db_periodic_task(crontab(minute="5"))
def greetings_tick_periodic():
    with lock_task("greetings-tick"):
        return greetings_tick(clock.now())


@db_periodic_task(crontab(hour="1", minute="0"))
def reactivation_tick_periodic():
    with lock_task("reactivation-tick"):
        return reactivation_tick(clock.now())

"""Huey periodic tasks of the service desk: reviews in and escalations every 10 minutes,
greetings and reactivation once a day in the morning (shop time is the settings' TIME_ZONE)."""

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


@db_periodic_task(crontab(hour="8", minute="30"))
def greetings_tick_periodic():
    with lock_task("greetings-tick"):
        return greetings_tick(clock.now())


@db_periodic_task(crontab(hour="7", minute="0"))
def reactivation_tick_periodic():
    with lock_task("reactivation-tick"):
        return reactivation_tick(clock.now())

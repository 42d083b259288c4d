"""Huey tasks of the promotions app: the coupon expiry tick."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from laoke.core import clock

from .services import coupons_tick


@db_periodic_task(crontab(minute="3"))
def coupons_tick_periodic():
    return coupons_tick(clock.now())

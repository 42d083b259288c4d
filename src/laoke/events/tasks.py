"""Huey tasks of events: the lottery tick (open lotteries whose entry window began, close
member-day and card-number lotteries whose window ended, freezing their entrant lists)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from laoke.core import clock

from .services import lottery_tick


@db_periodic_task(crontab(minute="*/5"))
def lottery_tick_periodic():
    return lottery_tick(clock.now())

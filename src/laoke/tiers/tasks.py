"""Huey task: the tier downgrade review. Hourly, so a review day in shop time is caught soon after
its midnight whatever the worker's zone; ``tiers_tick`` runs each due review once per business
day, so the other 23 runs of the day find nothing due."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from laoke.core import clock

from .services import tiers_tick


@db_periodic_task(crontab(minute="7"))
def tiers_review_periodic():
    with lock_task("tiers-review"):
        return tiers_tick(clock.now()).summary()

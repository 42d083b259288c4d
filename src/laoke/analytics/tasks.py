"""Huey task of the CLV part: every day at 03:30 (shop time of the worker's clock), recompute the
member scores (RFM, P(alive), expected purchases, CLV). The lock keeps two workers from running
it at once."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from laoke.core import clock

from .scores import member_scores_refresh


@db_periodic_task(crontab(hour="3", minute="30"))
def member_scores_refresh_daily():
    with lock_task("member-scores-refresh"):
        return member_scores_refresh(now=clock.now()).as_dict()

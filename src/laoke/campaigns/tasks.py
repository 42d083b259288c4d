"""Huey task of the campaigns app: every minute, launch due campaigns, write due wave runs in
chunks and complete finished campaigns. Two workers may run it at once safely (each chunk holds
its run's row lock and advances the cursor in the same transaction); the lock keeps them from
queueing behind each other."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from laoke.core import clock

from .dispatch import campaigns_tick


@db_periodic_task(crontab(minute="*"))
def campaigns_tick_periodic():
    with lock_task("campaigns-tick"):
        return campaigns_tick(clock.now())

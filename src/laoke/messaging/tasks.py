"""Huey tasks: the dispatcher runs every minute and right after a commit that enqueued messages."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from laoke.core import clock

from .services import messaging_tick


@db_task()
def messaging_dispatch():
    with lock_task("messaging-dispatch-kick"):
        return messaging_tick(clock.now())


@db_periodic_task(crontab(minute="*"))
def messaging_dispatch_periodic():
    return messaging_tick(clock.now())

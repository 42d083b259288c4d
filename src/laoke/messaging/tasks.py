"""Huey tasks: the dispatcher runs every minute and right after a commit that enqueued messages
(the kick); the PIPL scrub of the outbox every ten minutes. Each task is a thin call of a
``*_tick(now)`` service with the business clock."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from laoke.core import clock

from .services import messaging_privacy_tick, messaging_tick


@db_task()
def messaging_dispatch():
    # Many commits in a burst enqueue many kicks: one running dispatcher is enough, the others
    # give up at once (two at a time would still be safe: claims skip each other's rows).
    with lock_task("messaging-dispatch-kick"):
        return messaging_tick(clock.now())


@db_periodic_task(crontab(minute="*"))
def messaging_dispatch_periodic():
    return messaging_tick(clock.now())


@db_periodic_task(crontab(minute="*/10"))
def messaging_privacy_periodic():
    return messaging_privacy_tick(clock.now())

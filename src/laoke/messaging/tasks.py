"""Huey tasks: the dispatcher runs every minute and right after a commit that enqueued messages
(the kick); the PIPL scrub of the outbox every ten minutes. Each task is a thin call of a
``*_tick(now)`` service with the business clock."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task, on_startup

from laoke.core import clock

from .services import (
    messaging_privacy_tick,
    messaging_receipts_pull_tick,
    messaging_resolve_leases,
    messaging_tick,
)

log = logging.getLogger("laoke.messaging")


@on_startup()
def messaging_resolve_at_start():
    """A worker that starts (after a crash, a deploy) first settles the leases a dead worker left
    behind, asking the providers, before it claims anything."""
    try:
        return messaging_resolve_leases(clock.now())
    except Exception:  # the database may not be ready yet: the first tick resolves them anyway
        log.exception("lease resolution at worker start failed")
        return None


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


@db_periodic_task(crontab(minute="*/5"))
def messaging_receipts_pull_periodic():
    return messaging_receipts_pull_tick(clock.now())

"""Huey tasks of ops: the daily backup (backup_tick decides whether today's backup is due)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from laoke.core import clock

from .backup import backup_tick


@db_periodic_task(
    crontab(minute="7")
)  # hourly: the tick backs up once per shop day from LAOKE_BACKUP_HOUR on
def backup_tick_periodic():
    with lock_task("backup-tick"):
        return backup_tick(clock.now())

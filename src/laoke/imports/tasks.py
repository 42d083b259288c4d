"""Huey tasks of the imports app: import checks and applies, exports — all in the background."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from laoke.core import clock
from laoke.core.errors import DomainError

from .services import import_job_apply, import_job_check, imports_tick
from .tasks_exports import *  # noqa: F403 - registers the export task with Huey


@db_task()
def import_check_task(job_id: str):
    with lock_task(f"import-{job_id}"):
        try:
            import_job_check(job_id=job_id)
        except DomainError:  # recorded on the job (state, failure) for the console to show
            pass


@db_task()
def import_apply_task(job_id: str):
    with lock_task(f"import-{job_id}"):
        try:
            import_job_apply(job_id=job_id)
        except DomainError:
            pass


@db_periodic_task(crontab(minute="*/10"))
def imports_tick_periodic():
    return imports_tick(clock.now())

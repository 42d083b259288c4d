"""Huey tasks of exports: write an export job's file in the background (one run per job at a time);
the daily clean-up of old files."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_task()
def export_job_run_task(job_id: str):
    from .exports import export_job_run

    with lock_task(f"export-{job_id}"):
        return export_job_run(job_id=job_id).state


@db_periodic_task(crontab(hour="3", minute="17"))
def exports_tick_periodic():
    """Delete export files older than a week; fail jobs whose worker died."""
    from laoke.core import clock

    from .exports import exports_tick

    return exports_tick(clock.now())

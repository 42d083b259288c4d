"""Huey task of exports: write an export job's file in the background (one job at a time per id)."""

from huey.contrib.djhuey import db_task, lock_task


@db_task()
def export_job_run_task(job_id: str):
    from .exports import export_job_run

    with lock_task(f"export-{job_id}"):
        return export_job_run(job_id=job_id).state

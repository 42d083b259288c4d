"""Exports of lists to xlsx and CSV (SPEC 15, decision 0029).

A *kind* is one list a shop takes out: its code, label, the permission needed to see the list (and
the API token scope), its parameters and a ``build`` function that returns the headers, the row
count and an iterator of rows read from the database by keyset pages of ``CHUNK`` rows (no
server-side cursor held open, so the writer may commit progress between pages; never the whole
list in memory).

An ``ExportJob`` is created by :func:`export_job_create` (validation, permission, an
``export.create`` audit row with the kind, selection and row count, all in one transaction; the
background task is queued after commit) and written by :func:`export_job_run`: openpyxl's
write-only workbook or the csv module (UTF-8 with a BOM so Excel on Chinese Windows opens it),
``rows_done`` committed after every page, then ``done`` (with ``export.done`` audited) or
``failed``. Datetimes are shown in shop time (Asia/Shanghai), money in yuan with two decimals.
Personal data (mobile, email, address, ID number, birth year) is masked unless the requester
held ``members.view_pii`` (and, for an API token, the ``members:pii`` scope) when asking.
"""

from __future__ import annotations

import csv
import os
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, PERMISSION_DENIED, DomainError

from .error_codes_exports import (
    EXPORT_FORMAT_INVALID,
    EXPORT_NOT_READY,
    EXPORT_PARAM_INVALID,
)
from .export_kinds import CHUNK, KINDS, Ctx, ExportKind, Listing, Param, kind_get, kinds_for, register, yuan
from .models import ExportJob

KEEP_DAYS = 7  # finished files are deleted after this many days (they hold personal data)
STALE_HOURS = 6  # a job "running" this long lost its worker: marked failed
FORMATS = ("xlsx", "csv")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
# Keys the service adds to a job's params (never taken from the caller).
_AT, _UNMASKED, _LANG, _SYSTEM = "_at", "_unmasked", "_lang", "_system"


class SystemActor:
    """The operator at the shell (``laoke export`` without ``--as``): may export every list; the
    job has no user. PII stays masked unless the command asks (``--unmasked``)."""

    pk = None
    is_active = True

    def has_perm(self, perm: str) -> bool:
        return True

    def get_username(self) -> str:
        return "system"


SYSTEM = SystemActor()


# --- services ------------------------------------------------------------------------------------


def params_clean(kind: ExportKind, raw: dict | None) -> dict:
    """The caller's params checked against the kind: unknown names, wrong types and missing
    required ones are EXPORT_PARAM_INVALID naming the parameter; empty values are dropped."""
    raw = dict(raw or {})
    known = {p.name: p for p in kind.params}
    out: dict[str, Any] = {}
    for name, value in raw.items():
        p = known.get(name)
        if p is None:
            raise DomainError(EXPORT_PARAM_INVALID, field=str(name)[:40], reason="unknown parameter")
        if value is None or value == "":
            continue
        try:
            out[name] = p.parse(value)
        except (TypeError, ValueError) as exc:
            raise DomainError(EXPORT_PARAM_INVALID, field=name, reason=str(exc)[:100]) from exc
    for p in kind.params:
        if p.required and p.name not in out:
            raise DomainError(EXPORT_PARAM_INVALID, field=p.name, reason="required")
    if out.get("from") and out.get("to") and out["from"] > out["to"]:
        raise DomainError(EXPORT_PARAM_INVALID, field="to", reason="before from")
    return out


def _selection(params: dict) -> dict:
    return {k: v for k, v in params.items() if not k.startswith("_")}


def _ctx(job: ExportJob) -> Ctx:
    at = datetime.fromisoformat(job.params[_AT]) if job.params.get(_AT) else job.created_at
    user = SYSTEM if job.params.get(_SYSTEM) else job.created_by
    return Ctx(user=user, unmasked=bool(job.params.get(_UNMASKED)), at=at)


def export_job_create(
    *,
    kind: str,
    params: dict | None,
    format: str = "xlsx",
    actor,
    unmasked: bool | None = None,
    enqueue: bool = True,
    idem: idempotency.Claim | None = None,
) -> ExportJob:
    """Ask for an export: validate the kind, its params and the format, check that ``actor`` may
    see the list, count its rows, then create the job and its ``export.create`` audit row in one
    transaction; the background task is queued after commit (``enqueue``). ``unmasked`` narrows
    PII (an API token without ``members:pii``); by default PII is shown to holders of
    ``members.view_pii``."""
    k = kind_get(kind)
    if format not in FORMATS:
        raise DomainError(EXPORT_FORMAT_INVALID, field="format")
    if actor is None or not actor.has_perm(k.permission):
        raise DomainError(PERMISSION_DENIED)
    clean = params_clean(k, params)
    if k.check:
        k.check(clean)
    if actor is SYSTEM:
        shown = bool(unmasked)
    else:
        shown = actor.has_perm("members.view_pii") and (unmasked is None or unmasked)
    now = clock.now()
    stored = {
        **clean,
        _AT: now.isoformat(),
        _UNMASKED: bool(k.pii and shown),
        _LANG: translation.get_language() or settings.LANGUAGE_CODE,
    }
    if actor is SYSTEM:
        stored[_SYSTEM] = True
    rows = k.build(clean, Ctx(user=actor, unmasked=stored[_UNMASKED], at=now)).total
    with transaction.atomic(durable=True):
        job = ExportJob.objects.create(
            job_id=f"exp-{clock.to_local(now):%Y%m%d%H%M%S}-{secrets.token_hex(4)}",
            kind=k.code,
            params=stored,
            format=format,
            rows_total=rows,
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
        )
        audit_write(
            action="export.create",
            obj=job,
            after={
                "job_id": job.job_id,
                "kind": k.code,
                "params": clean,
                "format": format,
                "rows": rows,
                "unmasked": stored[_UNMASKED],
            },
            actor=None if actor is SYSTEM else actor,
        )
        idempotency.complete(idem, job)
        if enqueue:
            transaction.on_commit(lambda: _enqueue(job.job_id))
    return job


def _enqueue(job_id: str) -> None:
    from .tasks_exports import export_job_run_task

    export_job_run_task(job_id)


def export_dir() -> Path:
    path = Path(settings.EXPORT_DIR) / "lists"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _xlsx_value(value):
    if isinstance(value, datetime):  # shop time, naive (xlsx has no time zones)
        return clock.to_local(value).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, (dict, list, tuple, set)):
        return str(value)
    return value


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (clock.to_local(value) if value.tzinfo else value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Writer:
    """One output file: xlsx (openpyxl write-only) or CSV (UTF-8 with BOM)."""

    def __init__(self, path: Path, fmt: str, title: str, headers: list[str]):
        self.path, self.fmt = path, fmt
        if fmt == "xlsx":
            from openpyxl import Workbook
            from openpyxl.cell import WriteOnlyCell
            from openpyxl.styles import Font

            self.wb = Workbook(write_only=True)
            self.ws = self.wb.create_sheet(
                (title or "export")[:31].translate(str.maketrans("[]:*?/\\", "()____ "))
            )
            bold = Font(bold=True)
            cells = []
            for h in headers:
                c = WriteOnlyCell(self.ws, value=h)
                c.font = bold
                cells.append(c)
            self.ws.append(cells)
            self._cell = WriteOnlyCell
        else:
            self.fh = path.open("w", encoding="utf-8-sig", newline="")
            self.csv = csv.writer(self.fh)
            self.csv.writerow(headers)

    def write(self, row: list) -> None:
        if self.fmt == "xlsx":
            self.ws.append([self._money(v) if isinstance(v, Decimal) else _xlsx_value(v) for v in row])
        else:
            self.csv.writerow([_csv_value(v) for v in row])

    def _money(self, value: Decimal):
        c = self._cell(self.ws, value=value)
        c.number_format = "0.00"  # yuan shown with two decimals in Excel too
        return c

    def close(self) -> None:
        if self.fmt == "xlsx":
            self.wb.save(self.path)
        else:
            self.fh.close()


def _file_name(job: ExportJob) -> str:
    return f"{job.kind}-{clock.to_local(job.created_at):%Y%m%d-%H%M%S}.{job.format}"


def export_job_run(*, job_id: str, progress: Callable[[int, int], None] | None = None) -> ExportJob:
    """Write the job's file (from ``pending``; a job already taken returns as it is). Progress is
    committed after every page of rows (short transactions); the file is written to a ``.part``
    name and renamed when complete. Ends ``done`` (audited ``export.done`` with the rows written)
    or ``failed`` (the reason kept, the partial file removed). ``progress(done, total)`` is called
    after every page (the CLI's bar)."""
    with transaction.atomic(durable=True):
        taken = ExportJob.objects.filter(job_id=job_id, state=ExportJob.State.PENDING).update(
            state=ExportJob.State.RUNNING, started_at=clock.now()
        )
    job = ExportJob.objects.select_related("created_by").filter(job_id=job_id).first()
    if job is None:
        raise DomainError(NOT_FOUND, field="job_id")
    if not taken:
        return job
    path = export_dir() / f"{job.job_id}.{job.format}"
    part = path.with_name(path.name + ".part")
    written = 0
    try:
        k = kind_get(job.kind)
        ctx = _ctx(job)
        if ctx.user is None or not ctx.user.is_active or not ctx.user.has_perm(k.permission):
            raise DomainError(PERMISSION_DENIED)
        with translation.override(job.params.get(_LANG) or settings.LANGUAGE_CODE):
            listing = k.build(_selection(job.params), ctx)
            total = listing.total
            with transaction.atomic(durable=True):
                ExportJob.objects.filter(pk=job.pk).update(rows_total=total)
            writer = _Writer(part, job.format, listing.title, listing.headers)
            try:
                for row in listing.rows:
                    writer.write(row)
                    written += 1
                    if written % CHUNK == 0:
                        with transaction.atomic(durable=True):
                            ExportJob.objects.filter(pk=job.pk).update(rows_done=written)
                        if progress:
                            progress(written, max(total, written))
            finally:
                writer.close()
        os.chmod(part, 0o600)  # personal data: readable by the service's user only
        os.replace(part, path)
        size = path.stat().st_size
        with transaction.atomic(durable=True):
            ExportJob.objects.filter(pk=job.pk).update(
                state=ExportJob.State.DONE,
                rows_done=written,
                rows_total=written,  # the list as written (rows may have come or gone since the count)
                file_name=_file_name(job),
                file_path=str(path),
                file_size=size,
                finished_at=clock.now(),
            )
            audit_write(
                action="export.done",
                obj=job,
                after={"job_id": job.job_id, "kind": job.kind, "rows": written, "bytes": size},
                actor=job.created_by,  # None (system) for the shell
            )
        if progress:
            progress(written, written)
    except Exception as exc:
        part.unlink(missing_ok=True)
        reason = exc.message("en") if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        with transaction.atomic(durable=True):
            ExportJob.objects.filter(pk=job.pk).update(
                state=ExportJob.State.FAILED,
                rows_done=written,
                failure=reason[:2000],
                finished_at=clock.now(),
            )
    job.refresh_from_db()
    return job


# --- reads ---------------------------------------------------------------------------------------


def exports_tick(now: datetime | None = None, *, keep_days: int = KEEP_DAYS) -> dict[str, int]:
    """Daily: delete the files of jobs finished more than ``keep_days`` ago (the rows stay, the
    download answers EXPORT_FILE_MISSING) and mark jobs that have been running for more than
    ``STALE_HOURS`` (their worker died) as failed, their partial file removed."""
    now = now or clock.now()
    purged = stale = 0
    old = ExportJob.objects.filter(finished_at__lt=now - timedelta(days=keep_days)).exclude(file_path="")
    for pk, file_path in old.values_list("pk", "file_path"):
        Path(file_path).unlink(missing_ok=True)
        with transaction.atomic(durable=True):
            purged += ExportJob.objects.filter(pk=pk).update(file_path="")
    running = ExportJob.objects.filter(
        state=ExportJob.State.RUNNING, started_at__lt=now - timedelta(hours=STALE_HOURS)
    )
    for pk, job_id, fmt in running.values_list("pk", "job_id", "format"):
        (export_dir() / f"{job_id}.{fmt}.part").unlink(missing_ok=True)
        with transaction.atomic(durable=True):
            stale += ExportJob.objects.filter(pk=pk, state=ExportJob.State.RUNNING).update(
                state=ExportJob.State.FAILED,
                failure="the worker stopped before the file was complete",
                finished_at=now,
            )
    return {"purged": purged, "stale": stale}


def can_see_all_jobs(user) -> bool:
    return bool(user.has_perm("imports.change_exportjob"))


def export_jobs_for(user, *, all_jobs: bool = False) -> QuerySet[ExportJob]:
    """The user's own export jobs; every job for those who may see all (the admin) and ask."""
    qs = ExportJob.objects.select_related("created_by")
    if all_jobs and can_see_all_jobs(user):
        return qs
    return qs.filter(created_by=user)


def export_job_get(*, job_id: str, user) -> ExportJob:
    job = export_jobs_for(user, all_jobs=True).filter(job_id=job_id).first()
    if job is None:
        raise DomainError(NOT_FOUND, field="job_id")
    return job


def export_job_file(*, job_id: str, user) -> tuple[ExportJob, Path]:
    """The finished file of a job the user may see (still allowed to see the list):
    EXPORT_NOT_READY until done, EXPORT_FILE_MISSING when it was removed."""
    from .error_codes_exports import EXPORT_FILE_MISSING

    job = export_job_get(job_id=job_id, user=user)
    k = KINDS.get(job.kind)
    if k is not None and not user.has_perm(k.permission):
        raise DomainError(PERMISSION_DENIED)
    if job.state != ExportJob.State.DONE:
        raise DomainError(EXPORT_NOT_READY, state=job.state)
    path = Path(job.file_path)
    if not path.is_file():
        raise DomainError(EXPORT_FILE_MISSING)
    return job, path


def job_as_dict(job: ExportJob) -> dict:
    total = job.rows_total or 0
    return {
        "job_id": job.job_id,
        "kind": job.kind,
        "params": _selection(job.params or {}),
        "format": job.format,
        "state": job.state,
        "rows_done": job.rows_done,
        "rows_total": total,
        "percent": 100
        if job.state == ExportJob.State.DONE
        else (min(99, job.rows_done * 100 // total) if total else 0),
        "file_name": job.file_name,
        "file_size": job.file_size,
        "failure": job.failure,
        "unmasked": bool((job.params or {}).get(_UNMASKED)),
        "created_by": job.created_by.get_username() if job.created_by else "",
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


__all__ = [
    "CHUNK",
    "CONTENT_TYPES",
    "FORMATS",
    "KEEP_DAYS",
    "KINDS",
    "SYSTEM",
    "ExportKind",
    "Listing",
    "Param",
    "export_job_create",
    "export_job_file",
    "export_job_get",
    "export_job_run",
    "export_jobs_for",
    "exports_tick",
    "job_as_dict",
    "kind_get",
    "kinds_for",
    "params_clean",
    "register",
    "yuan",
]

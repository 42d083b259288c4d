"""Import jobs: create (store the upload), check (the dry run), apply; saved column mappings.

The stages and their transactions are in ``pipeline``; this module keeps the job row honest:
its state, its progress (saved between chunks, so the console and the CLI can show it), the
problems found, the plan and the result, and an audit row for each step.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import FIELD_REQUIRED, NOT_FOUND, DomainError, RowError
from laoke.core.validation import check_length

from . import error_codes as E
from .fields import FIELDS
from .models import ImportJob, ImportKind, ImportMapping
from .pipeline import apply, job_dir, parse_job, plan_of

Progress = Callable[[str, int, int], None]
MAX_NOTIFY = 300
OPTIONS = {"award_points", "notify_text", "template_id"}


def _safe_name(name: str) -> str:
    base = re.sub(r"[^\w.\-]+", "_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip("._") or "file"
    return base[-120:]


def _clean_options(kind: str, options: dict[str, Any] | None) -> dict[str, Any]:
    options = dict(options or {})
    unknown = set(options) - OPTIONS
    if unknown:
        raise DomainError(E.IMPORT_OPTION_INVALID, field="options", option=sorted(unknown)[0])
    out: dict[str, Any] = {}
    if options.get("award_points"):
        if not isinstance(options["award_points"], bool) or kind not in (
            ImportKind.TAOBAO,
            ImportKind.ORDERS,
        ):
            raise DomainError(E.IMPORT_OPTION_INVALID, field="award_points", option="award_points")
        out["award_points"] = True
    text = options.get("notify_text") or ""
    if text:
        if not isinstance(text, str) or kind not in (
            ImportKind.TAOBAO,
            ImportKind.ORDERS,
            ImportKind.MEMBERS,
        ):
            raise DomainError(E.IMPORT_OPTION_INVALID, field="notify_text", option="notify_text")
        check_length("notify_text", text.strip(), MAX_NOTIFY)
        out["notify_text"] = text.strip()
    if kind == ImportKind.COUPONS:
        from laoke.promotions.models import CouponTemplate

        tid = options.get("template_id")
        if not isinstance(tid, int) or not CouponTemplate.objects.filter(pk=tid, is_active=True).exists():
            raise DomainError(E.IMPORT_TEMPLATE_REQUIRED, field="template_id")
        out["template_id"] = tid
    return out


def _clean_mapping(kind: str, mapping: dict | str | None) -> dict[str, str]:
    if kind == ImportKind.TAOBAO or not mapping:
        return {}
    if isinstance(mapping, str):
        saved = ImportMapping.objects.filter(kind=kind, name=mapping).first()
        if saved is None:
            raise DomainError(E.IMPORT_MAPPING_NOT_FOUND, field="mapping", name=mapping)
        mapping = saved.columns
    if not isinstance(mapping, dict):
        raise DomainError(E.IMPORT_MAPPING_INVALID, field="mapping", key="?")
    names = {f.name for f in FIELDS[kind]}
    out = {}
    for k, v in mapping.items():
        if k not in names or not isinstance(v, str):
            raise DomainError(E.IMPORT_MAPPING_INVALID, field="mapping", key=str(k)[:40])
        check_length(f"mapping.{k}", v, 100)
        out[k] = v.strip()  # "" = the operator left this field out (not even its usual header)
    return out


def _store(job_id: str, name: str, data: bytes) -> str:
    from django.conf import settings

    folder = job_dir(ImportJob(job_id=job_id))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _safe_name(name)
    if path.exists():
        path = folder / f"items-{path.name}"
    path.write_bytes(data)
    return str(path.relative_to(settings.DATA_DIR))


def import_job_create(
    *,
    kind: str,
    data: bytes,
    file_name: str,
    items: bytes | None = None,
    items_name: str = "",
    mapping: dict | str | None = None,
    mode: str = ImportJob.Mode.ALL,
    options: dict[str, Any] | None = None,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> ImportJob:
    """Store the upload and open a job (nothing is read or checked yet)."""
    if kind not in ImportKind.values:
        raise DomainError(E.IMPORT_KIND_UNKNOWN, field="kind")
    if mode not in ImportJob.Mode.values:
        raise DomainError(E.IMPORT_MODE_INVALID, field="mode")
    if not data:
        raise DomainError(E.IMPORT_FILE_REQUIRED, field="file")
    if items is not None and kind != ImportKind.TAOBAO:
        raise DomainError(E.IMPORT_OPTION_INVALID, field="items", option="items")
    columns = _clean_mapping(kind, mapping)
    opts = _clean_options(kind, options)
    now = clock.now()
    job_id = f"imp-{clock.to_local(now):%Y%m%d}-{secrets.token_hex(4)}"
    with transaction.atomic(durable=True):
        job = ImportJob.objects.create(
            job_id=job_id,
            kind=kind,
            mode=mode,
            file_name=file_name[:200] or "file",
            file_path=_store(job_id, file_name, data),
            file_sha256=hashlib.sha256(data + (items or b"")).hexdigest(),
            file_size=len(data) + len(items or b""),
            items_file_name=(items_name or "items")[:200] if items else "",
            items_file_path=_store(job_id, items_name or "items", items) if items else "",
            mapping=columns,
            options=opts,
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
        )
        audit_write(
            action="import.create",
            obj=job,
            after={
                "kind": kind,
                "file": job.file_name,
                "sha256": job.file_sha256,
                "mode": mode,
                "options": opts,
            },
            actor=actor,
        )
        idempotency.complete(idem, job)
    return job


def _progress_saver(job: ImportJob, extra: Progress | None) -> Progress:
    def save(stage: str, done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            stage=stage, done_units=min(done, total), total_units=total, heartbeat_at=clock.now()
        )
        if extra is not None:
            extra(stage, done, total)

    return save


def _problems(errors: list[RowError]) -> list[dict]:
    return [
        {
            "file": e.file,
            "row": e.row,
            "column": e.column,
            "value": e.value[:100],
            "code": e.error.code,
            "params": dict(e.params),
        }
        for e in errors[: ImportJob.ERRORS_KEPT]
    ]


def _set_state(job: ImportJob, state: str, **fields) -> None:
    fields["state"] = state
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    for k, v in fields.items():
        setattr(job, k, v)


def _parse(job: ImportJob, progress: Progress, *, plan: bool):
    """Read and validate the file(s); record the problems (and, for a check, the plan)."""
    progress("reading", 0, 1)
    parsed = parse_job(job)
    fields: dict = {}
    if plan:
        progress("checking", 0, 1)
        fields["plan"] = plan_of(job, parsed)
    errors = parsed.sorted_errors()
    _set_state(
        job,
        job.state,
        total_rows=parsed.total_rows,
        valid_rows=max(parsed.total_rows - parsed.bad_rows, 0),
        error_count=len(errors),
        errors=_problems(errors),
        **fields,
    )
    return parsed


def import_job_check(*, job_id: str, progress: Progress | None = None) -> ImportJob:
    """The dry run: read and validate every row, say what an apply would do; write nothing else."""
    return _check(job_id, progress)[0]


def _check(job_id: str, progress: Progress | None):
    job = ImportJob.objects.get(job_id=job_id)
    if job.state not in (ImportJob.State.UPLOADED, ImportJob.State.CHECKED, ImportJob.State.CHECKING):
        raise DomainError(E.IMPORT_STATE, state=job.get_state_display())
    _set_state(job, ImportJob.State.CHECKING, started_at=clock.now(), failure="")
    save = _progress_saver(job, progress)
    try:
        parsed = _parse(job, save, plan=True)
    except DomainError as exc:
        _set_state(job, ImportJob.State.FAILED, failure=exc.message("en"), finished_at=clock.now())
        raise
    save("checked", 1, 1)
    with transaction.atomic(durable=True):
        _set_state(job, ImportJob.State.CHECKED)
        audit_write(action="import.check", obj=job, after={"plan": job.plan, "problems": job.error_count})
    return job, parsed


def import_job_apply(*, job_id: str, progress: Progress | None = None) -> ImportJob:
    """Check again, then import (refused with IMPORT_HAS_ERRORS in "all or nothing" mode while the
    file has problems). A job that stopped half-way (applying, failed) runs again from the start:
    what it wrote is skipped, what depends on it is rebuilt."""
    return _apply(job_id, progress, None)


def _apply(job_id: str, progress: Progress | None, parsed):
    """``parsed``: the check's reading of the file when the apply follows it in the same process
    (the CLI) — the database parts are looked up again by the apply itself."""
    job = ImportJob.objects.get(job_id=job_id)
    if job.state == ImportJob.State.DONE:
        return job
    if job.state == ImportJob.State.CHECKING:
        raise DomainError(E.IMPORT_STATE, state=job.get_state_display())
    _set_state(job, ImportJob.State.APPLYING, started_at=clock.now(), failure="")
    save = _progress_saver(job, progress)
    try:
        if parsed is None:
            parsed = _parse(job, save, plan=False)
        result = apply(job, parsed, save)
    except DomainError as exc:
        state = (
            ImportJob.State.CHECKED
            if exc.error in (E.IMPORT_HAS_ERRORS, E.IMPORT_NOTHING_VALID)
            else ImportJob.State.FAILED
        )
        _set_state(job, state, failure=exc.message("en"), finished_at=clock.now())
        raise
    except Exception as exc:
        _set_state(
            job,
            ImportJob.State.FAILED,
            failure=f"{exc.__class__.__name__}: {exc}"[:2000],
            finished_at=clock.now(),
        )
        raise
    with transaction.atomic(durable=True):
        _set_state(job, ImportJob.State.DONE, result=result, finished_at=clock.now(), stage="done")
        audit_write(action="import.apply", obj=job, after=result, actor=job.created_by)
    return job


def import_job_remap(
    *, job_id: str, mapping: dict | str | None, mode: str | None = None, actor=None
) -> ImportJob:
    """Change the column mapping (and the mode) of a job not yet imported; it must be checked again."""
    with transaction.atomic(durable=True):
        job = ImportJob.objects.select_for_update().filter(job_id=job_id).first()
        if job is None:
            raise DomainError(NOT_FOUND)
        if job.state not in (ImportJob.State.UPLOADED, ImportJob.State.CHECKED):
            raise DomainError(E.IMPORT_STATE, state=job.get_state_display())
        if mode is not None and mode not in ImportJob.Mode.values:
            raise DomainError(E.IMPORT_MODE_INVALID, field="mode")
        before = {"mapping": job.mapping, "mode": job.mode}
        job.mapping = _clean_mapping(job.kind, mapping)
        job.mode = mode or job.mode
        job.state, job.stage = ImportJob.State.UPLOADED, "queued"
        job.save(update_fields=["mapping", "mode", "state", "stage"])
        audit_write(
            action="import.remap",
            obj=job,
            before=before,
            after={"mapping": job.mapping, "mode": job.mode},
            actor=actor,
        )
    return job


def import_job_confirm(*, job_id: str, actor=None, idem: idempotency.Claim | None = None) -> ImportJob:
    """The operator's go-ahead after the check: refused while a checked file has problems in
    "all or nothing" mode. The apply itself runs in the background (``import_job_apply``)."""
    with transaction.atomic(durable=True):
        job = ImportJob.objects.select_for_update().filter(job_id=job_id).first()
        if job is None:
            raise DomainError(NOT_FOUND)
        if job.state not in (ImportJob.State.CHECKED, ImportJob.State.FAILED):
            raise DomainError(E.IMPORT_STATE, state=job.get_state_display())
        if job.error_count and job.mode == ImportJob.Mode.ALL:
            raise DomainError(E.IMPORT_HAS_ERRORS, count=job.error_count)
        job.state, job.stage, job.done_units, job.total_units = ImportJob.State.APPLYING, "queued", 0, 0
        job.save(update_fields=["state", "stage", "done_units", "total_units"])
        audit_write(action="import.confirm", obj=job, after={"plan": job.plan}, actor=actor)
        idempotency.complete(idem, job)
    return job


STALE_AFTER = timedelta(minutes=30)


def imports_tick(now: datetime) -> int:
    """A check or an import whose worker stopped (no progress saved for ``STALE_AFTER``) is marked
    failed, so the console shows it and the operator can run it again (confirm): what it wrote is
    skipped, the rest is done. Returns the jobs marked."""
    stale = ImportJob.objects.filter(
        state__in=(ImportJob.State.CHECKING, ImportJob.State.APPLYING), heartbeat_at__lt=now - STALE_AFTER
    )
    marked = 0
    for job in stale:
        with transaction.atomic(durable=True):
            if ImportJob.objects.filter(pk=job.pk, state=job.state).update(
                state=ImportJob.State.FAILED
                if job.state == ImportJob.State.APPLYING
                else ImportJob.State.UPLOADED,
                failure="interrupted: no progress since " + job.heartbeat_at.isoformat(),
                finished_at=now,
            ):
                audit_write(
                    action="import.interrupted", obj=job, after={"stage": job.stage, "done": job.done_units}
                )
                marked += 1
    return marked


def import_file(*, dry_run: bool = False, progress: Progress | None = None, **create) -> ImportJob:
    """Create, check and (unless ``dry_run``, or the check found problems in "all or nothing"
    mode) apply, in this process: the CLI and benchmarks."""
    job = import_job_create(**create)
    job, parsed = _check(job.job_id, progress)
    if dry_run or (job.error_count and job.mode == ImportJob.Mode.ALL):
        return job
    return _apply(job.job_id, progress, parsed)


# --- saved mappings -------------------------------------------------------------------------------


def import_mapping_save(*, kind: str, name: str, columns: dict, actor=None) -> ImportMapping:
    """Create or replace the mapping ``name`` of ``kind``."""
    if kind not in ImportKind.values or kind == ImportKind.TAOBAO:
        raise DomainError(E.IMPORT_KIND_UNKNOWN, field="kind")
    name = (name or "").strip()
    if not name:
        raise DomainError(FIELD_REQUIRED, field="name")
    check_length("name", name, 60)
    cleaned = _clean_mapping(kind, columns)
    now = clock.now()
    with transaction.atomic(durable=True):
        mapping, _created = ImportMapping.objects.update_or_create(
            kind=kind,
            name=name,
            defaults={"columns": cleaned, "updated_at": now},
            create_defaults={
                "columns": cleaned,
                "created_at": now,
                "updated_at": now,
                "created_by": actor if getattr(actor, "pk", None) else None,
            },
        )
        audit_write(
            action="import.mapping_save",
            obj=mapping,
            after={"kind": kind, "name": name, "columns": cleaned},
            actor=actor,
        )
    return mapping


def import_mapping_delete(*, mapping_id: int, actor=None) -> None:
    with transaction.atomic(durable=True):
        mapping = ImportMapping.objects.select_for_update().filter(pk=mapping_id).first()
        if mapping is None:
            raise DomainError(NOT_FOUND)
        audit_write(
            action="import.mapping_delete",
            obj=mapping,
            before={"name": mapping.name, "columns": mapping.columns},
            actor=actor,
        )
        mapping.delete()

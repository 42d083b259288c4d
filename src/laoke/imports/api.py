"""/api/v1/imports/: upload a file (it is checked in the background: the dry run), read the job
with its plan, progress and problems, download the per-row error report, change the column
mapping, confirm (the import runs in the background), and keep saved column mappings.

Writes take an ``Idempotency-Key``; confirming an import requires one (it writes orders, members,
coupons and, if asked, points)."""

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from laoke.core.api import idempotent_write, lang_of, require
from laoke.core.errors import FIELD_INVALID, NOT_FOUND, DomainError

from . import selectors, services
from .fields import FIELDS
from .models import ImportJob, ImportMapping

router = Router(tags=["imports"])
READ, WRITE = "imports:read", "imports:write"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ProblemOut(Schema):
    file: str
    row: int
    column: str
    value: str
    code: str
    message: str


class JobOut(Schema):
    job_id: str
    kind: str
    state: str
    mode: str
    file_name: str
    items_file_name: str
    mapping: dict[str, str]
    options: dict[str, Any]
    stage: str
    done: int
    total: int
    total_rows: int
    valid_rows: int
    error_count: int
    plan: dict[str, Any]
    result: dict[str, Any]
    failure: str
    created_at: datetime
    finished_at: datetime | None
    problems: list[ProblemOut]


class MappingIn(Schema):
    kind: Literal["members", "orders", "products", "coupons"]
    name: str
    columns: dict[str, str]


class MappingOut(Schema):
    id: int
    kind: str
    name: str
    columns: dict[str, str]


class RemapIn(Schema):
    mapping: dict[str, str] | str | None = None
    mode: Literal["all", "valid"] | None = None


class FieldOut(Schema):
    name: str
    label: str
    required: bool
    aliases: list[str]


def _job_out(job: ImportJob, lang: str, problems: int = 50) -> dict:
    return {
        **{f: getattr(job, f) for f in ("job_id", "kind", "state", "mode", "file_name", "items_file_name")},
        **{
            f: getattr(job, f)
            for f in ("mapping", "options", "stage", "total_rows", "valid_rows", "error_count")
        },
        **{f: getattr(job, f) for f in ("plan", "result", "failure")},
        # ISO text: the body is also stored as the idempotent replay (JSON)
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "done": job.done_units,
        "total": job.total_units,
        "problems": selectors.problem_rows(job, lang)[:problems],
    }


def _job(job_id: str) -> ImportJob:
    job = selectors.import_job(job_id)
    if job is None:
        raise DomainError(NOT_FOUND)
    return job


def _start(task, job_id: str) -> None:
    from .tasks import import_apply_task, import_check_task

    task = {"check": import_check_task, "apply": import_apply_task}[task]
    transaction.on_commit(lambda: task(job_id))


@router.get("/fields", response=dict[str, list[FieldOut]])
@require("imports.view_importjob", READ)
def fields(request):
    """The fields of each generic import and the headers that map to them without a mapping."""
    return {
        kind: [
            {"name": f.name, "label": str(f.label), "required": f.required, "aliases": list(f.aliases)}
            for f in fs
        ]
        for kind, fs in FIELDS.items()
    }


@router.get("", response=list[JobOut])
@require("imports.view_importjob", READ)
def jobs(request):
    """The latest 50 imports."""
    lang = lang_of(request)
    return [_job_out(j, lang, problems=0) for j in selectors.import_jobs()]


@router.post("", response={201: JobOut})
@require("imports.add_importjob", WRITE)
def create(
    request,
    file: File[UploadedFile],
    kind: Form[Literal["taobao", "members", "orders", "products", "coupons"]],
    items: File[UploadedFile] | None = None,
    mapping: Form[str] = "",
    mode: Form[Literal["all", "valid"]] = "all",
    options: Form[str] = "{}",
):
    """Upload a file (CSV in UTF-8/GBK/GB18030 or xlsx) and start its check (the dry run) in the
    background. ``items``: the Taobao item report (宝贝报表), optional. ``mapping``: a JSON object
    {field: header} or the name of a saved mapping; fields left out map by their usual headers
    (GET /fields). ``options``: JSON {"award_points": bool, "notify_text": str, "template_id": int
    (coupons)}. Poll GET /{job_id} until state is ``checked``; then confirm."""
    try:
        opts = json.loads(options or "{}")
        columns = json.loads(mapping) if mapping.strip().startswith("{") else (mapping.strip() or None)
    except ValueError as exc:
        raise DomainError(FIELD_INVALID, field="options" if "options" in str(exc) else "mapping") from exc
    if not isinstance(opts, dict):
        raise DomainError(FIELD_INVALID, field="options")
    data = file.read()
    items_data = items.read() if items is not None else None
    payload = {
        "kind": kind,
        "file": hashlib.sha256(data).hexdigest(),
        "items": hashlib.sha256(items_data).hexdigest() if items_data else None,
        "mapping": columns,
        "mode": mode,
        "options": opts,
    }
    lang = lang_of(request)

    def call(idem):
        job = services.import_job_create(
            kind=kind,
            data=data,
            file_name=file.name or "file",
            items=items_data,
            items_name=(items.name if items is not None else "") or "",
            mapping=columns,
            mode=mode,
            options=opts,
            actor=request.user,
            idem=idem,
        )
        _start("check", job.job_id)
        return job

    return idempotent_write(
        request, scope="imports.create", payload=payload, call=call, render=lambda j: (201, _job_out(j, lang))
    )


@router.get("/mappings", response=list[MappingOut])
@require("imports.view_importmapping", READ)
def mappings(request, kind: str = ""):
    qs = ImportMapping.objects.order_by("kind", "name")
    if kind:
        qs = qs.filter(kind=kind)
    return [{"id": m.pk, "kind": m.kind, "name": m.name, "columns": m.columns} for m in qs]


@router.post("/mappings", response={201: MappingOut})
@require("imports.add_importmapping", WRITE)
def mapping_save(request, body: MappingIn):
    """Save (or replace) a named column mapping {field: header}."""
    m = services.import_mapping_save(kind=body.kind, name=body.name, columns=body.columns, actor=request.user)
    return Status(201, {"id": m.pk, "kind": m.kind, "name": m.name, "columns": m.columns})


@router.delete("/mappings/{int:mapping_id}", response={204: None})
@require("imports.delete_importmapping", WRITE)
def mapping_delete(request, mapping_id: int):
    services.import_mapping_delete(mapping_id=mapping_id, actor=request.user)
    return Status(204, None)


@router.get("/{job_id}", response=JobOut)
@require("imports.view_importjob", READ)
def job(request, job_id: str):
    """The job: state, stage and progress, the plan of the check, the result, the first 50
    problems (all of them in the error report)."""
    return _job_out(_job(job_id), lang_of(request))


@router.get("/{job_id}/errors.xlsx")
@require("imports.view_importjob", READ)
def errors_xlsx(request, job_id: str):
    """The per-row error report: file, row, column, value, code and reason of every problem."""
    job = _job(job_id)
    response = HttpResponse(selectors.error_report_xlsx(job, lang_of(request)), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{job.job_id}-problems.xlsx"'
    return response


@router.post("/{job_id}/mapping", response=JobOut)
@require("imports.add_importjob", WRITE)
def remap(request, job_id: str, body: RemapIn):
    """Change the column mapping (or the mode) and check again."""
    job = services.import_job_remap(job_id=job_id, mapping=body.mapping, mode=body.mode, actor=request.user)
    _start("check", job.job_id)
    return _job_out(job, lang_of(request))


@router.post("/{job_id}/confirm", response={202: JobOut})
@require("imports.add_importjob", WRITE)
def confirm(request, job_id: str):
    """Import a checked file (in the background; poll GET /{job_id}). 422 IMPORT_HAS_ERRORS while
    the file has problems in "all or nothing" mode. Requires an Idempotency-Key."""
    lang = lang_of(request)

    def call(idem):
        job = services.import_job_confirm(job_id=job_id, actor=request.user, idem=idem)
        _start("apply", job.job_id)
        return job

    return idempotent_write(
        request,
        scope="imports.confirm",
        payload={"job_id": job_id},
        call=call,
        render=lambda j: (202, _job_out(j, lang)),
        required=True,
    )

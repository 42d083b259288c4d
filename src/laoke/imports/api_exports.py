"""REST API of exports: /api/v1/exports/.

``POST ""`` asks for an export ({kind, params, format}; 201 with the job; accepts an
Idempotency-Key — nothing of value moves); the file is written in the background. ``GET
"/{job_id}"`` shows its state and progress, ``GET "/{job_id}/file"`` downloads it (409
EXPORT_NOT_READY until done). ``GET "/kinds"`` lists the lists the caller may export. Each
export also needs the permission to see its list and, for a token, the list's scope; personal
data is unmasked only for holders of ``members.view_pii`` whose token carries ``members:pii``.
"""

import json
from datetime import datetime
from typing import Any, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.http import FileResponse
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from laoke.core.api import has_scope, idempotent_write, paginate, require
from laoke.core.errors import TOKEN_SCOPE_MISSING, DomainError

from . import exports

router = Router(tags=["exports"])

VIEW, ADD = "imports.view_exportjob", "imports.add_exportjob"


class ExportIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(..., max_length=40)
    params: dict[str, Any] = Field(default_factory=dict)
    format: Literal["xlsx", "csv"] = "xlsx"


class JobOut(Schema):
    job_id: str
    kind: str
    params: dict[str, Any]
    format: str
    state: str
    rows_done: int
    rows_total: int
    percent: int
    file_name: str
    file_size: int
    failure: str
    unmasked: bool
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobPage(Schema):
    items: list[JobOut]
    next_cursor: str | None


class ParamOut(Schema):
    name: str
    type: str
    label: str
    required: bool


class KindOut(Schema):
    code: str
    label: str
    permission: str
    params: list[ParamOut]


def _jsonable(data: dict) -> dict:
    """The response as stored for an Idempotency-Key replay (datetimes as ISO text)."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


@router.get("", response=JobPage)
@require(VIEW)
def exports_list(
    request, all: bool = False, cursor: str | None = None, limit: int | None = Query(None, ge=1, le=500)
):
    """The caller's export jobs, newest first (``all=true``: everybody's, for the admin)."""
    rows, next_cursor = paginate(
        exports.export_jobs_for(request.user, all_jobs=all), cursor=cursor, limit=limit
    )
    return {"items": [exports.job_as_dict(j) for j in rows], "next_cursor": next_cursor}


@router.get("/kinds", response=list[KindOut])
@require(VIEW)
def exports_kinds(request):
    """The lists the caller may export, with their parameters."""
    return [k.as_dict() for k in exports.kinds_for(request.user)]


@router.post("", response={201: JobOut})
@require(ADD)
def exports_create(request, payload: ExportIn):
    data = payload.model_dump()
    kind = exports.kind_get(data["kind"])
    if not has_scope(request, kind.scope):
        raise DomainError(TOKEN_SCOPE_MISSING, scope=kind.scope)
    return idempotent_write(
        request,
        scope="exports.create",
        payload=data,
        call=lambda claim: exports.export_job_create(
            **data, actor=request.user, unmasked=has_scope(request, "members:pii"), idem=claim
        ),
        render=lambda job: (201, _jsonable(exports.job_as_dict(job))),
    )


@router.get("/{job_id}", response=JobOut)
@require(VIEW)
def exports_get(request, job_id: str):
    return exports.job_as_dict(exports.export_job_get(job_id=job_id, user=request.user))


@router.get("/{job_id}/file")
@require(VIEW)
def exports_file(request, job_id: str):
    """The finished file (xlsx or CSV with a BOM); 409 EXPORT_NOT_READY while it is written."""
    job, path = exports.export_job_file(job_id=job_id, user=request.user)
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=job.file_name,
        content_type=exports.CONTENT_TYPES[job.format],
    )

"""Console pages of exports (/admin/console/exports/): the user's export jobs with their state, a
progress bar polled by htmx while a job runs and the download when done; a form to start an export
of any list the user may see. The segment and campaign pages post to ``exports_start`` with their
own id, then land here.

Thin over ``laoke.imports.exports``: the service validates the kind, its parameters and the
user's right to see the list; the file is written by the background task.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from laoke.core.admin import request_lang
from laoke.core.errors import DomainError
from laoke.imports import exports
from laoke.imports.models import ExportJob

RUNNING = (ExportJob.State.PENDING, ExportJob.State.RUNNING)


def _row(job: ExportJob) -> dict:
    info = exports.job_as_dict(job)
    kind = exports.KINDS.get(job.kind)
    info["label"] = str(kind.label) if kind else job.kind
    info["state_label"] = job.get_state_display()
    info["running"] = job.state in RUNNING
    return info


@permission_required("imports.view_exportjob", raise_exception=True)
def export_list(request):
    show_all = request.GET.get("all") == "1" and exports.can_see_all_jobs(request.user)
    jobs = exports.export_jobs_for(request.user, all_jobs=show_all).order_by("-pk")[:100]
    kinds = exports.kinds_for(request.user)
    context = {
        **admin.site.each_context(request),
        "title": _("Exports"),
        "jobs": [_row(j) for j in jobs],
        "kinds": [k.as_dict() for k in kinds],
        "can_add": request.user.has_perm("imports.add_exportjob") and bool(kinds),
        "can_see_all": exports.can_see_all_jobs(request.user),
        "show_all": show_all,
    }
    return TemplateResponse(request, "console/exports/list.html", context)


@require_POST
@permission_required("imports.add_exportjob", raise_exception=True)
def export_start(request):
    """Start an export from the form (or a segment/campaign page's button): the kind, its
    parameters by name and the format. Refused (403) without the right to see the list."""
    code = request.POST.get("kind", "")
    kind = exports.KINDS.get(code)
    if kind is not None and not request.user.has_perm(kind.permission):
        raise PermissionDenied
    names = [p.name for p in kind.params] if kind else []
    params = {n: request.POST[n] for n in names if request.POST.get(n, "").strip()}
    try:
        job = exports.export_job_create(
            kind=code, params=params, format=request.POST.get("format", "xlsx"), actor=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.message(request_lang(request)))
        return redirect("exports_list")
    messages.success(request, _("Export started: %(job)s") % {"job": job.job_id})
    return redirect("exports_list")


def _job(request, job_id: str) -> ExportJob:
    try:
        return exports.export_job_get(job_id=job_id, user=request.user)
    except DomainError as exc:
        raise Http404(str(exc)) from exc


@permission_required("imports.view_exportjob", raise_exception=True)
def export_progress(request, job_id: str):
    """The job's progress bar (htmx polls it every two seconds while the job runs)."""
    context = {"j": _row(_job(request, job_id))}
    return TemplateResponse(request, "console/exports/_progress.html", context)


@permission_required("imports.view_exportjob", raise_exception=True)
def export_file(request, job_id: str):
    _job(request, job_id)
    try:
        job, path = exports.export_job_file(job_id=job_id, user=request.user)
    except DomainError as exc:
        if exc.status == 403:
            raise PermissionDenied from exc
        messages.error(request, exc.message(request_lang(request)))
        return redirect("exports_list")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=job.file_name,
        content_type=exports.CONTENT_TYPES[job.format],
    )

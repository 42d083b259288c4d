"""Console import wizard (/admin/console/imports/): upload → column mapping → dry run → confirm →
progress and result (issue 7, docs/decisions/0029-imports.md).

1. ``import_new``: the kind (a Taobao/Tmall order report with its optional item report, members,
   orders, products, coupon codes with their template), the file, the mode and the options.
   A Taobao report has no mapping step: its check starts at once.
2. ``import_mapping`` (generic kinds): a header of the file for each Laoke field, a preview of
   the first rows, saved mappings to load, "save as"; submitting starts the check.
3. ``import_detail`` while checking: a progress bar polled by htmx (``import_progress``, which
   asks for a full refresh once the stage is over); when checked: the plan in plain words, the
   problems, the error report (``import_errors_xlsx``) and the Confirm button.
4. ``import_confirm`` starts the apply; the same page shows its progress, then the result.

Thin over ``laoke.imports`` services and selectors, like ``laoke.imports.api``: the check and the
apply run in the Huey tasks, enqueued once the service's transaction has committed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from laoke.core import clock
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError
from laoke.core.money import format_yuan
from laoke.imports import selectors, services
from laoke.imports.fields import FIELDS
from laoke.imports.models import ImportJob, ImportKind, ImportMapping
from laoke.promotions.models import CouponTemplate

VIEW, ADD = "imports.view_importjob", "imports.add_importjob"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RUNNING = (ImportJob.State.UPLOADED, ImportJob.State.CHECKING, ImportJob.State.APPLYING)
PROBLEMS_SHOWN = 100
POINTS_KINDS = (ImportKind.TAOBAO, ImportKind.ORDERS)
NOTIFY_KINDS = (ImportKind.TAOBAO, ImportKind.ORDERS, ImportKind.MEMBERS)

# The columns of the Taobao/Tmall reports that the importer reads (decision 0029); file headers,
# shown as they are.
TAOBAO_ORDER_COLUMNS = (
    "订单编号, 买家会员名, 买家支付宝账号, 支付单号, 买家应付货款, 买家应付邮费, 总金额, 买家实际支付金额, "
    "订单状态, 收货人姓名, 收货地址, 联系电话, 联系手机, 订单创建时间, 订单付款时间, 宝贝标题, 宝贝总数量, "
    "店铺名称, 订单关闭原因, 退款金额"
)
TAOBAO_ITEM_COLUMNS = (
    "订单编号 / 主订单编号, 标题, 价格, 购买数量, 商家编码 / 外部系统编号, 退款状态, 订单状态"
)

STAGES = {
    "": gettext_lazy("waiting to start"),
    "queued": gettext_lazy("waiting to start"),
    "reading": gettext_lazy("reading the file"),
    "checking": gettext_lazy("checking the rows"),
    "checked": gettext_lazy("checked"),
    "members": gettext_lazy("members"),
    "orders": gettext_lazy("orders"),
    "points": gettext_lazy("points"),
    "statistics": gettext_lazy("statistics and tiers"),
    "messages": gettext_lazy("messages"),
    "products": gettext_lazy("products"),
    "coupons": gettext_lazy("coupon codes"),
    "done": gettext_lazy("done"),
}

# The plan (what the import would do) in plain words: a sentence per group of keys, used when all
# its keys are there; then a label for each remaining known key; unknown keys are shown raw.
PLAN_SENTENCES = (
    (
        ("rows", "rows_with_problems", "problems"),
        gettext_lazy(
            "%(rows)s rows read, %(rows_with_problems)s of them with problems (%(problems)s problems)"
        ),
    ),
    (
        ("orders", "orders_new", "orders_present"),
        gettext_lazy("Orders: %(orders)s — %(orders_new)s new, %(orders_present)s already present"),
    ),
    (
        ("lines_new", "refunds_new", "amount_new"),
        gettext_lazy("New orders: %(lines_new)s lines, %(refunds_new)s refunds, %(amount_new)s paid in all"),
    ),
    (
        ("members_new", "members_matched"),
        gettext_lazy("Buyers: %(members_new)s new members, %(members_matched)s matched to existing members"),
    ),
    (
        ("members", "members_new", "members_present"),
        gettext_lazy("Members: %(members)s — %(members_new)s new, %(members_present)s already present"),
    ),
    (
        ("products", "products_new", "products_present"),
        gettext_lazy("Products: %(products)s — %(products_new)s new, %(products_present)s already present"),
    ),
    (
        ("coupons", "coupons_new", "coupons_present"),
        gettext_lazy("Coupon codes: %(coupons)s — %(coupons_new)s new, %(coupons_present)s already present"),
    ),
)
PLAN_LABELS = {
    "rows": gettext_lazy("rows read"),
    "problems": gettext_lazy("problems"),
    "rows_with_problems": gettext_lazy("rows with problems"),
    "skipped_unpaid": gettext_lazy("skipped: unpaid or closed before payment"),
    "orders": gettext_lazy("orders"),
    "orders_present": gettext_lazy("orders already present"),
    "orders_new": gettext_lazy("new orders"),
    "lines_new": gettext_lazy("new order lines"),
    "refunds_new": gettext_lazy("new refunds"),
    "amount_new": gettext_lazy("paid in the new orders"),
    "members_matched": gettext_lazy("buyers matched to existing members"),
    "members_new": gettext_lazy("new members"),
    "orders_without_member": gettext_lazy("orders without an identifiable buyer"),
    "members": gettext_lazy("members"),
    "members_present": gettext_lazy("members already present"),
    "products": gettext_lazy("products"),
    "products_present": gettext_lazy("products already present"),
    "products_new": gettext_lazy("new products"),
    "coupons": gettext_lazy("coupon codes"),
    "coupons_present": gettext_lazy("coupon codes already present"),
    "coupons_new": gettext_lazy("new coupon codes"),
}
RESULT_LABELS = {
    "orders_created": gettext_lazy("orders created"),
    "orders_present": gettext_lazy("orders already present (left unchanged)"),
    "members_created": gettext_lazy("members registered"),
    "members_matched": gettext_lazy("buyers matched to existing members"),
    "members_present": gettext_lazy("members already present (left unchanged)"),
    "members_rebuilt": gettext_lazy("members whose statistics were rebuilt"),
    "tiers_raised": gettext_lazy("tiers raised"),
    "points_awarded": gettext_lazy("orders that earned points"),
    "messages_queued": gettext_lazy("welcome messages queued"),
    "products_created": gettext_lazy("products created"),
    "products_present": gettext_lazy("products already present (left unchanged)"),
    "coupons_created": gettext_lazy("coupon codes created"),
    "coupons_present": gettext_lazy("coupon codes already present (left unchanged)"),
}


def _ctx(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _local(dt) -> str:
    return clock.to_local(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def _job(job_id: str) -> ImportJob:
    job = selectors.import_job(job_id)
    if job is None:
        raise Http404(job_id)
    return job


def _start(task: str, job_id: str) -> None:
    """Enqueue the check or the apply once the service's transaction has committed (as the API)."""
    from laoke.imports.tasks import import_apply_task, import_check_task

    fn = {"check": import_check_task, "apply": import_apply_task}[task]
    transaction.on_commit(lambda: fn(job_id))


def _error(request, exc: DomainError) -> None:
    messages.error(request, exc.message(request_lang(request)))


# --- plain words ---------------------------------------------------------------------------------


def _colon() -> str:
    return pgettext("between a label and its value", ": ")


def plan_lines(plan: dict[str, Any]) -> list[str]:
    """The plan as sentences and labelled figures (every key shown once, unknown keys raw)."""
    values = dict(plan)
    if "amount_new_fen" in values:
        values["amount_new"] = format_yuan(int(values.pop("amount_new_fen") or 0))
    lines, used = [], set()
    for keys, sentence in PLAN_SENTENCES:
        if all(k in values for k in keys) and not set(keys) <= used:
            lines.append(str(sentence) % {k: values[k] for k in keys})
            used |= set(keys)
    for key, value in values.items():
        if key in used:
            continue
        lines.append(f"{PLAN_LABELS.get(key, key)}{_colon()}{value}")
    return lines


def result_lines(result: dict[str, Any]) -> list[tuple[str, Any]]:
    """The result's figures in the order of ``RESULT_LABELS`` (unknown keys last, raw)."""
    known = [(str(label), result[k]) for k, label in RESULT_LABELS.items() if k in result]
    return known + [(k, v) for k, v in result.items() if k not in RESULT_LABELS]


def _summary(job: ImportJob) -> str:
    """One line for the list: what the job did, or what its check found."""
    if job.state == ImportJob.State.DONE:
        parts = [
            f"{RESULT_LABELS[k]} {job.result[k]}"
            for k in ("orders_created", "members_created", "products_created", "coupons_created")
            if job.result.get(k)
        ]
        return ", ".join(parts) or _("nothing new")
    if job.state == ImportJob.State.FAILED:
        return job.failure[:120]
    if job.state == ImportJob.State.CHECKED:
        return _("checked: %(rows)s rows, %(problems)s problems") % {
            "rows": job.total_rows,
            "problems": job.error_count,
        }
    return ""


def _progress(job: ImportJob) -> dict[str, Any]:
    p = selectors.progress(job)
    return {
        **p,
        "percent": max(0, min(100, p["percent"])),
        "running": job.state in RUNNING,
        "state_label": str(job.get_state_display()),
        "stage_label": str(STAGES.get(job.stage, job.stage)),
        "applying": job.state == ImportJob.State.APPLYING,
    }


def _kinds() -> list[dict[str, Any]]:
    out = [
        {
            "code": ImportKind.TAOBAO.value,
            "label": str(ImportKind.TAOBAO.label),
            "columns": [],
            "taobao_orders": TAOBAO_ORDER_COLUMNS,
            "taobao_items": TAOBAO_ITEM_COLUMNS,
        }
    ]
    for kind, fields in FIELDS.items():
        out.append(
            {
                "code": str(kind),
                "label": str(ImportKind(kind).label),
                "columns": [
                    {
                        "label": str(f.label),
                        "required": f.required,
                        "aliases": [a for a in f.aliases if a != f.name],
                    }
                    for f in fields
                ],
            }
        )
    return out


# --- list ----------------------------------------------------------------------------------------


@permission_required(VIEW, raise_exception=True)
def import_list(request):
    jobs = [
        {
            "job": j,
            "kind_label": j.get_kind_display(),
            "state_label": j.get_state_display(),
            "created": _local(j.created_at),
            "summary": _summary(j),
            "next_url": (
                reverse("imports_mapping", args=[j.job_id])
                if j.state == ImportJob.State.UPLOADED and j.kind != ImportKind.TAOBAO and not j.plan
                else reverse("imports_detail", args=[j.job_id])
            ),
        }
        for j in selectors.import_jobs()
    ]
    return TemplateResponse(
        request,
        "console/imports/list.html",
        _ctx(request, _("Import"), jobs=jobs, can_add=request.user.has_perm(ADD)),
    )


# --- step 1: upload ------------------------------------------------------------------------------


def _options(kind: str, post) -> dict[str, Any]:
    """The options the kind takes (a field of another kind left filled in is ignored)."""
    opts: dict[str, Any] = {}
    if kind in POINTS_KINDS and post.get("award_points"):
        opts["award_points"] = True
    if kind in NOTIFY_KINDS and post.get("notify_text", "").strip():
        opts["notify_text"] = post["notify_text"]
    if kind == ImportKind.COUPONS:
        try:
            opts["template_id"] = int(post.get("template_id") or 0)
        except ValueError:
            opts["template_id"] = 0
    return opts


@permission_required(ADD, raise_exception=True)
def import_new(request):
    form = {"kind": request.GET.get("kind", ImportKind.TAOBAO), "mode": "all", "notify_text": ""}
    form.update({"award_points": False, "template_id": ""})
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in ("kind", "mode", "notify_text", "template_id")}
        form["award_points"] = bool(request.POST.get("award_points"))
        kind = form["kind"]
        upload = request.FILES.get("file")
        items = request.FILES.get("items") if kind == ImportKind.TAOBAO else None
        if upload is None:
            messages.error(request, _("Choose the file to import."))
        else:
            try:
                job = services.import_job_create(
                    kind=kind,
                    data=upload.read(),
                    file_name=upload.name or "file",
                    items=items.read() if items is not None else None,
                    items_name=items.name if items is not None else "",
                    mode=form["mode"] or ImportJob.Mode.ALL,
                    options=_options(kind, request.POST),
                    actor=request.user,
                )
            except DomainError as exc:
                _error(request, exc)
            else:
                if job.kind == ImportKind.TAOBAO:
                    _start("check", job.job_id)
                    return redirect("imports_detail", job_id=job.job_id)
                return redirect("imports_mapping", job_id=job.job_id)
    templates = [
        {"id": t.pk, "name": t.name} for t in CouponTemplate.objects.filter(is_active=True).order_by("name")
    ]
    return TemplateResponse(
        request,
        "console/imports/new.html",
        _ctx(
            request,
            _("New import"),
            form=form,
            kinds=_kinds(),
            modes=ImportJob.Mode.choices,
            templates=templates,
            points_kinds=list(map(str, POINTS_KINDS)),
            notify_kinds=list(map(str, NOTIFY_KINDS)),
            step=1,
        ),
    )


# --- step 2: column mapping ----------------------------------------------------------------------


@permission_required(ADD, raise_exception=True)
def import_mapping(request, job_id: str):
    job = _job(job_id)
    if job.kind == ImportKind.TAOBAO:
        return redirect("imports_detail", job_id=job.job_id)
    if job.state not in (ImportJob.State.UPLOADED, ImportJob.State.CHECKED):
        messages.warning(request, _("This import can no longer be changed."))
        return redirect("imports_detail", job_id=job.job_id)
    try:
        choices = selectors.mapping_choices(job)
    except DomainError as exc:
        _error(request, exc)
        return redirect("imports_detail", job_id=job.job_id)
    current = dict(choices["current"])
    loaded = None
    if request.method == "GET" and request.GET.get("saved"):
        loaded = ImportMapping.objects.filter(kind=job.kind, pk=request.GET.get("saved")).first()
        if loaded is not None:
            current.update(loaded.columns)
    mode = job.mode
    if request.method == "POST":
        fields = {f.name for f in choices["fields"]}
        current = {name: request.POST.get(f"col_{name}", "").strip() for name in fields}
        mode = request.POST.get("mode") or job.mode
        columns = current  # "" = not imported (the field stays out even if a usual header is there)
        save_as = request.POST.get("save_as", "").strip()
        try:
            if save_as:
                if not request.user.has_perm("imports.add_importmapping"):
                    raise PermissionDenied
                services.import_mapping_save(kind=job.kind, name=save_as, columns=columns, actor=request.user)
                messages.success(request, _("Mapping saved as “%(name)s”.") % {"name": save_as})
            job = services.import_job_remap(job_id=job.job_id, mapping=columns, mode=mode, actor=request.user)
        except DomainError as exc:
            _error(request, exc)
        else:
            _start("check", job.job_id)
            return redirect("imports_detail", job_id=job.job_id)
    headers = choices["headers"]
    rows = [
        {
            "name": f.name,
            "label": str(f.label),
            "required": f.required,
            "selected": current.get(f.name, ""),
            "missing": bool(current.get(f.name)) and current.get(f.name) not in headers,
        }
        for f in choices["fields"]
    ]
    return TemplateResponse(
        request,
        "console/imports/mapping.html",
        _ctx(
            request,
            _("Column mapping: %(file)s") % {"file": job.file_name},
            job=job,
            rows=rows,
            headers=headers,
            preview=choices["preview"],
            saved=choices["saved"],
            loaded=loaded,
            mode=mode,
            modes=ImportJob.Mode.choices,
            can_save=request.user.has_perm("imports.add_importmapping"),
            step=2,
        ),
    )


# --- steps 3 and 4: the dry run, then the import ---------------------------------------------------


@permission_required(VIEW, raise_exception=True)
def import_detail(request, job_id: str):
    job = _job(job_id)
    lang = request_lang(request)
    checked = job.state == ImportJob.State.CHECKED
    problems = selectors.problem_rows(job, lang)[:PROBLEMS_SHOWN] if job.error_count else []
    blocked = checked and job.error_count > 0 and job.mode == ImportJob.Mode.ALL
    nothing = checked and job.total_rows > 0 and job.valid_rows == 0
    step = 4 if job.state in (ImportJob.State.APPLYING, ImportJob.State.DONE) else 3
    if job.state == ImportJob.State.FAILED and job.result:
        step = 4
    return TemplateResponse(
        request,
        "console/imports/detail.html",
        _ctx(
            request,
            _("Import %(file)s") % {"file": job.file_name},
            job=job,
            p=_progress(job),
            plan=plan_lines(job.plan) if job.plan else [],
            result=result_lines(job.result),
            colon=_colon(),
            problems=problems,
            more_problems=max(0, job.error_count - len(problems)),
            blocked=blocked,
            nothing_valid=nothing,
            can_confirm=request.user.has_perm(ADD) and checked and not blocked and not nothing,
            can_remap=(
                request.user.has_perm(ADD)
                and job.kind != ImportKind.TAOBAO
                and job.state in (ImportJob.State.UPLOADED, ImportJob.State.CHECKED)
            ),
            can_add=request.user.has_perm(ADD),
            # an import that stopped half-way runs again from the start (what it wrote is skipped)
            can_retry=request.user.has_perm(ADD) and job.state == ImportJob.State.FAILED and bool(job.plan),
            created=_local(job.created_at),
            finished=_local(job.finished_at),
            step=step,
        ),
    )


@permission_required(VIEW, raise_exception=True)
def import_progress(request, job_id: str):
    """The progress bar (htmx polls it every second while the job runs). Once the check or the
    import is over, an htmx request is answered with ``HX-Refresh`` so the page shows the outcome;
    ``?format=json`` gives the figures alone."""
    job = _job(job_id)
    p = _progress(job)
    if request.GET.get("format") == "json":
        return JsonResponse(p, json_dumps_params={"ensure_ascii": False})
    if request.headers.get("HX-Request") and not p["running"]:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return TemplateResponse(request, "console/imports/_progress.html", {"job": job, "p": p})


@require_POST
@permission_required(ADD, raise_exception=True)
def import_confirm(request, job_id: str):
    job = _job(job_id)
    try:
        job = services.import_job_confirm(job_id=job.job_id, actor=request.user)
    except DomainError as exc:
        _error(request, exc)
    else:
        _start("apply", job.job_id)
    return redirect("imports_detail", job_id=job.job_id)


@require_POST
@permission_required(ADD, raise_exception=True)
def import_check(request, job_id: str):
    """Start the check again: after ``imports_tick`` found it interrupted (back to "uploaded"), or
    to check a file whose check found the database different from now."""
    job = _job(job_id)
    if job.state not in (ImportJob.State.UPLOADED, ImportJob.State.CHECKED):
        messages.warning(request, _("This import can no longer be checked."))
    else:
        _start("check", job.job_id)
    return redirect("imports_detail", job_id=job.job_id)


@permission_required(VIEW, raise_exception=True)
def import_errors_xlsx(request, job_id: str):
    job = _job(job_id)
    response = HttpResponse(selectors.error_report_xlsx(job, request_lang(request)), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{job.job_id}-problems.xlsx"'
    return response

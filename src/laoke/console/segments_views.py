"""Console pages of the segments app: the list, the builder (nested AND/OR/NOT groups in plain
JavaScript, a live count with sample members, save, snapshot, the snapshot list) and the JSON
preview the builder calls while the rule is edited.

Thin over ``laoke.segments`` services and selectors; the builder sends the rule as JSON in a
hidden field, so the page and the API share one rule format and one validation.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from laoke.core import clock
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError
from laoke.segments import selectors, services
from laoke.segments.models import Segment, SegmentSnapshot

DEFAULT_RULE = {"all": [{"field": "orders.count", "op": "gte", "value": 1}]}


@permission_required("segments.view_segment", raise_exception=True)
def segment_list(request):
    show_archived = request.GET.get("archived") == "1"
    rows = selectors.segment_list(archived=show_archived).order_by("name")
    context = {
        **admin.site.each_context(request),
        "title": _("Segments"),
        "segments": rows,
        "show_archived": show_archived,
        "can_add": request.user.has_perm("segments.add_segment"),
    }
    return TemplateResponse(request, "console/segments/list.html", context)


def _error_body(exc: DomainError, lang: str) -> dict:
    return {"code": exc.code, "message": exc.message(lang), "path": exc.details.get("path", exc.field or "")}


@permission_required("segments.view_segment", raise_exception=True)
def segment_edit(request, segment_id: int | None = None):
    """The builder: a new segment (no id) or an existing one."""
    lang = request_lang(request)
    seg = None
    if segment_id is not None:
        seg = Segment.objects.filter(pk=segment_id).first()
        if seg is None:
            raise Http404
    form = {
        "name": seg.name if seg else "",
        "description": seg.description if seg else "",
        "kind": seg.kind if seg else Segment.Kind.DYNAMIC,
        "rule": seg.rule if seg else DEFAULT_RULE,
    }
    error = None
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "snapshot":
                if seg is None or not request.user.has_perm("segments.add_segmentsnapshot"):
                    raise PermissionDenied
                snap = services.segment_snapshot_take(segment_id=seg.pk, now=clock.now(), actor=request.user)
                messages.success(
                    request, _("Snapshot taken: %(count)s members.") % {"count": snap.member_count}
                )
                return redirect(reverse("segments_edit", args=[seg.pk]))
            if action == "archive":
                if seg is None or not request.user.has_perm("segments.change_segment"):
                    raise PermissionDenied
                services.segment_archive(segment_id=seg.pk, actor=request.user)
                messages.success(request, _("Segment archived."))
                return redirect(reverse("segments_list"))
            form.update(
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
                kind=request.POST.get("kind", Segment.Kind.DYNAMIC),
            )
            try:
                form["rule"] = json.loads(request.POST.get("rule", ""))
            except json.JSONDecodeError:
                form["rule"] = None
            data = {k: form[k] for k in ("name", "description", "kind", "rule")}
            if seg is None:
                if not request.user.has_perm("segments.add_segment"):
                    raise PermissionDenied
                seg = services.segment_create(**data, actor=request.user)
            else:
                if not request.user.has_perm("segments.change_segment"):
                    raise PermissionDenied
                seg = services.segment_update(segment_id=seg.pk, data=data, actor=request.user)
            messages.success(request, _("Segment saved."))
            return redirect(reverse("segments_edit", args=[seg.pk]))
        except DomainError as exc:
            error = _error_body(exc, lang)
    snapshots = SegmentSnapshot.objects.filter(segment=seg).order_by("-pk")[:50] if seg else []
    context = {
        **admin.site.each_context(request),
        "title": seg.name if seg else _("New segment"),
        "segment": seg,
        "form": form,
        "rule_json": form["rule"],
        "fields_json": selectors.field_catalog(lang),
        "error": error,
        "kinds": Segment.Kind.choices,
        "snapshots": snapshots,
        "can_save": request.user.has_perm("segments.change_segment" if seg else "segments.add_segment"),
        "can_snapshot": seg is not None and request.user.has_perm("segments.add_segmentsnapshot"),
        "preview_url": reverse("segments_preview"),
    }
    return TemplateResponse(request, "console/segments/edit.html", context, status=400 if error else 200)


@require_POST
@permission_required("segments.preview_segment", raise_exception=True)
def segment_preview(request):
    """JSON for the live count: {count, sample} or {error: {code, message, path}} (400)."""
    lang = request_lang(request)
    try:
        rule = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        rule = None
    if isinstance(rule, dict) and "rule" in rule and len(rule) == 1:
        rule = rule["rule"]
    now = clock.now()
    try:
        count = selectors.segment_count(rule, now=now)
        sample = selectors.segment_sample(rule, now=now, n=10)
    except DomainError as exc:
        return JsonResponse(
            {"error": _error_body(exc, lang)}, status=400, json_dumps_params={"ensure_ascii": False}
        )
    for s in sample:
        s["url"] = reverse("member_360", args=[s["id"]])
    return JsonResponse({"count": count, "sample": sample}, json_dumps_params={"ensure_ascii": False})

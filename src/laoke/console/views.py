"""Console pages of our own (beside the admin's model pages)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.members.models import Channel, Consent, Member, MembershipCard
from laoke.members.services import member_view

from .value import member_value


def _display_times(value):
    """member_view gives ISO 8601 in the shop's zone; the page shows 'YYYY-MM-DD HH:MM'."""
    if isinstance(value, dict):
        return {k: _display_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_display_times(v) for v in value]
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return value[:16].replace("T", " ")
    return value


@permission_required("members.view_member", raise_exception=True)
def member_360(request, member_id: int):
    """One member on one page: profile, tags, attributes, tier, points, wallet, consent with
    history, cards, refs, lifecycle and the audit trail. PII is masked unless the viewer may see it (and then the
    view itself is audited)."""
    try:
        view = member_view(viewer=request.user, member_id=member_id)
    except DomainError as exc:
        raise Http404(exc.message(request.LANGUAGE_CODE)) from exc
    view = _display_times(view)
    channels, consent_states = dict(Channel.choices), dict(Consent.State.choices)
    lifecycles, card_states = dict(Member.Lifecycle.choices), dict(MembershipCard.State.choices)
    for c in view["consents"] + view.get("consent_history", []):
        c["label"] = channels.get(c["channel"], c["channel"])
        c["state_label"] = consent_states.get(c["state"], c["state"])
    for c in view["cards"]:
        c["state_label"] = card_states.get(c["state"], c["state"])
    for e in view.get("lifecycle_history", []):
        e["from_label"] = lifecycles.get(e["from"], e["from"])
        e["to_label"] = lifecycles.get(e["to"], e["to"])
        e["show_reason"] = bool(e["reason"]) and e["reason"] != e["to"]
    trail = []
    if request.user.has_perm("core.view_auditentry"):
        trail = list(AuditEntry.objects.filter(object_type="members.member", object_id=str(member_id))[:30])
    context = {
        **admin.site.each_context(request),
        "title": _("Member 360°: %(name)s") % {"name": view["name"] or view["code"]},
        "m": view,
        "lifecycle_label": dict(Member.Lifecycle.choices).get(view["lifecycle"], view["lifecycle"]),
        "status_label": dict(Member.Status.choices).get(view["status"], view["status"]),
        "gender_label": dict(Member.Gender.choices).get(view["gender"], view["gender"]),
        "source_label": dict(Member.Source.choices).get(view["source"], view["source"]),
        "trail": trail,
        "member_id": member_id,
        "value": member_value(request.user, Member.objects.get(pk=member_id)),
    }
    return TemplateResponse(request, "console/member_360.html", context)

"""Console pages of the cards app: the cashier's recharge page and a batch's progress page.

Thin over the cards services. The PIN field is a password input, never echoed back, never logged
(the form posts it once; the page re-renders without it)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters

from laoke.cards import selectors, services
from laoke.cards.models import DENOMINATIONS_FEN, CardKind
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError
from laoke.core.models import Store
from laoke.core.money import format_yuan, yuan_to_fen
from laoke.members.selectors import member_search


def _find_member(user, text: str):
    text = (text or "").strip()
    if not text:
        return None
    # Member number or mobile (an exact index lookup); a name fragment must match one member only.
    found = list(member_search(user, q=text)[:2])
    return found[0] if len(found) == 1 else None


@sensitive_post_parameters("pin")
@permission_required("cards.recharge_card", raise_exception=True)
def recharge(request):
    """充值: card number + PIN + member (member number or mobile)."""
    error = None
    result = None
    form = {"number": "", "member": ""}
    if request.method == "POST":
        form = {
            "number": request.POST.get("number", "").strip(),
            "member": request.POST.get("member", "").strip(),
        }
        member = _find_member(request.user, form["member"])
        if member is None:
            error = _("No single member matches this member number or mobile.")
        else:
            try:
                card = services.card_recharge(
                    number=form["number"],
                    pin=request.POST.get("pin", ""),
                    member=member,
                    channel="cashier",
                    ip=request.META.get("REMOTE_ADDR"),
                    actor=request.user,
                )
            except DomainError as exc:
                error = exc.message(request_lang(request))
            else:
                balance = selectors.wallet_summary(member=member)["balance_fen"]
                result = {
                    "number": card.number,
                    "amount": format_yuan(card.face_value_fen),
                    "member": member.name or member.code,
                    "balance": format_yuan(balance),
                }
                form = {"number": "", "member": ""}
    context = {
        **admin.site.each_context(request),
        "title": _("Recharge with a prepaid card"),
        "form": form,
        "error": error,
        "result": result,
    }
    return TemplateResponse(request, "console/cards/recharge.html", context, status=422 if error else 200)


@permission_required("cards.view_cardbatch", raise_exception=True)
def batch_progress(request, batch_id: int):
    try:
        batch = selectors.batch_get(batch_id)
    except DomainError as exc:
        raise Http404(str(exc)) from exc
    info = selectors.batch_progress(batch)
    context = {
        **admin.site.each_context(request),
        "title": _("Card batch %(code)s") % {"code": batch.code},
        "b": info,
        "face": format_yuan(batch.face_value_fen),
        "can_download": request.user.has_perm("cards.download_cardbatch") and batch.state == "ready",
        "running": batch.state in ("pending", "generating"),
    }
    if request.headers.get("HX-Request"):
        return TemplateResponse(request, "console/cards/_progress.html", context)
    return TemplateResponse(request, "console/cards/batch.html", context)


@permission_required("cards.download_cardbatch", raise_exception=True)
def batch_download(request, batch_id: int):
    if request.method != "POST":
        return redirect("cards_batch_progress", batch_id=batch_id)
    try:
        name, data = services.card_batch_download(batch_id=batch_id, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message(request_lang(request)))
        return redirect("cards_batch_progress", batch_id=batch_id)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


class BatchForm(forms.Form):
    denomination = forms.TypedChoiceField(
        label=gettext_lazy("Face value"),
        coerce=int,
        choices=[(fen, format_yuan(fen)) for fen in DENOMINATIONS_FEN],
        initial=50_000,
    )
    count = forms.IntegerField(
        label=gettext_lazy("Number of cards"), min_value=1, max_value=100_000, initial=100
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=CardKind.choices, initial=CardKind.NORMAL)
    sale_price = forms.DecimalField(
        label=gettext_lazy("Sale price (yuan)"),
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        help_text=gettext_lazy("Empty: the face value (the experience card: 90元)."),
    )
    store = forms.ModelChoiceField(label=gettext_lazy("Store"), queryset=Store.objects.all(), required=False)
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    buyer_company = forms.CharField(label=gettext_lazy("Buyer company"), max_length=200, required=False)
    purpose = forms.CharField(label=gettext_lazy("Purpose"), max_length=200, required=False)


@permission_required("cards.add_cardbatch", raise_exception=True)
def batch_create(request):
    """A new batch from the console: generated in the background, then the progress page."""
    form = BatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            batch = services.card_batch_create(
                face_value_fen=cd["denomination"],
                count=cd["count"],
                kind=cd["kind"],
                sale_price_fen=yuan_to_fen(cd["sale_price"]) if cd["sale_price"] is not None else None,
                store=cd["store"],
                expires_on=cd["expires_on"],
                buyer_company=cd["buyer_company"],
                purpose=cd["purpose"],
                actor=request.user,
            )
        except DomainError as exc:
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.message(request_lang(request)))
        else:
            return redirect("cards_batch_progress", batch_id=batch.pk)
    context = {**admin.site.each_context(request), "title": _("New card batch"), "form": form}
    return TemplateResponse(request, "console/cards/batch_new.html", context)

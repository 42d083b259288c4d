"""Console pages for orders: the order list and a read-only order page (lines, coupons, refunds, the
stored settlement explanation) with ship / deliver buttons and a refund form; big-order discount
approvals (requested by a cashier, approved or rejected by a manager); the order settings.

Nothing here writes a model: every change goes through ``laoke.orders.services`` (validated,
audited with the staff user); a refusal comes back as a message in the user's language.
"""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from laoke.core import clock
from laoke.core.admin import FormAdmin, ReadOnlyAdmin, request_lang
from laoke.core.errors import DomainError
from laoke.core.money import format_yuan, yuan_to_fen
from laoke.members.selectors import can_see_pii, member_search
from laoke.shipping.models import Courier

from . import selectors, services
from .checkout import order_settings
from .models import DiscountApproval, Order, OrderSettings, OrderStatus, Refund

SHIPPABLE = (OrderStatus.PAID,)
DELIVERABLE = (OrderStatus.PAID, OrderStatus.SHIPPED)


def _local(dt) -> str:
    return clock.to_local(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def _labels(order: Order) -> dict[str, str]:
    """Benefit code → a readable name (coupon template, rule), for the stored discounts."""
    labels = {
        "tier": _gettext("tier discount"),
        "member_price": _gettext("member special price"),
        "flash": _gettext("flash-zone price"),
    }
    for oc in order.coupons.all():
        labels[oc.coupon.code] = f"{oc.coupon.template.name} ({oc.coupon.code})"
    for o in (order.explanation or {}).get("offers", []):
        if o.get("label"):
            labels[o["code"]] = o["label"]
    return labels


def _discounts(discounts: dict, labels: dict) -> list[dict]:
    return [{"label": labels.get(code, code), "amount": format_yuan(fen)} for code, fen in discounts.items()]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "member_label", "status", "total", "paid_local", "payment_method", "channel")
    list_filter = ("status", "payment_method", "channel")
    search_fields = ("number", "member__mobile", "member__code")
    list_select_related = ("member",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "member_label",
                    "store",
                    "channel",
                    "status",
                    "group_purchase",
                    "member_kind",
                    "tier_code",
                    "created_by",
                    "note",
                )
            },
        ),
        (
            _("Money"),
            {
                "fields": (
                    "goods_gross",
                    "goods_net",
                    "postage",
                    "total",
                    "points_paid",
                    "wallet",
                    "cash",
                    "payment_method",
                    "refunded",
                )
            },
        ),
        (
            _("Delivery and dates"),
            {
                "fields": (
                    "courier_label",
                    "ship_province",
                    "paid_local",
                    "shipped_local",
                    "delivered_local",
                    "completed_local",
                    "cancelled_local",
                )
            },
        ),
    )
    readonly_fields = tuple(f for _name, opts in fieldsets for f in opts["fields"])
    change_form_outer_after_template = "console/orders/order_detail.html"
    actions = ["ship_selected", "deliver_selected"]

    def get_queryset(self, request):
        # The object rule: orders of members this user may see, and walk-in orders.
        return selectors.order_list(user=request.user).select_related("member", "store", "created_by")

    # --- columns and read-only fields -------------------------------------------------------------

    @admin.display(description=_("member"), ordering="member__code")
    def member_label(self, obj):
        if obj.member is None:
            return _gettext("walk-in customer")
        return f"{obj.member.name or obj.member.code} · {obj.member.code}"

    @admin.display(description=_("order total"), ordering="total_fen")
    def total(self, obj):
        return format_yuan(obj.total_fen)

    @admin.display(description=_("paid at"), ordering="paid_at")
    def paid_local(self, obj):
        return _local(obj.paid_at)

    @admin.display(description=_("shipped at"))
    def shipped_local(self, obj):
        return _local(obj.shipped_at) or "—"

    @admin.display(description=_("delivered at"))
    def delivered_local(self, obj):
        return _local(obj.delivered_at) or "—"

    @admin.display(description=_("completed at"))
    def completed_local(self, obj):
        return _local(obj.completed_at) or "—"

    @admin.display(description=_("cancelled at"))
    def cancelled_local(self, obj):
        return _local(obj.cancelled_at) or "—"

    @admin.display(description=_("goods at list price"))
    def goods_gross(self, obj):
        return format_yuan(obj.goods_gross_fen)

    @admin.display(description=_("goods after discounts"))
    def goods_net(self, obj):
        return format_yuan(obj.goods_net_fen)

    @admin.display(description=_("postage"))
    def postage(self, obj):
        return f"{format_yuan(obj.postage_net_fen)} ({format_yuan(obj.postage_gross_fen)})"

    @admin.display(description=_("points paid"))
    def points_paid(self, obj):
        return f"{obj.points_used} ({format_yuan(obj.points_fen)})"

    @admin.display(description=_("paid from the wallet"))
    def wallet(self, obj):
        return format_yuan(obj.wallet_fen)

    @admin.display(description=_("paid otherwise"))
    def cash(self, obj):
        return format_yuan(obj.cash_fen)

    @admin.display(description=_("refunded"))
    def refunded(self, obj):
        return format_yuan(obj.refunded_fen)

    @admin.display(description=_("courier"))
    def courier_label(self, obj):
        return dict(Courier.choices).get(obj.courier, obj.courier) or _gettext("picked up at the till")

    # --- the order page ---------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if order is not None:
            extra["od"] = self._detail(request, order)
        return super().change_view(request, object_id, form_url, extra)

    def _detail(self, request, order: Order) -> dict:
        labels = _labels(order)
        lines = [
            {
                "ref": ln.ref,
                "sku": ln.sku,
                "title": ln.title,
                "quantity": ln.quantity,
                "unit": format_yuan(ln.unit_price_fen),
                "gross": format_yuan(ln.gross_fen),
                "net": format_yuan(ln.net_fen),
                "discounts": _discounts(ln.discounts, labels),
                "points": ln.points_used,
                "wallet": format_yuan(ln.wallet_fen),
                "refunded": ln.refunded_quantity,
                "left": ln.quantity - ln.refunded_quantity,
                "returnable": ln.returnable,
                "special_sale": ln.special_sale,
            }
            for ln in order.lines.all()
        ]
        refunds = [
            {
                "at": _local(r.created_at),
                "kind": r.get_kind_display(),
                "reason": r.reason,
                "goods": format_yuan(r.goods_net_fen),
                "postage": format_yuan(r.postage_fen),
                "wallet": format_yuan(r.wallet_fen),
                "cash": format_yuan(r.cash_fen),
                "points": r.points_returned,
                "coupons_restored": r.coupons_restored,
                "lines": ", ".join(f"{rl.line.sku} × {rl.quantity}" for rl in r.lines.all()),
                "by": r.created_by.get_username() if r.created_by else "",
            }
            for r in Refund.objects.filter(order=order)
            .select_related("created_by")
            .prefetch_related("lines__line")
        ]
        coupons = [
            {
                "code": oc.coupon.code,
                "name": oc.coupon.template.name,
                "discount": format_yuan(oc.discount_fen),
                "released": _local(oc.released_at),
            }
            for oc in order.coupons.all()
        ]
        explanation = order.explanation or {}
        user = request.user
        refundable = order.status in services.REFUNDABLE and any(ln["left"] for ln in lines)
        return {
            "order": order,
            "lines": lines,
            "refunds": refunds,
            "coupons": coupons,
            "text": explanation.get("text", ""),
            "ship_to": order.ship_to
            if can_see_pii(user)
            else (f"{order.ship_province}****" if order.ship_to else ""),
            "offers": [o["label"] for o in explanation.get("offers", []) if o.get("label")],
            "can_ship": user.has_perm("orders.ship_order") and order.status in SHIPPABLE,
            "can_deliver": user.has_perm("orders.ship_order") and order.status in DELIVERABLE,
            "can_refund": user.has_perm("orders.refund_order") and refundable,
            "can_override": user.has_perm("orders.approve_discount"),
            "refund_key": secrets.token_urlsafe(18),
            "ship_url": reverse("admin:orders_order_ship", args=[order.pk]),
            "deliver_url": reverse("admin:orders_order_deliver", args=[order.pk]),
            "refund_url": reverse("admin:orders_order_refund", args=[order.pk]),
        }

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:order_id>/ship/", wrap(self.ship_view), name="orders_order_ship"),
            path("<int:order_id>/deliver/", wrap(self.deliver_view), name="orders_order_deliver"),
            path("<int:order_id>/refund/", wrap(self.refund_view), name="orders_order_refund"),
            *super().get_urls(),
        ]

    def _order_for(self, request, order_id: int, perm: str) -> Order:
        if request.method != "POST":
            raise PermissionDenied
        if not request.user.has_perm(perm):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=order_id)

    def _back(self, order: Order):
        return redirect(reverse("admin:orders_order_change", args=[order.pk]))

    def _fulfil(self, request, order_id: int, fn, done_message):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = self._order_for(request, order_id, "orders.ship_order")
        try:
            fn(order_id=order.pk, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message(request_lang(request)))
        else:
            messages.success(request, done_message % {"number": order.number})
        return self._back(order)

    def ship_view(self, request, order_id: int):
        return self._fulfil(request, order_id, services.order_ship, _gettext("Order %(number)s shipped."))

    def deliver_view(self, request, order_id: int):
        return self._fulfil(
            request, order_id, services.order_deliver, _gettext("Order %(number)s delivered.")
        )

    def refund_view(self, request, order_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = self._order_for(request, order_id, "orders.refund_order")
        lang = request_lang(request)
        quantities: dict[str, int] = {}
        for ln in order.lines.all():
            raw = (request.POST.get(f"qty_{ln.ref}") or "").strip()
            if not raw:
                continue
            try:
                q = int(raw)
            except ValueError:
                q = -1
            if q < 0:
                messages.error(request, _gettext("Quantities must be whole numbers."))
                return self._back(order)
            if q:
                quantities[ln.ref] = q
        if not quantities:
            messages.error(request, _gettext("Choose the quantities to refund."))
            return self._back(order)
        restore = {"yes": True, "no": False}.get(request.POST.get("restore_coupons", ""))
        override = bool(request.POST.get("override_window")) and request.user.has_perm(
            "orders.approve_discount"
        )
        key = (request.POST.get("key") or "").strip()[:40] or secrets.token_urlsafe(18)
        try:
            refund = services.order_refund(
                order_id=order.pk,
                key=f"{order.number}:console:{key}",
                quantities=quantities,
                reason=(request.POST.get("reason") or "").strip()[:255],
                restore_coupons=restore,
                override_window=override,
                actor=request.user,
            )
        except DomainError as exc:
            messages.error(request, exc.message(lang))
        else:
            messages.success(
                request,
                _gettext(
                    "Refunded %(goods)s (wallet %(wallet)s, by the original payment %(cash)s, "
                    "points given back %(points)s)."
                )
                % {
                    "goods": format_yuan(refund.goods_net_fen + refund.postage_fen),
                    "wallet": format_yuan(refund.wallet_fen),
                    "cash": format_yuan(refund.cash_fen),
                    "points": refund.points_returned,
                },
            )
        return self._back(order)

    # --- bulk actions -----------------------------------------------------------------------------

    def has_ship_permission(self, request):
        return request.user.has_perm("orders.ship_order")

    def _bulk(self, request, queryset, fn, allowed):
        done = 0
        lang = request_lang(request)
        for order in queryset.order_by("pk"):
            if order.status not in allowed:
                continue
            try:
                fn(order_id=order.pk, actor=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{order.number}: {exc.message(lang)}", messages.WARNING)
        self.message_user(request, _gettext("%(n)d order(s) updated.") % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Mark the selected orders shipped"), permissions=["ship"])
    def ship_selected(self, request, queryset):
        self._bulk(request, queryset, services.order_ship, SHIPPABLE)

    @admin.action(description=_("Mark the selected orders delivered"), permissions=["ship"])
    def deliver_selected(self, request, queryset):
        self._bulk(request, queryset, services.order_deliver, DELIVERABLE)


# --- big-order discount approvals ----------------------------------------------------------------


class DiscountRequestForm(forms.ModelForm):
    """A cashier asks a manager for a big order's extra discount (请示领导)."""

    member_text = forms.CharField(label=_("member (mobile or member number)"), required=False, max_length=64)
    order_total = forms.DecimalField(label=_("order amount (yuan)"), min_value=0, decimal_places=2)
    amount = forms.DecimalField(label=_("extra discount (yuan)"), min_value=0, decimal_places=2)

    lang = "zh-hans"
    user = None

    class Meta:
        model = DiscountApproval
        fields = ["reason"]

    def clean(self):
        data = super().clean()
        text = (data.get("member_text") or "").strip()
        data["member"] = None
        if text:
            found = list(member_search(self.user, q=text)[:2])
            if len(found) != 1:
                raise ValidationError({"member_text": _("No single member matches.")})
            data["member"] = found[0]
        return data


@admin.register(DiscountApproval)
class DiscountApprovalAdmin(FormAdmin):
    form = DiscountRequestForm
    list_display = (
        "id",
        "member_label",
        "amount",
        "order_total",
        "reason",
        "state",
        "requested_by",
        "decided_by",
        "created_local",
        "order",
    )
    list_filter = ("state",)
    search_fields = ("reason", "member__code", "member__mobile")
    list_select_related = ("member", "requested_by", "decided_by", "order")
    actions = ["approve", "reject"]
    readonly_fields = (
        "member_label",
        "amount",
        "order_total",
        "reason",
        "state",
        "requested_by",
        "decided_by",
        "decision_note",
        "created_local",
        "decided_local",
        "order",
    )

    def get_queryset(self, request):
        return selectors.approval_list()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["member_text", "order_total", "amount", "reason"]
        return list(self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def has_add_permission(self, request):
        return request.user.has_perm("orders.settle_order")

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return admin.ModelAdmin.get_actions(self, request)

    def has_approve_permission(self, request):
        return request.user.has_perm("orders.approve_discount")

    @admin.display(description=_("member"))
    def member_label(self, obj):
        return obj.member if obj.member_id else "—"

    @admin.display(description=_("extra discount"), ordering="amount_fen")
    def amount(self, obj):
        return format_yuan(obj.amount_fen)

    @admin.display(description=_("order amount"), ordering="order_total_fen")
    def order_total(self, obj):
        return format_yuan(obj.order_total_fen)

    @admin.display(description=_("created at"), ordering="created_at")
    def created_local(self, obj):
        return _local(obj.created_at)

    @admin.display(description=_("decided at"))
    def decided_local(self, obj):
        return _local(obj.decided_at) or "—"

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        saved = self.call(
            request,
            services.discount_request,
            member_id=cd["member"].pk if cd.get("member") else None,
            order_total_fen=yuan_to_fen(cd["order_total"]),
            amount_fen=yuan_to_fen(cd["amount"]),
            reason=cd["reason"],
        )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError:
            return redirect(reverse("admin:orders_discountapproval_add"))  # the message is shown

    def _decide(self, request, queryset, approve: bool):
        done = 0
        lang = request_lang(request)
        for pk in queryset.filter(state=DiscountApproval.State.REQUESTED).values_list("pk", flat=True):
            try:
                services.discount_decide(approval_id=pk, approve=approve, actor=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"#{pk}: {exc.message(lang)}", messages.WARNING)
        self.message_user(request, _gettext("%(n)d request(s) decided.") % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Approve the selected discount requests"), permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description=_("Reject the selected discount requests"), permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset, False)


# --- settings --------------------------------------------------------------------------------------


class OrderSettingsForm(forms.ModelForm):
    lang = "zh-hans"
    user = None

    class Meta:
        model = OrderSettings
        fields = list(services.SETTINGS_FIELDS)

    def clean(self):
        data = super().clean()
        for name, (low, high) in services.SETTINGS_FIELDS.items():
            value = data.get(name)
            if value is not None and not low <= value <= high:
                self.add_error(name, _("Between %(low)s and %(high)s.") % {"low": low, "high": high})
        return data


@admin.register(OrderSettings)
class OrderSettingsAdmin(FormAdmin):
    """One row: the list goes straight to it; saved through ``order_settings_update``."""

    form = OrderSettingsForm
    list_display = ("__str__", "return_days_member", "return_days_other", "cod_review_hours")

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return redirect(reverse("admin:orders_ordersettings_change", args=[1]))

    def get_object(self, request, object_id, from_field=None):
        # The row may not exist yet: the defaults are shown, the first save creates it (service).
        return order_settings() if str(object_id) == "1" else None

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in form.changed_data if k in services.SETTINGS_FIELDS}
        saved = self.call(request, services.order_settings_update, data=data)
        obj.__dict__.update(saved.__dict__)
        obj._state.adding = False

    def response_change(self, request, obj):
        messages.success(request, _gettext("Order settings saved."))
        return redirect(reverse("admin:orders_ordersettings_change", args=[obj.pk]))

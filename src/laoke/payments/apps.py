from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "laoke.payments"
    label = "payments"
    verbose_name = _("Payments")
    # Marketers (also 企划部) design the recharge packages; service roles look purchases up for
    # members, the service manager refunds; cashiers may read purchases (a member at the till
    # asking whether the top-up arrived). The admin holds everything.
    role_permissions: dict[str, list[str]] = {
        "marketer": [
            "payments.view_rechargepackage",
            "payments.add_rechargepackage",
            "payments.change_rechargepackage",
            "payments.view_packagepurchase",
        ],
        "service_manager": [
            "payments.view_rechargepackage",
            "payments.view_packagepurchase",
            "payments.refund_packagepurchase",
            "payments.view_paymentnotification",
        ],
        "service_agent": ["payments.view_rechargepackage", "payments.view_packagepurchase"],
        "cashier": ["payments.view_rechargepackage", "payments.view_packagepurchase"],
    }

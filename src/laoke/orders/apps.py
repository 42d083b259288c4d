from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_READ = ["orders.view_order", "orders.view_discountapproval", "orders.view_ordersettings"]


class OrdersConfig(AppConfig):
    name = "laoke.orders"
    label = "orders"
    verbose_name = _("Orders")
    # Permissions this app grants to the roles of laoke.core.roles (merged by roles_sync).
    # Cashiers quote, settle and take returns at the till and ask for a big order's extra
    # discount; service managers approve it (请示领导), return past the window and handle
    # delivery and reviews with their agents; the shop's systems settle and refund by API.
    role_permissions: dict[str, list[str]] = {
        "cashier": [*_READ, "orders.settle_order", "orders.refund_order"],
        "service_manager": [*_READ, "orders.refund_order", "orders.ship_order", "orders.approve_discount"],
        "service_agent": [*_READ, "orders.ship_order"],
        "marketer": ["orders.view_order"],
        "analyst": ["orders.view_order"],
        "api_client": [*_READ, "orders.settle_order", "orders.refund_order", "orders.ship_order"],
    }

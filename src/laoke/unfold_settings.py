"""django-unfold look and navigation for the console (kept out of settings.py for readability)."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


def _perm(perm):
    return lambda request: request.user.has_perm(perm)


UNFOLD = {
    "SITE_TITLE": _("Laoke console"),
    "SITE_HEADER": _("Laoke 老客"),
    "SITE_SYMBOL": "loyalty",
    "SHOW_LANGUAGES": True,
    "SHOW_HISTORY": False,
    "DASHBOARD_CALLBACK": "laoke.console.dashboard.dashboard_callback",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            {
                "title": _("Members"),
                "items": [
                    {"title": _("Dashboard"), "icon": "dashboard", "link": reverse_lazy("admin:index")},
                    {
                        "title": _("Members"),
                        "icon": "group",
                        "link": reverse_lazy("admin:members_member_changelist"),
                        "permission": _perm("members.view_member"),
                    },
                    {
                        "title": _("Group accounts"),
                        "icon": "groups",
                        "link": reverse_lazy("admin:members_groupaccount_changelist"),
                        "permission": _perm("members.view_groupaccount"),
                    },
                    {
                        "title": _("Tags"),
                        "icon": "sell",
                        "link": reverse_lazy("admin:members_tag_changelist"),
                        "permission": _perm("members.view_tag"),
                    },
                    {
                        "title": _("Custom attributes"),
                        "icon": "tune",
                        "link": reverse_lazy("admin:members_attributedefinition_changelist"),
                        "permission": _perm("members.view_attributedefinition"),
                    },
                    {
                        "title": _("Corporate archive"),
                        "icon": "apartment",
                        "link": reverse_lazy("admin:members_corporateaccount_changelist"),
                        "permission": _perm("members.view_corporateaccount"),
                    },
                    {
                        "title": _("Membership cards"),
                        "icon": "badge",
                        "link": reverse_lazy("admin:members_membershipcard_changelist"),
                        "permission": _perm("members.view_membershipcard"),
                    },
                ],
            },
            {
                "title": _("Catalogue"),
                "items": [
                    {
                        "title": _("Products"),
                        "icon": "inventory_2",
                        "link": reverse_lazy("admin:catalog_product_changelist"),
                        "permission": _perm("catalog.view_product"),
                    },
                    {
                        "title": _("Categories"),
                        "icon": "account_tree",
                        "link": reverse_lazy("admin:catalog_category_changelist"),
                        "permission": _perm("catalog.view_category"),
                    },
                    {
                        "title": _("Gift items"),
                        "icon": "redeem",
                        "link": reverse_lazy("admin:catalog_giftitem_changelist"),
                        "permission": _perm("catalog.view_giftitem"),
                    },
                ],
            },
            {
                "title": _("Value and promotions"),
                "items": [
                    {
                        "title": _("Cashier recharge"),
                        "icon": "point_of_sale",
                        "link": reverse_lazy("cards_recharge"),
                        "permission": _perm("cards.recharge_card"),
                    },
                    {
                        "title": _("Recharge packages"),
                        "icon": "savings",
                        "link": reverse_lazy("payments_index"),
                        "permission": _perm("payments.view_rechargepackage"),
                    },
                    {
                        "title": _("Card batches"),
                        "icon": "credit_card",
                        "link": reverse_lazy("admin:cards_cardbatch_changelist"),
                        "permission": _perm("cards.view_cardbatch"),
                    },
                    {
                        "title": _("Prepaid cards"),
                        "icon": "style",
                        "link": reverse_lazy("admin:cards_card_changelist"),
                        "permission": _perm("cards.view_card"),
                    },
                    {
                        "title": _("Coupon templates"),
                        "icon": "confirmation_number",
                        "link": reverse_lazy("admin:promotions_coupontemplate_changelist"),
                        "permission": _perm("promotions.view_coupontemplate"),
                    },
                    {
                        "title": _("Coupons"),
                        "icon": "local_activity",
                        "link": reverse_lazy("admin:promotions_coupon_changelist"),
                        "permission": _perm("promotions.view_coupon"),
                    },
                    {
                        "title": _("Points programme"),
                        "icon": "stars",
                        "link": reverse_lazy("admin:points_pointsprogramme_changelist"),
                        "permission": _perm("points.view_pointsprogramme"),
                    },
                    {
                        "title": _("Gift catalogue"),
                        "icon": "card_giftcard",
                        "link": reverse_lazy("admin:points_giftoffer_changelist"),
                        "permission": _perm("points.view_giftoffer"),
                    },
                    {
                        "title": _("Receipt claims"),
                        "icon": "receipt_long",
                        "link": reverse_lazy("admin:points_receiptclaim_changelist"),
                        "permission": _perm("points.view_receiptclaim"),
                    },
                    {
                        "title": _("Tier programmes"),
                        "icon": "military_tech",
                        "link": reverse_lazy("admin:tiers_tierprogramme_changelist"),
                        "permission": _perm("tiers.view_tierprogramme"),
                    },
                    {
                        "title": _("Member tiers"),
                        "icon": "workspace_premium",
                        "link": reverse_lazy("admin:tiers_membertier_changelist"),
                        "permission": _perm("tiers.view_membertier"),
                    },
                    {
                        "title": _("Shipping rules"),
                        "icon": "local_shipping",
                        "link": reverse_lazy("admin:shipping_shippingruleset_changelist"),
                        "permission": _perm("shipping.view_shippingruleset"),
                    },
                    {
                        "title": _("Postage table"),
                        "icon": "payments",
                        "link": reverse_lazy("admin:shipping_postagerate_changelist"),
                        "permission": _perm("shipping.view_postagerate"),
                    },
                ],
            },
            {
                "title": _("Orders"),
                "items": [
                    {
                        "title": _("Checkout"),
                        "icon": "shopping_cart_checkout",
                        "link": reverse_lazy("orders_checkout"),
                        "permission": _perm("orders.settle_order"),
                    },
                    {
                        "title": _("Orders"),
                        "icon": "receipt",
                        "link": reverse_lazy("admin:orders_order_changelist"),
                        "permission": _perm("orders.view_order"),
                    },
                    {
                        "title": _("Discount approvals"),
                        "icon": "approval",
                        "link": reverse_lazy("admin:orders_discountapproval_changelist"),
                        "permission": _perm("orders.view_discountapproval"),
                    },
                    {
                        "title": _("Order settings"),
                        "icon": "settings",
                        "link": reverse_lazy("admin:orders_ordersettings_changelist"),
                        "permission": _perm("orders.view_ordersettings"),
                    },
                ],
            },
            {
                "title": _("Marketing"),
                "items": [
                    {
                        "title": _("Segments"),
                        "icon": "groups",
                        "link": reverse_lazy("segments_list"),
                        "permission": _perm("segments.view_segment"),
                    },
                    {
                        "title": _("Campaigns"),
                        "icon": "campaign",
                        "link": reverse_lazy("campaigns_list"),
                        "permission": _perm("campaigns.view_campaign"),
                    },
                    {
                        "title": _("Message templates"),
                        "icon": "edit_note",
                        "link": reverse_lazy("channels_templates"),
                        "permission": _perm("channels.view_messagetemplate"),
                    },
                    {
                        "title": _("Call and visit list"),
                        "icon": "support_agent",
                        "link": reverse_lazy("channels_tasks"),
                        "permission": _perm("channels.view_stafftask"),
                    },
                    {
                        "title": _("Marketing guards"),
                        "icon": "shield",
                        "link": reverse_lazy("campaigns_settings"),
                        "permission": _perm("campaigns.view_campaignsettings"),
                    },
                ],
            },
            {
                "title": _("Analytics"),
                "items": [
                    {
                        "title": _("Campaign evaluation"),
                        "icon": "query_stats",
                        "link": reverse_lazy("analytics_evaluation"),
                        "permission": _perm("campaigns.view_campaign"),
                    },
                    {
                        "title": _("RFM segments"),
                        "icon": "donut_small",
                        "link": reverse_lazy("analytics_rfm"),
                        "permission": _perm("analytics.view_clvfit"),
                    },
                    {
                        "title": _("Customer lifetime value"),
                        "icon": "savings",
                        "link": reverse_lazy("analytics_clv"),
                        "permission": _perm("analytics.view_clvfit"),
                    },
                    {
                        "title": _("Cohorts and repurchase"),
                        "icon": "grid_on",
                        "link": reverse_lazy("analytics_cohorts"),
                        "permission": _perm("analytics.view_clvfit"),
                    },
                    {
                        "title": _("Lifecycle and activity"),
                        "icon": "timeline",
                        "link": reverse_lazy("analytics_lifecycle"),
                        "permission": _perm("analytics.view_clvfit"),
                    },
                    {
                        "title": _("Association rules"),
                        "icon": "hub",
                        "link": reverse_lazy("analytics_rules"),
                        "permission": _perm("analytics.view_productrole"),
                    },
                    {
                        "title": _("Product roles"),
                        "icon": "category",
                        "link": reverse_lazy("analytics_roles"),
                        "permission": _perm("analytics.view_productrole"),
                    },
                    {
                        "title": _("Traffic and funnel"),
                        "icon": "filter_alt",
                        "link": reverse_lazy("analytics_traffic"),
                        "permission": _perm("analytics.view_pageview"),
                    },
                    {
                        "title": _("Event forecast"),
                        "icon": "calculate",
                        "link": reverse_lazy("analytics_forecast"),
                        "permission": _perm("analytics.view_eventforecast"),
                    },
                ],
            },
            {
                "title": _("Service and care"),
                "items": [
                    {
                        "title": _("Service queue"),
                        "icon": "support_agent",
                        "link": reverse_lazy("service_index"),
                        "permission": _perm("service.view_servicecase"),
                    },
                    {
                        "title": _("Care content and call cases"),
                        "icon": "menu_book",
                        "link": reverse_lazy("service_libraries"),
                        "permission": _perm("service.view_carearticle"),
                    },
                    {
                        "title": _("Service rules"),
                        "icon": "rule",
                        "link": reverse_lazy("service_rules"),
                        "permission": _perm("service.view_handlingrule"),
                    },
                ],
            },
            {
                "title": _("Events"),
                "items": [
                    {
                        "title": _("Events and lotteries"),
                        "icon": "celebration",
                        "link": reverse_lazy("events_index"),
                        "permission": _perm("events.view_event"),
                    },
                    {
                        "title": _("Holiday campaigns"),
                        "icon": "redeem",
                        "link": reverse_lazy("holidays_index"),
                        "permission": _perm("holidays.view_giftcampaign"),
                    },
                ],
            },
            {
                "title": _("Sales"),
                "items": [
                    {
                        "title": _("Sales pipeline"),
                        "icon": "view_kanban",
                        "link": reverse_lazy("b2b_index"),
                        "permission": _perm("b2b.view_opportunity"),
                    },
                    {
                        "title": _("Big customers"),
                        "icon": "handshake",
                        "link": reverse_lazy("b2b_customers"),
                        "permission": _perm("b2b.view_bigcustomer"),
                    },
                    {
                        "title": _("Charge accounts"),
                        "icon": "credit_card",
                        "link": reverse_lazy("b2b_accounts"),
                        "permission": _perm("b2b.view_chargeaccount"),
                    },
                    {
                        "title": _("Conference survey"),
                        "icon": "fact_check",
                        "link": reverse_lazy("b2b_surveys"),
                        "permission": _perm("b2b.view_surveyresponse"),
                    },
                    {
                        "title": _("My day"),
                        "icon": "today",
                        "link": reverse_lazy("staff_index"),
                        "permission": _perm("staff.view_worklog"),
                    },
                    {
                        "title": _("Work log"),
                        "icon": "edit_note",
                        "link": reverse_lazy("staff_log"),
                        "permission": _perm("staff.add_worklog"),
                    },
                    {
                        "title": _("Prospects"),
                        "icon": "person_search",
                        "link": reverse_lazy("staff_prospects"),
                        "permission": _perm("staff.view_prospect"),
                    },
                    {
                        "title": _("Monthly assessment"),
                        "icon": "insert_chart",
                        "link": reverse_lazy("staff_assessment"),
                        "permission": _perm("staff.view_assessment"),
                    },
                ],
            },
            {
                "title": _("Import and export"),
                "items": [
                    {
                        "title": _("Import"),
                        "icon": "upload",
                        "link": reverse_lazy("imports_list"),
                        "permission": _perm("imports.view_importjob"),
                    },
                    {
                        "title": _("Exports"),
                        "icon": "download",
                        "link": reverse_lazy("exports_list"),
                        "permission": _perm("imports.view_exportjob"),
                    },
                ],
            },
            {
                "title": _("System"),
                "items": [
                    {
                        "title": _("Messages"),
                        "icon": "sms",
                        "link": reverse_lazy("admin:messaging_message_changelist"),
                        "permission": _perm("messaging.view_message"),
                    },
                    {
                        "title": _("Member sessions"),
                        "icon": "phone_iphone",
                        "link": reverse_lazy("admin:portal_membersession_changelist"),
                        "permission": _perm("portal.view_membersession"),
                    },
                    {
                        "title": _("Stores"),
                        "icon": "store",
                        "link": reverse_lazy("admin:core_store_changelist"),
                        "permission": _perm("core.view_store"),
                    },
                    {
                        "title": _("Audit log"),
                        "icon": "history",
                        "link": reverse_lazy("admin:core_auditentry_changelist"),
                        "permission": _perm("core.view_auditentry"),
                    },
                    {
                        "title": _("API tokens"),
                        "icon": "key",
                        "link": reverse_lazy("admin:core_apitoken_changelist"),
                        "permission": _perm("core.view_apitoken"),
                    },
                    {
                        "title": _("Staff users"),
                        "icon": "person",
                        "link": reverse_lazy("admin:auth_user_changelist"),
                        "permission": _perm("auth.view_user"),
                    },
                    {
                        "title": _("Roles"),
                        "icon": "admin_panel_settings",
                        "link": reverse_lazy("admin:auth_group_changelist"),
                        "permission": _perm("auth.view_group"),
                    },
                ],
            },
        ],
    },
}

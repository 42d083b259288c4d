"""Who may open which console page: written from SPEC 16, docs/decisions/0006 (roles, the object
rule), 0030 (the sales roles and approvals) and each app's decision (who designs, who reads, who
approves) — not read back from the views' permission checks. docs/decisions/0043 explains the
sections. ``tests/test_console_permission_matrix.py`` walks the URL resolver and tries every page
below as every role and as nobody.

Two tables:

- ``ADMIN_MODELS``: for each model registered in the admin, the roles that may view it (list,
  read-only form, history), add one, change one and delete one. ``NOBODY`` means the admin refuses
  it to everyone, the admin role included: value rows (ledger, points lots, cards, coupons'
  history, orders) are written by services only (ARCHITECTURE rule 2), audit rows never change,
  and roles live in code (core/roles.py), so no one edits groups by hand.
- ``CUSTOM``: the console's own pages (and the admin's extra model pages such as an order's
  ship/refund forms), by URL name: who may GET it, who may POST to it (``None``: not a form), and
  ``post_only`` when GET is not a page at all (405 for every signed-in user).
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "admin"
MARKETER = "marketer"
ANALYST = "analyst"
SERVICE_MANAGER = "service_manager"
SERVICE_AGENT = "service_agent"
CASHIER = "cashier"
REDEMPTION_CLERK = "redemption_clerk"
API_CLIENT = "api_client"
SALES_REP = "sales_rep"
SALES_MANAGER = "sales_manager"
GENERAL_MANAGER = "general_manager"

ROLES = [
    ADMIN,
    MARKETER,
    ANALYST,
    SERVICE_MANAGER,
    SERVICE_AGENT,
    CASHIER,
    REDEMPTION_CLERK,
    API_CLIENT,
    SALES_REP,
    SALES_MANAGER,
    GENERAL_MANAGER,
]


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


ALL = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()
AD = roles(ADMIN)
DESIGNERS = roles(ADMIN, MARKETER)  # planning (企划部 = marketer) designs programmes and rules
MANAGERS = roles(ADMIN, SERVICE_MANAGER)
SALES = roles(SALES_REP, SALES_MANAGER, GENERAL_MANAGER)

# SPEC 16 / 0006: every staff role looks members up (masked unless it may see PII); the object rule
# hides group accounts' members from everyone without members.see_group_members.
MEMBER_READERS = ALL
GROUP_MEMBER_READERS = roles(ADMIN, SERVICE_MANAGER, API_CLIENT)
MEMBER_REGISTRARS = roles(ADMIN, SERVICE_MANAGER, SERVICE_AGENT, CASHIER, API_CLIENT)
MEMBER_WRITERS = roles(ADMIN, SERVICE_MANAGER, SERVICE_AGENT, API_CLIENT)
# The catalogue: everyone but the redemption clerk, who sees gifts only.
CATALOG_READERS = ALL - {REDEMPTION_CLERK}
CATALOG_WRITERS = roles(ADMIN, MARKETER, API_CLIENT)
# Loyalty configuration (tiers, points, coupons, shipping, flash, referrals) is read by the
# front-line and the analysts, designed by marketing. Sales roles work B2B and have no part in it.
FRONT = roles(ADMIN, MARKETER, ANALYST, SERVICE_MANAGER, SERVICE_AGENT, CASHIER, API_CLIENT)
POINTS_READERS = FRONT | {REDEMPTION_CLERK}
TILL = roles(ADMIN, SERVICE_MANAGER, SERVICE_AGENT, CASHIER, API_CLIENT)  # recharge, see cards
SETTLERS = roles(ADMIN, CASHIER, API_CLIENT)
ORDER_READERS = FRONT
SHIPPERS = roles(ADMIN, SERVICE_MANAGER, SERVICE_AGENT, API_CLIENT)
REFUNDERS = roles(ADMIN, SERVICE_MANAGER, CASHIER, API_CLIENT)
MARKETING_READERS = roles(ADMIN, MARKETER, ANALYST)  # segments, analytics
CAMPAIGN_READERS = roles(ADMIN, MARKETER, ANALYST, SERVICE_MANAGER)  # the manager approves campaigns
CONTACT_READERS = CAMPAIGN_READERS | {SERVICE_AGENT}  # a member's contact history
TEMPLATE_READERS = roles(ADMIN, MARKETER, ANALYST, SERVICE_MANAGER, SERVICE_AGENT)
TASK_WORKERS = roles(ADMIN, SERVICE_MANAGER, SERVICE_AGENT)
EXPORTERS = roles(ADMIN, MARKETER, ANALYST, SERVICE_MANAGER)
IMPORTERS = DESIGNERS
PAYMENT_READERS = roles(ADMIN, MARKETER, SERVICE_MANAGER, SERVICE_AGENT, CASHIER)
# Service (0033): agents, managers, the sales manager and planning handle cases; managers, planning,
# the general manager and analysts read every case; analysts only read.
CASE_HANDLERS = roles(ADMIN, SERVICE_AGENT, SERVICE_MANAGER, SALES_MANAGER, MARKETER, GENERAL_MANAGER)
CASE_READERS = CASE_HANDLERS | {ANALYST}
CASE_READ_ALL = roles(ADMIN, SERVICE_MANAGER, MARKETER, GENERAL_MANAGER, ANALYST)
SERVICE_RULE_READERS = roles(ADMIN, SERVICE_MANAGER, MARKETER, GENERAL_MANAGER, ANALYST)
# Events (0034): planning runs them, sales and service propose invitees, cashiers sign guests in.
EVENT_READERS = roles(
    ADMIN,
    MARKETER,
    ANALYST,
    SERVICE_MANAGER,
    SERVICE_AGENT,
    CASHIER,
    SALES_REP,
    SALES_MANAGER,
    GENERAL_MANAGER,
)
LOTTERY_READERS = EVENT_READERS - {CASHIER}
# Holidays (0035): gift campaigns are read by service, sales and planning; draw games by cashiers.
GIFT_CAMPAIGN_READERS = roles(
    ADMIN,
    MARKETER,
    ANALYST,
    SERVICE_MANAGER,
    SERVICE_AGENT,
    SALES_REP,
    SALES_MANAGER,
    GENERAL_MANAGER,
)
HOLIDAY_READERS = GIFT_CAMPAIGN_READERS | {CASHIER}
GIFT_APPLICANTS = roles(ADMIN, SERVICE_AGENT, SERVICE_MANAGER, SALES_REP, SALES_MANAGER)
GIFT_REVIEWERS = roles(ADMIN, SERVICE_MANAGER, SALES_MANAGER, MARKETER)
# B2B (0036): the pipeline belongs to sales; planning and analysts read it.
PIPELINE_READERS = SALES | roles(ADMIN, MARKETER, ANALYST)
CUSTOMER_READERS = SALES | roles(ADMIN, MARKETER)
CHARGE_ACCOUNT_READERS = SALES | roles(ADMIN, CASHIER)
# Staff (0037): reps' logs, plans and prospects; managers sign assessments.
STAFF_READERS = roles(ADMIN, SALES_REP, SALES_MANAGER, GENERAL_MANAGER)
SALES_WORKERS = roles(ADMIN, SALES_REP, SALES_MANAGER)


@dataclass(frozen=True)
class Model:
    view: frozenset[str]
    add: frozenset[str] = NOBODY
    change: frozenset[str] = NOBODY
    delete: frozenset[str] = NOBODY
    add_redirect: str | None = None  # "add" is a console page of its own (URL name)


def readonly(view: frozenset[str]) -> Model:
    return Model(view=view)


ADMIN_MODELS: dict[str, Model] = {
    # core: the audit log is read by admins; stores are configured by admins; tokens are minted by
    # admins and revoked, never edited; users and roles are the admin's (roles come from code).
    "core.auditentry": readonly(AD),
    "core.store": Model(view=ALL, add=AD, change=AD),
    "core.apitoken": Model(view=AD, add=AD),
    "auth.user": Model(view=AD, add=AD, change=AD),
    "auth.group": readonly(AD),
    # members (0006): deletion is the PIPL anonymisation, never a delete.
    "members.member": Model(view=MEMBER_READERS, add=MEMBER_REGISTRARS, change=MEMBER_WRITERS),
    "members.groupaccount": Model(view=ALL, add=MANAGERS, change=MANAGERS),
    "members.corporateaccount": Model(view=MANAGERS, add=MANAGERS, change=MANAGERS),
    "members.tag": Model(
        view=roles(ADMIN, MARKETER, ANALYST, SERVICE_MANAGER, SERVICE_AGENT), add=DESIGNERS, change=DESIGNERS
    ),
    "members.attributedefinition": Model(
        view=roles(ADMIN, MARKETER, ANALYST, SERVICE_MANAGER, SERVICE_AGENT, API_CLIENT), add=AD
    ),
    "members.cardpolicy": Model(view=AD, add=AD),
    "members.agreement": Model(view=AD, add=AD),
    "members.membershipcard": readonly(AD),
    # catalogue
    "catalog.category": Model(view=CATALOG_READERS, add=CATALOG_WRITERS, change=CATALOG_WRITERS),
    "catalog.product": Model(view=CATALOG_READERS, add=CATALOG_WRITERS, change=CATALOG_WRITERS),
    "catalog.giftitem": Model(view=ALL, add=CATALOG_WRITERS, change=CATALOG_WRITERS),
    # stock is read by everyone who reads gifts (API: GET gift-stock is ALL); "add" records an
    # adjustment, by those who change stock; rows are never edited
    "catalog.giftstock": Model(view=ALL, add=CATALOG_WRITERS | {REDEMPTION_CLERK}),
    # the ledger and the outbox are read-only
    "ledger.account": readonly(AD),
    "ledger.transfer": readonly(AD),
    "messaging.message": readonly(roles(ADMIN, MARKETER, SERVICE_MANAGER)),
    "messaging.inboundmessage": readonly(TASK_WORKERS),
    # tiers (0012): marketing designs programmes; the service manager grants a member's tier
    # a programme is retired, not deleted (members' history points at it); a level may go
    "tiers.tierprogramme": Model(view=FRONT, add=DESIGNERS, change=DESIGNERS),
    "tiers.tierlevel": Model(view=FRONT, add=DESIGNERS, change=DESIGNERS, delete=DESIGNERS),
    # "add" is the manual grant (tiers.grant_tier); a tier row is never edited
    "tiers.membertier": Model(view=FRONT, add=MANAGERS),
    "tiers.tierhistory": readonly(FRONT),
    # points (0013): lots, earnings, refunds, sign-ins and migrations are value rows
    "points.pointsprogramme": Model(view=POINTS_READERS, change=DESIGNERS),
    "points.earnrule": Model(view=MARKETING_READERS, add=DESIGNERS, change=DESIGNERS),
    "points.giftlevel": Model(view=POINTS_READERS, add=DESIGNERS, change=DESIGNERS),
    "points.giftoffer": Model(view=POINTS_READERS, add=DESIGNERS, change=DESIGNERS),
    "points.receiptclaim": readonly(roles(ADMIN, SERVICE_MANAGER, SERVICE_AGENT, API_CLIENT)),
    "points.pointslot": readonly(POINTS_READERS),
    "points.pointsearning": readonly(roles(ADMIN, MARKETER, ANALYST, SERVICE_MANAGER)),
    "points.giftredemption": readonly(roles(ADMIN, MARKETER, ANALYST, SERVICE_MANAGER, REDEMPTION_CLERK)),
    "points.pointsrefund": readonly(AD),
    "points.signin": readonly(AD),
    "points.pointsmigrationentry": readonly(AD),
    # cards (0014): batches are made by the service manager on a console page; cards are value
    "cards.cardbatch": Model(view=MANAGERS, add_redirect="cards_batch_new"),
    "cards.card": readonly(TILL),
    "cards.cardevent": readonly(MANAGERS),
    "cards.walletpolicy": Model(view=MANAGERS, change=AD),
    "cards.walletclosure": readonly(MANAGERS),
    # promotions (0016, 0018): coupons are issued by services, their state changes by staff
    "promotions.coupontemplate": Model(view=FRONT, add=DESIGNERS, change=DESIGNERS),
    "promotions.coupon": Model(
        view=FRONT, change=roles(ADMIN, MARKETER, SERVICE_MANAGER, SERVICE_AGENT, API_CLIENT)
    ),
    "promotions.giftrule": Model(view=FRONT, add=DESIGNERS, change=DESIGNERS),
    "promotions.memberprice": Model(view=FRONT, add=DESIGNERS, change=DESIGNERS),
    # 满就送 rules and bundles are designed through the API (0018); the admin only lists them
    "promotions.fullsendrule": readonly(FRONT),
    "promotions.bundle": readonly(FRONT),
    # flash (0019)
    "flash.flashzone": Model(view=FRONT, change=DESIGNERS),
    "flash.flashitem": Model(view=FRONT, add=DESIGNERS, change=DESIGNERS),
    "flash.holiday": Model(view=FRONT, add=DESIGNERS, change=DESIGNERS),
    "flash.flashday": readonly(MARKETING_READERS),
    "flash.flashclaim": readonly(MARKETING_READERS | {SERVICE_MANAGER}),
    # referrals (0020)
    "referrals.referralprogramme": Model(view=FRONT, change=DESIGNERS),
    "referrals.subsidyrule": Model(view=MARKETING_READERS, add=DESIGNERS, change=DESIGNERS),
    "referrals.referral": readonly(FRONT),
    "referrals.referralsubsidy": readonly(MARKETING_READERS | {SERVICE_MANAGER}),
    "referrals.referralsale": readonly(MARKETING_READERS),
    # shipping (0015)
    "shipping.shippingruleset": Model(view=FRONT, add=DESIGNERS, change=DESIGNERS),
    "shipping.shippingrule": Model(view=FRONT, add=DESIGNERS, change=DESIGNERS, delete=DESIGNERS),
    "shipping.postagerate": Model(view=FRONT, add=DESIGNERS, change=DESIGNERS),
    "shipping.regionassignment": readonly(FRONT),
    # orders (0021): settled by the checkout, changed only by ship/deliver/refund pages
    "orders.order": readonly(ORDER_READERS),
    # the till files the request for a big discount (add); the manager decides it elsewhere
    "orders.discountapproval": Model(view=TILL, add=SETTLERS),
    "orders.ordersettings": Model(view=TILL, change=AD),
    # segments (0022)
    # segments are built on the console's builder page, not in the admin form
    "segments.segment": readonly(MARKETING_READERS),
    "segments.segmentsnapshot": readonly(MARKETING_READERS),
    # channels (0023)
    # templates are written on the console's editor page (channels_template_*)
    "channels.messagetemplate": readonly(TEMPLATE_READERS),
    "channels.stafftask": readonly(TASK_WORKERS),
    # portal (0032): member sessions are service data, login codes the manager's
    "portal.membersession": readonly(TASK_WORKERS),
    "portal.logincode": readonly(MANAGERS),
}


@dataclass(frozen=True)
class Page:
    get: frozenset[str]
    post: frozenset[str] | None = None  # None: the page takes no POST worth trying
    post_only: bool = False  # GET answers 405 to everyone signed in
    redirect: str | None = None  # every signed-in user is sent to this page (URL name), which decides
    missing: bool = False  # the page answers 404 by nature (see view_on_site)
    # Object rule: roles that open pages of this kind but not the fixture's object (e.g. a case
    # assigned to someone else): they must get 404, as for an object that does not exist.
    hidden: frozenset[str] = NOBODY


def post_only(who: frozenset[str]) -> Page:
    return Page(get=who, post=who, post_only=True)


CUSTOM: dict[str, Page] = {
    # member 360 (SPEC 17; the object rule is checked again on a group member below)
    "member_360": Page(get=MEMBER_READERS),
    # stored value (0014): cashiers and service recharge cards; batches are the manager's
    "cards_recharge": Page(get=TILL, post=TILL),
    "cards_batch_new": Page(get=MANAGERS, post=MANAGERS),
    "cards_batch_progress": Page(get=MANAGERS),
    "cards_batch_download": Page(get=MANAGERS),
    # checkout (0021)
    "orders_checkout": Page(get=SETTLERS, post=SETTLERS),
    "orders_receipt": Page(get=SETTLERS),
    "orders_order_ship": post_only(SHIPPERS),
    "orders_order_deliver": post_only(SHIPPERS),
    "orders_order_refund": post_only(REFUNDERS),
    # segments (0022): analysts read and preview, marketing designs
    "segments_list": Page(get=MARKETING_READERS),
    # the builder opens for readers too (analysts try rules and preview counts); saving is design
    "segments_new": Page(get=MARKETING_READERS, post=DESIGNERS),
    "segments_edit": Page(get=MARKETING_READERS, post=DESIGNERS),
    "segments_preview": post_only(MARKETING_READERS),
    # channels (0023)
    "channels_templates": Page(get=TEMPLATE_READERS),
    # as the segment builder: readers may open the editor to preview, saving is marketing's
    "channels_template_new": Page(get=TEMPLATE_READERS, post=DESIGNERS),
    "channels_template_preview": post_only(TEMPLATE_READERS),
    "channels_template_edit": Page(get=TEMPLATE_READERS, post=DESIGNERS),
    "channels_tasks": Page(get=TASK_WORKERS, post=TASK_WORKERS),
    "channels_mail_export": Page(get=MANAGERS),
    # campaigns (0026): marketing designs and launches, the service manager approves, analysts read
    "campaigns_list": Page(get=CAMPAIGN_READERS),
    "campaigns_new": Page(get=DESIGNERS, post=DESIGNERS),
    "campaigns_presets": post_only(DESIGNERS),
    "campaigns_settings": Page(get=CAMPAIGN_READERS, post=AD),
    "campaigns_member_history": Page(get=CONTACT_READERS),
    "campaigns_edit": Page(get=CAMPAIGN_READERS, post=DESIGNERS),
    "campaigns_action": post_only(CAMPAIGN_READERS),
    "campaigns_dry_run": Page(get=CAMPAIGN_READERS),
    "campaigns_progress": Page(get=CAMPAIGN_READERS),
    "campaigns_progress_json": Page(get=CAMPAIGN_READERS),
    # evaluation and analytics (0027, 0028)
    "analytics_evaluation": Page(get=CAMPAIGN_READERS),
    "analytics_external_import": Page(get=DESIGNERS, post=DESIGNERS),
    "analytics_campaign_report": Page(get=CAMPAIGN_READERS),
    "analytics_campaign_report_xlsx": Page(get=CAMPAIGN_READERS),
    "analytics_clv": Page(get=MARKETING_READERS),
    "analytics_clv_refresh": post_only(MARKETING_READERS),
    "analytics_rfm": Page(get=MARKETING_READERS),
    "analytics_rfm_xlsx": Page(get=MARKETING_READERS),
    "analytics_rules": Page(get=MARKETING_READERS),
    "analytics_rules_xlsx": Page(get=MARKETING_READERS),
    "analytics_purchases": Page(get=MARKETING_READERS),
    "analytics_roles": Page(get=MARKETING_READERS, post=DESIGNERS),
    "analytics_traffic": Page(get=MARKETING_READERS, post=MARKETING_READERS),
    "analytics_traffic_xlsx": Page(get=MARKETING_READERS),
    "analytics_cohorts": Page(get=MARKETING_READERS),
    "analytics_cohorts_xlsx": Page(get=MARKETING_READERS),
    "analytics_lifecycle": Page(get=MARKETING_READERS),
    "analytics_forecast": Page(get=MARKETING_READERS, post=MARKETING_READERS),
    "analytics_forecast_detail": Page(get=MARKETING_READERS, post=DESIGNERS),
    # imports and exports (0029): marketing imports; exports follow the export kind's permission
    "imports_list": Page(get=IMPORTERS),
    "imports_new": Page(get=IMPORTERS, post=IMPORTERS),
    "imports_detail": Page(get=IMPORTERS),
    "imports_mapping": Page(get=IMPORTERS, post=IMPORTERS),
    "imports_progress": Page(get=IMPORTERS),
    "imports_check": post_only(IMPORTERS),
    "imports_confirm": post_only(IMPORTERS),
    "imports_errors": Page(get=IMPORTERS),
    "exports_list": Page(get=EXPORTERS),
    "exports_start": post_only(EXPORTERS),
    "exports_progress": Page(get=EXPORTERS),
    "exports_file": Page(get=EXPORTERS),
    # payments (0031): planning sells packages, the service manager refunds
    "payments_index": Page(get=PAYMENT_READERS),
    "payments_package_new": post_only(DESIGNERS),
    "payments_package_toggle": post_only(DESIGNERS),
    "payments_purchase": Page(get=PAYMENT_READERS),
    "payments_purchase_refund": post_only(MANAGERS),
    # service (0033): agents and the sales manager see their own cases and the unassigned open
    # ones, the others every case; the fixture's case is assigned to the service manager
    "service_index": Page(get=CASE_READERS),
    "service_case_new": post_only(CASE_HANDLERS),
    "service_case": Page(get=CASE_READ_ALL, hidden=roles(SERVICE_AGENT, SALES_MANAGER)),
    "service_libraries": Page(get=CASE_HANDLERS, post=roles(ADMIN, SERVICE_MANAGER, MARKETER)),
    "service_rules": Page(get=SERVICE_RULE_READERS, post=roles(ADMIN, MARKETER, GENERAL_MANAGER)),
    # events (0034)
    "events_index": Page(get=EVENT_READERS),
    "events_lottery_new": post_only(DESIGNERS),
    "events_lottery": Page(get=LOTTERY_READERS),
    "events_lottery_action": post_only(LOTTERY_READERS),
    "events_lottery_verify": post_only(LOTTERY_READERS),
    "events_lottery_entrants": Page(get=LOTTERY_READERS),
    "events_event_new": post_only(DESIGNERS),
    "events_event": Page(get=EVENT_READERS),
    "events_event_action": post_only(EVENT_READERS),
    # holidays (0035)
    "holidays_index": Page(get=HOLIDAY_READERS),
    "holidays_campaign": Page(get=GIFT_CAMPAIGN_READERS),
    "holidays_apply": post_only(GIFT_APPLICANTS),
    "holidays_export": Page(get=DESIGNERS),
    "holidays_decide": post_only(GIFT_REVIEWERS),
    # b2b (0036): the pipeline is shared by the sales roles (no per-rep rule)
    "b2b_index": Page(get=PIPELINE_READERS),
    "b2b_funnel_xlsx": Page(get=PIPELINE_READERS),
    "b2b_opportunity": Page(get=PIPELINE_READERS),
    "b2b_opportunity_action": post_only(PIPELINE_READERS),
    "b2b_customers": Page(get=CUSTOMER_READERS),
    "b2b_accounts": Page(get=CHARGE_ACCOUNT_READERS),
    "b2b_account": Page(get=CHARGE_ACCOUNT_READERS),
    "b2b_account_entry": post_only(roles(ADMIN, CASHIER)),
    "b2b_surveys": Page(get=CUSTOMER_READERS, post=CUSTOMER_READERS),
    # staff (0037): a rep sees their own work, the manager the team's, the general manager all
    "staff_index": Page(get=STAFF_READERS, post=STAFF_READERS),
    # the log form is for writing one's own visits: the general manager reads, does not log
    "staff_log": Page(get=SALES_WORKERS, post=SALES_WORKERS),
    "staff_prospects": Page(get=STAFF_READERS, post=SALES_WORKERS),
    "staff_prospect_close": post_only(SALES_WORKERS),
    "staff_assessment": Page(get=STAFF_READERS),
    # a rep files their month's assessment, the manager signs it
    "staff_assessment_file": post_only(SALES_WORKERS),
    "staff_assessment_sign": post_only(roles(ADMIN, SALES_MANAGER)),
    "staff_assessment_xlsx": Page(get=STAFF_READERS),
    # the admin site's own pages: every signed-in staff user
    "index": Page(get=ALL),
    "search": Page(get=ALL),
    "password_change": Page(get=ALL),
    "password_change_done": Page(get=ALL),
    "jsi18n": Page(get=ALL),
    # no model in this console has autocomplete fields: the view refuses every request
    "autocomplete": Page(get=NOBODY),
    # "view on site" redirects to a model's public page; nothing here has one (404 for all staff)
    "view_on_site": Page(get=ALL, missing=True),
    # a user's password is set by the admin (users and roles are the admin's)
    "auth_user_password_change": Page(get=AD, post=AD),
}

# Routes with no permission of their own: the login page, logout (POST only), the redirects
# from the site root and from /admin/<app>/<model>/<id>/ to the change form, and the admin's
# catch-all 404. They are checked by dedicated tests, not the matrix.
SPECIAL_NAMES = {"login", "logout", "app_list"}

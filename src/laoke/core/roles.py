"""Staff roles are Django groups; this module is the single list of what each role may do.

Permissions are ``app_label.codename`` strings. ``roles_sync`` (run by ``laoke init``) makes the
groups match this table exactly, so a deployment's roles are code-reviewed, not click-configured.
Apps added later extend the table here.
"""

from __future__ import annotations

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

ROLE_LABELS = {
    ADMIN: ("管理员", "Admin"),
    MARKETER: ("营销", "Marketer"),
    ANALYST: ("分析", "Analyst"),
    SERVICE_MANAGER: ("客服经理", "Service manager"),
    SERVICE_AGENT: ("客服", "Service agent"),
    CASHIER: ("收银", "Cashier"),
    REDEMPTION_CLERK: ("兑换专员", "Redemption clerk"),
    API_CLIENT: ("API 客户端", "API client"),
    SALES_REP: ("销售代表", "Sales rep"),
    SALES_MANAGER: ("销售经理", "Sales manager"),
    GENERAL_MANAGER: ("总经理", "General manager"),
}

_MEMBER_READ = ["members.view_member", "members.view_groupaccount", "core.view_store"]
_MEMBER_WRITE = ["members.add_member", "members.change_member", "members.manage_consent"]
_CATALOG_READ = ["catalog.view_product", "catalog.view_category", "catalog.view_giftitem"]
_CATALOG_WRITE = [
    "catalog.add_product",
    "catalog.change_product",
    "catalog.add_category",
    "catalog.change_category",
    "catalog.add_giftitem",
    "catalog.change_giftitem",
    "catalog.change_giftstock",
]

ROLE_PERMISSIONS: dict[str, list[str] | str] = {
    # The admin group gets every permission that exists.
    ADMIN: "*",
    MARKETER: [
        *_MEMBER_READ,
        "members.view_tag",
        "members.add_tag",
        "members.change_tag",
        "members.tag_member",
        "members.view_attributedefinition",
        *_CATALOG_READ,
        *_CATALOG_WRITE,
        "messaging.view_message",
    ],
    ANALYST: [*_MEMBER_READ, "members.view_tag", "members.view_attributedefinition", *_CATALOG_READ],
    SERVICE_MANAGER: [
        *_MEMBER_READ,
        *_MEMBER_WRITE,
        "members.view_pii",
        "members.view_sensitive_tag",
        "members.tag_member",
        "members.tag_member_sensitive",
        "members.view_tag",
        "members.view_attributedefinition",
        "members.set_attribute",
        "members.merge_member",
        "members.export_member_pi",
        "members.add_groupaccount",
        "members.change_groupaccount",
        "members.view_corporateaccount",
        "members.add_corporateaccount",
        "members.change_corporateaccount",
        "members.issue_membershipcard",
        "members.see_group_members",
        *_CATALOG_READ,
        "messaging.view_message",
    ],
    SERVICE_AGENT: [
        *_MEMBER_READ,
        *_MEMBER_WRITE,
        "members.view_pii",
        "members.tag_member",
        "members.view_tag",
        "members.view_attributedefinition",
        "members.set_attribute",
        "members.issue_membershipcard",
        *_CATALOG_READ,
    ],
    CASHIER: [
        *_MEMBER_READ,
        "members.add_member",
        "members.issue_membershipcard",
        *_CATALOG_READ,
    ],
    REDEMPTION_CLERK: [*_MEMBER_READ, "catalog.view_giftitem", "catalog.change_giftstock"],
    # Sales (SPEC 12/14): reps visit and follow up customers and prospects, managers review their
    # work and decide approvals; the general manager approves invitee lists and big decisions.
    # What they may do in the sales, event and service apps comes from those apps' role_permissions.
    SALES_REP: [*_MEMBER_READ, "members.view_pii", *_CATALOG_READ],
    SALES_MANAGER: [*_MEMBER_READ, "members.view_pii", *_CATALOG_READ],
    GENERAL_MANAGER: [*_MEMBER_READ, "members.view_pii", *_CATALOG_READ],
    API_CLIENT: [
        *_MEMBER_READ,
        *_MEMBER_WRITE,
        "members.view_pii",
        "members.see_group_members",
        "members.view_attributedefinition",
        "members.set_attribute",
        *_CATALOG_READ,
        *_CATALOG_WRITE,
    ],
}

# Object rule (SPEC 16): a service agent sees individual members only; whoever holds
# ``members.see_group_members`` (service managers, admins, API clients) also sees members that
# belong to a group account (集体). See docs/decisions/0006-auth-and-roles.md.

# API token scopes. A token acts as its user, narrowed to these scopes.
SCOPES = {
    "members:read": ("读取会员", "Read members"),
    "members:write": ("修改会员", "Change members"),
    "members:pii": ("查看完整个人信息", "See unmasked personal information"),
    "catalog:read": ("读取商品", "Read the catalogue"),
    "catalog:write": ("修改商品", "Change the catalogue"),
    "audit:read": ("读取审计日志", "Read the audit log"),
    "value:read": ("读取积分、储值、等级", "Read points, stored value and tiers"),
    "value:write": ("变动积分、储值、卡券", "Move points, stored value and cards"),
    "tiers:write": ("配置会员等级", "Configure tier programmes"),
    "orders:read": ("读取订单", "Read orders"),
    "orders:write": ("结算、退款、发货", "Settle, refund and ship orders"),
    "campaigns:read": ("读取营销活动", "Read campaigns"),
    "campaigns:write": ("设计、审批、启停营销活动", "Design, approve, launch and stop campaigns"),
    "analytics:read": ("读取分析报表", "Read analytics reports"),
    "analytics:write": ("导入分析数据、拟合模型", "Import analytics data and fit models"),
    "imports:read": ("读取导入任务", "Read import jobs"),
    "imports:write": ("导入会员、订单、商品、券码", "Import members, orders, products and coupon codes"),
}

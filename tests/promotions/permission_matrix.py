"""Who may call each /api/v1/promotions endpoint (merged into tests/test_permission_matrix.py).

Written from SPEC 6 and 16: marketers design coupon templates and import printed codes; coupons
are issued by marketing, service managers (goodwill) and the shop's systems; service staff help a
friend claim a shared coupon; everyone but the redemption clerk reads coupons (cashiers check them
at the till, analysts measure channel codes).

Order rules (满就送, gifts, bundles, member special prices; decision 0018): marketers design them
and install the seed presets; everyone who reads coupons reads them and asks for a cart's offers
(the till and the shop's systems price carts; service staff explain a gift). A shareable
coupon's QR code is read like the coupon.
"""

from __future__ import annotations

P = "/api/v1/promotions"
ADMIN = frozenset({"admin"})
DESIGNERS = ADMIN | {"marketer"}
ISSUERS = DESIGNERS | {"service_manager", "api_client"}
CLAIM_HELPERS = ISSUERS | {"service_agent"}
READERS = CLAIM_HELPERS | {"cashier", "analyst"}

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{P}/templates"): READERS,
    ("POST", f"{P}/templates"): DESIGNERS,
    ("GET", f"{P}/templates/{{int:template_id}}"): READERS,
    ("PATCH", f"{P}/templates/{{int:template_id}}"): DESIGNERS,
    ("POST", f"{P}/templates/{{int:template_id}}/issue"): ISSUERS,
    ("POST", f"{P}/templates/{{int:template_id}}/import"): DESIGNERS,
    ("POST", f"{P}/claim"): CLAIM_HELPERS,
    ("GET", f"{P}/coupons/{{code}}"): READERS,
    ("GET", f"{P}/members/{{int:member_id}}/coupons"): READERS,
    ("GET", f"{P}/coupons/{{code}}/qr.png"): READERS,
    ("POST", f"{P}/offers"): READERS,
    ("POST", f"{P}/rules/presets"): DESIGNERS,
    **{("GET", f"{P}/{r}"): READERS for r in ("full-send-rules", "gift-rules", "bundles", "member-prices")},
    **{
        ("POST", f"{P}/{r}"): DESIGNERS for r in ("full-send-rules", "gift-rules", "bundles", "member-prices")
    },
    ("PATCH", f"{P}/full-send-rules/{{int:rule_id}}"): DESIGNERS,
    ("PATCH", f"{P}/gift-rules/{{int:rule_id}}"): DESIGNERS,
    ("PATCH", f"{P}/bundles/{{int:bundle_id}}"): DESIGNERS,
    ("PATCH", f"{P}/member-prices/{{int:price_id}}"): DESIGNERS,
}

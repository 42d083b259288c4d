"""What the API fuzz (decision 0040) found in /api/v1/promotions."""

from laoke.promotions.models import CouponTemplate
from laoke.promotions.services import coupon_template_create

J = "application/json"


def test_null_leaves_a_flag_alone_and_clears_a_cap(api):
    tpl = coupon_template_create(
        data={"name": "满减券", "kind": "fixed", "amount_off_fen": 500, "valid_days": 30, "total_limit": 9}
    )
    r = api("admin").patch(
        f"/api/v1/promotions/templates/{tpl.pk}",
        {"stackable": None, "is_active": None, "total_limit": None},
        content_type=J,
    )
    assert r.status_code == 200, r.content[:300]  # was 500 (NOT NULL constraint on stackable)
    tpl = CouponTemplate.objects.get(pk=tpl.pk)
    assert (tpl.stackable, tpl.is_active, tpl.total_limit) == (False, True, None)

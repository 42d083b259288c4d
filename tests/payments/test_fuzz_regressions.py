"""What the API fuzz (decision 0040) found in /api/v1/payments."""

from laoke.payments.models import RechargePackage
from laoke.payments.services import package_create

J = "application/json"


def test_null_leaves_a_required_field_alone_and_clears_an_optional_one(api):
    pkg = package_create(name="充500送50", price_fen=50_000, bonus_fen=5_000, per_member_limit=2, sort=3)
    client = api("admin")
    r = client.patch(
        f"/api/v1/payments/packages/{pkg.pk}",
        {"active": None, "sort": None, "bonus_fen": 0, "per_member_limit": None},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="p-1",
    )
    assert r.status_code == 200, r.content[:300]  # was 500 (NOT NULL constraint on active)
    pkg = RechargePackage.objects.get(pk=pkg.pk)
    assert (pkg.active, pkg.sort, pkg.bonus_fen, pkg.per_member_limit) == (True, 3, 0, None)

"""Small helpers shared by the member tests (state is always made through the services)."""

import pytest

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.members.services import card_policy_create


def code_of(fn, *args, **kwargs) -> tuple[str, str | None]:
    """(code, field) of the DomainError that ``fn`` raises; fails if it raises none."""
    with pytest.raises(DomainError) as exc:
        fn(*args, **kwargs)
    return exc.value.code, exc.value.field


def s2_policy():
    """The S2 supermarket preset: 5元 card, two years, groups pay 80%, free from a 200元 purchase,
    2元 replacement."""
    return card_policy_create(
        name="S2",
        validity_days=730,
        fee_fen=500,
        group_fee_bp=8000,
        waiver_threshold_fen=20_000,
        replacement_fee_fen=200,
        activate=True,
    )


__all__ = ["clock", "code_of", "s2_policy"]

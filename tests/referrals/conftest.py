from __future__ import annotations

import pytest

from laoke.core import clock
from laoke.referrals.services import referrals_presets_install
from tests.referrals.helpers import NOW, member


@pytest.fixture
def frozen():
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def preset(db, frozen):
    return referrals_presets_install()


@pytest.fixture
def old(db, frozen):
    """The referrer (老会员)."""
    return member("老会员", "13800001111", address="上海市浦东新区世纪大道100号")


@pytest.fixture
def new(db, frozen, old):
    """A member who has just registered (after the referrer)."""
    return member("新会员", "13900002222", address="北京市朝阳区建国路88号3单元101")

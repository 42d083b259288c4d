from __future__ import annotations

import pytest

from laoke.core import clock
from laoke.members.services import member_create
from tests.promotions.helpers import NOW


@pytest.fixture
def frozen():
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def member(db):
    return member_create(name="老客", mobile="13800001111")


@pytest.fixture
def friend(db):
    return member_create(name="朋友", mobile="13800002222")

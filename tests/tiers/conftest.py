import pytest

from laoke.members.services import group_account_create, member_create


@pytest.fixture
def member(db):
    return member_create(name="老客", mobile="13900001111")


@pytest.fixture
def group(db):
    return group_account_create(name="某某公司")

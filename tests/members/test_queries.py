"""Query counts on the hot paths stay flat as data grows (no query per row)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from laoke.members.services import (
    attribute_definition_create,
    member_attribute_set,
    member_create,
    member_ref_add,
    member_tag_add,
    member_view,
    tag_create,
)


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as q:
        fn()
    return len(q.captured_queries)


def test_member_list_queries_do_not_grow_with_the_page(api, db):
    client = api("cashier")
    for i in range(3):
        member_create(name=f"m{i}", mobile=f"1380000{i:04d}")
    small = _count(lambda: client.get("/api/v1/members", {"limit": 50}))
    for i in range(3, 40):
        member_create(name=f"m{i}", mobile=f"1380000{i:04d}")
    large = _count(lambda: client.get("/api/v1/members", {"limit": 50}))
    assert large == small


def test_member_view_queries_do_not_grow_with_tags_attributes_and_refs(staff, db):
    admin = staff("admin")
    m = member_create(name="甲", consents={"sms": True})
    attribute_definition_create(key="a0", label="a0", type="integer")
    tag_create(name="t0")
    member_tag_add(member_id=m.pk, tag_name="t0")
    member_attribute_set(member_id=m.pk, key="a0", value=1)
    member_view(viewer=admin, member_id=m.pk)  # warms the user's permission cache
    small = _count(lambda: member_view(viewer=admin, member_id=m.pk))
    for i in range(1, 12):
        attribute_definition_create(key=f"a{i}", label=f"a{i}", type="integer")
        tag_create(name=f"t{i}")
        member_tag_add(member_id=m.pk, tag_name=f"t{i}")
        member_attribute_set(member_id=m.pk, key=f"a{i}", value=i)
        member_ref_add(member_id=m.pk, source="pos", external_id=f"P{i}")
    large = _count(lambda: member_view(viewer=admin, member_id=m.pk))
    assert large == small
    assert small <= 11  # member, tags, attributes, consents, history, cards, refs, lifecycle, audit

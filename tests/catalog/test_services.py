"""Catalogue services: the category tree's materialised paths, products, gift items and stock."""

import pytest
from django.db import transaction

from laoke.catalog import services
from laoke.catalog.models import Category, GiftItem, GiftStock, Product
from laoke.catalog.selectors import category_subtree, product_search
from laoke.catalog.services import (
    category_create,
    category_move,
    category_update,
    gift_item_create,
    gift_item_update,
    gift_stock_adjust,
    product_create,
    product_update,
)
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.core.services import store_create


def expected_path(category: Category) -> str:
    """The path computed independently by walking the parent pointers."""
    ids = []
    node = category
    while node is not None:
        ids.append(node.pk)
        node = node.parent
    return "/" + "".join(f"{i}/" for i in reversed(ids))


def assert_all_paths_consistent():
    for c in Category.objects.select_related("parent"):
        assert c.path == expected_path(c), c


def code(exc) -> str:
    return exc.value.code


# --- categories ------------------------------------------------------------------------------------


def test_move_rewrites_the_whole_subtree_and_is_audited(db):
    root_a = category_create(code="A", name="服装")
    root_b = category_create(code="B", name="母婴")
    women = category_create(code="AW", name="女装", parent=root_a)
    dresses = category_create(code="AWD", name="连衣裙", parent=women)
    skirts = category_create(code="AWS", name="半身裙", parent=women)
    mini = category_create(code="AWSM", name="短裙", parent=skirts)
    assert_all_paths_consistent()

    category_move(category_id=women.pk, new_parent=root_b)
    assert_all_paths_consistent()
    assert set(category_subtree(root_b)) == {root_b, women, dresses, skirts, mini}
    assert set(category_subtree(root_a)) == {root_a}
    row = AuditEntry.objects.get(action="category.move")
    assert row.before == {"parent": root_a.pk, "path": f"/{root_a.pk}/{women.pk}/"}
    assert row.after == {"parent": root_b.pk, "path": f"/{root_b.pk}/{women.pk}/"}

    category_move(category_id=women.pk, new_parent=None)  # to the top level
    assert_all_paths_consistent()
    assert Category.objects.get(pk=mini.pk).path == f"/{women.pk}/{skirts.pk}/{mini.pk}/"


@pytest.mark.parametrize("target", ["self", "child", "grandchild"])
def test_move_under_itself_is_rejected(db, target):
    top = category_create(code="T", name="顶")
    child = category_create(code="TC", name="子", parent=top)
    grandchild = category_create(code="TCG", name="孙", parent=child)
    new_parent = {"self": top, "child": child, "grandchild": grandchild}[target]
    with pytest.raises(DomainError) as exc:
        category_move(category_id=top.pk, new_parent=new_parent)
    assert code(exc) == "CATEGORY_CYCLE"
    assert_all_paths_consistent()
    assert not AuditEntry.objects.filter(action="category.move").exists()


def test_move_uses_the_parents_current_path_not_a_stale_copy(db):
    a = category_create(code="A", name="A")
    b = category_create(code="B", name="B")
    c = category_create(code="C", name="C", parent=b)
    stale_c = Category.objects.get(pk=c.pk)
    category_move(category_id=b.pk, new_parent=a)  # c's path changes underneath stale_c
    x = category_create(code="X", name="X", parent=stale_c)
    assert x.path == f"/{a.pk}/{b.pk}/{c.pk}/{x.pk}/"
    with pytest.raises(DomainError) as exc:  # the stale object would hide the cycle
        category_move(category_id=a.pk, new_parent=stale_c)
    assert code(exc) == "CATEGORY_CYCLE"
    assert_all_paths_consistent()


def test_names_are_unique_among_siblings_and_codes_everywhere(db):
    top = category_create(code="T", name="食品")
    with pytest.raises(DomainError) as exc:
        category_create(code="T2", name="食品")  # two top-level 食品
    assert code(exc) == "CATEGORY_NAME_TAKEN"
    category_create(code="T3", name="食品", parent=top)  # same name one level down is fine
    with pytest.raises(DomainError) as exc:
        category_create(code="T", name="别的")
    assert code(exc) == "CATEGORY_CODE_TAKEN"
    other = category_create(code="O", name="其他")
    category_create(code="OF", name="食品", parent=other)
    with pytest.raises(DomainError) as exc:  # moving it next to a sibling of the same name
        category_move(category_id=Category.objects.get(code="OF").pk, new_parent=None)
    assert code(exc) == "CATEGORY_NAME_TAKEN"
    assert Category.objects.count() == 4


def test_rename_is_audited_and_blank_names_rejected(db):
    top = category_create(code="T", name="食品")
    category_update(category_id=top.pk, data={"name": "  食品饮料 "})
    assert Category.objects.get(pk=top.pk).name == "食品饮料"
    row = AuditEntry.objects.get(action="category.update")
    assert (row.before, row.after) == ({"name": "食品"}, {"name": "食品饮料"})
    with pytest.raises(DomainError) as exc:
        category_update(category_id=top.pk, data={"name": "  "})
    assert code(exc) == "FIELD_REQUIRED"
    with pytest.raises(DomainError) as exc:
        category_update(category_id=999999, data={"name": "x"})
    assert code(exc) == "NOT_FOUND"


def test_tree_depth_is_bounded_by_the_path_column(db):
    parent = None
    created = []
    with pytest.raises(DomainError) as exc:
        for i in range(200):
            parent = category_create(code=f"D{i}", name=f"层{i}", parent=parent)
            created.append(parent)
    assert code(exc) == "CATEGORY_TOO_DEEP"
    limit = Category._meta.get_field("path").max_length
    assert all(len(c.path) <= limit for c in created)
    next_id_len = len(str(created[-1].pk + 1))
    assert len(created[-1].path) + next_id_len + 1 > limit  # the one refused would not have fit
    assert Category.objects.count() == len(created)
    assert_all_paths_consistent()


# --- products --------------------------------------------------------------------------------------


def test_product_create_trims_checks_sku_and_audits(db):
    p = product_create(sku=" SKU-1 ", title=" 羊毛大衣 ", list_price_fen=129900, cost_price_fen=52000)
    assert (p.sku, p.title) == ("SKU-1", "羊毛大衣")
    with pytest.raises(DomainError) as exc:
        product_create(sku="SKU-1  ", title="另一件", list_price_fen=1)
    assert code(exc) == "PRODUCT_SKU_TAKEN" and exc.value.params["sku"] == "SKU-1"
    row = AuditEntry.objects.get(action="product.create")
    assert row.after["list_price_fen"] == 129900 and row.after["cost_price_fen"] == 52000
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("list_price_fen", -1), ("list_price_fen", 12.5), ("list_price_fen", True), ("cost_price_fen", -5)],
)
def test_prices_are_whole_fen_not_negative(db, field, value):
    kwargs = {"sku": "S", "title": "t", "list_price_fen": 100, field: value}
    with pytest.raises(DomainError) as exc:
        product_create(**kwargs)
    assert code(exc) == "PRICE_INVALID" and exc.value.field == field
    assert Product.objects.count() == 0


def test_product_update_audits_only_what_changed(db):
    p = product_create(sku="S", title="大米 5kg", list_price_fen=4990)
    product_update(product_id=p.pk, data={"list_price_fen": 4590, "title": "大米 5kg"})
    row = AuditEntry.objects.get(action="product.update")
    assert (row.before, row.after) == ({"list_price_fen": 4990}, {"list_price_fen": 4590})
    product_update(product_id=p.pk, data={"list_price_fen": 4590})  # no change → no audit row
    assert AuditEntry.objects.filter(action="product.update").count() == 1
    with pytest.raises(DomainError) as exc:
        product_update(product_id=p.pk, data={"sku": "NEW"})
    assert code(exc) == "FIELD_INVALID" and exc.value.field == "sku"
    with pytest.raises(DomainError) as exc:
        product_update(product_id=p.pk, data={"is_special_sale": "yes"})
    assert code(exc) == "FIELD_INVALID"
    assert Product.objects.get(pk=p.pk).sku == "S"


def test_product_search_filters(db):
    top = category_create(code="F", name="食品")
    milk = category_create(code="FM", name="奶粉", parent=top)
    other = category_create(code="O", name="其他")
    a = product_create(sku="MILK-1", title="婴儿奶粉 1段", list_price_fen=26800, category=milk)
    b = product_create(
        sku="MILK-2", title="婴儿奶粉 2段", list_price_fen=25800, category=milk, is_special_sale=True
    )
    c = product_create(sku="RICE", title="东北大米", list_price_fen=4990, category=top)
    d = product_create(sku="TOWEL", title="毛巾", list_price_fen=990, category=other)
    product_update(product_id=a.pk, data={"is_active": False})
    assert set(product_search(category=top)) == {a, b, c}
    assert set(product_search(category=milk)) == {a, b}
    assert set(product_search(q="奶粉")) == {a, b}
    assert set(product_search(q="RICE")) == {c}
    assert set(product_search(q="RIC")) == set()  # SKUs match exactly, titles by substring
    assert set(product_search(special=True)) == {b}
    assert set(product_search(special=False)) == {a, c, d}
    assert set(product_search(category=top, active_only=True)) == {b, c}


# --- gift items and stock --------------------------------------------------------------------------


def test_gift_item_code_unique_and_update_audited(db):
    g = gift_item_create(code="TOWEL", name="小方巾", unit_cost_fen=350)
    with pytest.raises(DomainError) as exc:
        gift_item_create(code="TOWEL", name="另一个")
    assert code(exc) == "GIFT_CODE_TAKEN"
    gift_item_update(gift_id=g.pk, data={"unit_cost_fen": 400, "is_active": False})
    g.refresh_from_db()
    assert (g.unit_cost_fen, g.is_active) == (400, False)
    row = AuditEntry.objects.get(action="gift_item.update")
    assert row.before == {"unit_cost_fen": 350, "is_active": True}
    assert row.after == {"unit_cost_fen": 400, "is_active": False}
    assert GiftItem.objects.count() == 1


def test_stock_is_per_store_and_never_negative(db):
    s1 = store_create(code="S1", name="一店")
    s2 = store_create(code="S2", name="二店")
    gift = gift_item_create(code="BOX", name="礼盒")
    with pytest.raises(DomainError) as exc:  # nothing there yet: no row is left behind
        gift_stock_adjust(gift=gift, store=s1, delta=-1, reason="兑换")
    assert code(exc) == "GIFT_OUT_OF_STOCK" and exc.value.params["available"] == 0
    assert not GiftStock.objects.exists()
    gift_stock_adjust(gift=gift, store=s1, delta=5, reason="到货")
    gift_stock_adjust(gift=gift, store=s2, delta=2, reason="到货")
    assert gift_stock_adjust(gift=gift, store=s1, delta=-5, reason="兑换").quantity == 0
    with pytest.raises(DomainError) as exc:
        gift_stock_adjust(gift=gift, store=s1, delta=-1, reason="兑换")
    assert exc.value.params["available"] == 0
    assert dict(GiftStock.objects.values_list("store__code", "quantity")) == {"S1": 0, "S2": 2}
    rows = AuditEntry.objects.filter(action="gift_stock.adjust").order_by("id")
    assert [(r.after["store"], r.after["delta"], r.after["quantity"]) for r in rows] == [
        ("S1", 5, 5),
        ("S2", 2, 2),
        ("S1", -5, 0),
    ]


@pytest.mark.parametrize(
    ("delta", "reason", "err"),
    [
        (0, "x", "STOCK_DELTA_INVALID"),
        (1_000_001, "x", "STOCK_DELTA_INVALID"),
        (True, "x", "STOCK_DELTA_INVALID"),
        (1, " ", "FIELD_REQUIRED"),
        (1, "x" * 201, "FIELD_TOO_LONG"),
    ],
)
def test_stock_adjust_bad_input(db, delta, reason, err):
    store = store_create(code="S", name="店")
    gift = gift_item_create(code="G", name="礼品")
    with pytest.raises(DomainError) as exc:
        gift_stock_adjust(gift=gift, store=store, delta=delta, reason=reason)
    assert code(exc) == err
    assert not GiftStock.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_stock_helper_joins_the_callers_transaction():
    store = store_create(code="S", name="店")
    gift = gift_item_create(code="G", name="礼品")
    with pytest.raises(RuntimeError):
        services._gift_stock_adjust(gift=gift, store=store, delta=1, reason="x")
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        services._gift_stock_adjust(gift=gift, store=store, delta=3, reason="到货")
        1 / 0  # the caller fails later: the stock change and its audit row roll back with it
    assert not GiftStock.objects.exists()
    assert not AuditEntry.objects.filter(action="gift_stock.adjust").exists()

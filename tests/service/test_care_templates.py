"""Care content in message templates: ``{care_title}``/``{care_body}`` carry the care article of
the category of what each member last bought (seed 001: milk-powder buyers get the feeding
answer, apparel buyers the washing one), through channels' ``template_variables`` hook."""

from __future__ import annotations

from datetime import timedelta

from laoke.catalog.services import category_create, product_create
from laoke.channels.selectors import template_contexts
from laoke.service.libraries import care_article_save

from .conftest import T0


def test_each_member_gets_the_care_article_of_what_they_last_bought(desk):
    milk = category_create(code="milk", name="奶粉", parent=desk.food)
    product_create(sku="MILK", title="婴儿奶粉 900g", list_price_fen=26_800, category=milk)
    care_article_save(category="奶粉", title="奶粉每天喝几次", body="0–6 个月每天 6–8 次", tags=[])
    care_article_save(category="服装", title="衣服怎么洗", body="冷水手洗，反面晾干", tags=[])
    mum, dad, tea_buyer = desk.customer(), desk.customer(), desk.customer()
    desk.buy(mum, T0 - timedelta(days=9), sku="TEE")
    desk.buy(mum, T0 - timedelta(days=2), sku="MILK")  # the latest purchase decides
    desk.buy(dad, T0 - timedelta(days=2), sku="MILK")
    desk.buy(dad, T0 - timedelta(days=1), sku="COAT")
    desk.buy(tea_buyer, T0 - timedelta(days=1), sku="TEA")  # 食品 has no article of its own

    ctx = template_contexts([mum.pk, dad.pk, tea_buyer.pk], now=T0)

    assert (ctx[mum.pk]["care_title"], ctx[mum.pk]["care_body"]) == ("奶粉每天喝几次", "0–6 个月每天 6–8 次")
    assert (ctx[dad.pk]["care_title"], ctx[dad.pk]["care_body"]) == ("衣服怎么洗", "冷水手洗，反面晾干")
    assert "care_title" not in ctx[tea_buyer.pk]  # the template's fallback (empty) applies

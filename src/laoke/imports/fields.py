"""The fields each import understands, and the headers that map to them without a saved mapping.

A mapping is ``{field: header}``. When the operator gives none (or leaves a field out) the
default mapping is the first alias present in the file — so a file exported by Laoke itself, by
the Taobao seller centre or written with the usual Chinese column names imports without any
mapping at all. Aliases are compared after ``core.tabular.normalize_header``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from laoke.core.tabular import normalize_header

from .models import ImportKind


@dataclass(frozen=True)
class Field:
    name: str
    label: object  # lazy translation
    aliases: tuple[str, ...]
    required: bool = False


FIELDS: dict[str, tuple[Field, ...]] = {
    ImportKind.MEMBERS: (
        Field(
            "external_id", _("external id"), ("external_id", "外部编号", "会员编号", "客户编号", "买家会员名")
        ),
        Field("mobile", _("mobile"), ("mobile", "手机", "手机号", "手机号码", "联系手机")),
        Field("name", _("name"), ("name", "姓名", "会员姓名", "客户姓名", "收货人姓名")),
        Field("gender", _("gender"), ("gender", "性别")),
        Field("birthday", _("birthday"), ("birthday", "生日", "出生日期")),
        Field("email", _("email"), ("email", "邮箱", "电子邮件")),
        Field("address", _("address"), ("address", "地址", "收货地址", "联系地址")),
        Field("registered_at", _("registered at"), ("registered_at", "注册时间", "入会时间", "开卡时间")),
        Field("store", _("store code"), ("store", "门店", "门店编码")),
        Field("notes", _("notes"), ("notes", "备注")),
    ),
    ImportKind.ORDERS: (
        Field("number", _("order number"), ("number", "order_number", "订单编号", "订单号"), required=True),
        Field("member_mobile", _("member mobile"), ("member_mobile", "mobile", "手机", "手机号", "联系手机")),
        Field("member_ref", _("member external id"), ("member_ref", "external_id", "会员编号", "买家会员名")),
        Field("paid_at", _("paid at"), ("paid_at", "付款时间", "订单付款时间", "下单时间"), required=True),
        Field("sku", _("SKU"), ("sku", "商家编码", "商品编码", "货号"), required=True),
        Field("title", _("title"), ("title", "商品名称", "标题", "宝贝标题")),
        Field("quantity", _("quantity"), ("quantity", "数量", "购买数量"), required=True),
        Field("unit_price", _("unit price (yuan)"), ("unit_price", "单价", "价格"), required=True),
        Field("paid", _("line paid (yuan)"), ("paid", "实付", "实付金额", "成交金额")),
        Field("postage", _("postage (yuan)"), ("postage", "运费", "邮费")),
        Field(
            "refunded_quantity",
            _("refunded quantity"),
            ("refunded_quantity", "退货数量", "退款数量"),
        ),
        Field("store", _("store code"), ("store", "门店", "门店编码")),
        Field("channel", pgettext_lazy("sales", "channel"), ("channel", "渠道")),
    ),
    ImportKind.PRODUCTS: (
        Field("sku", _("SKU"), ("sku", "商家编码", "商品编码", "货号"), required=True),
        Field("title", _("title"), ("title", "商品名称", "标题", "宝贝标题"), required=True),
        Field(
            "price", _("list price (yuan)"), ("price", "list_price", "价格", "售价", "零售价"), required=True
        ),
        Field("cost", _("cost price (yuan)"), ("cost", "cost_price", "成本价", "进价")),
        Field("category", _("category code"), ("category", "分类", "分类编码", "类目")),
        Field("returnable", _("returnable"), ("returnable", "可退货")),
    ),
    ImportKind.COUPONS: (
        Field("code", _("coupon code"), ("code", "券码", "优惠券码"), required=True),
        Field("mobile", _("member mobile"), ("mobile", "手机", "手机号")),
    ),
}


def default_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """``{field: header}`` for every field whose alias is a header of the file."""
    present = {normalize_header(h): h for h in headers}
    out: dict[str, str] = {}
    for f in FIELDS.get(kind, ()):
        for alias in f.aliases:
            key = normalize_header(alias)
            if key in present:
                out[f.name] = present[key]
                break
    return out

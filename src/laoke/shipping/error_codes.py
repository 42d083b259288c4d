"""Stable error codes of the shipping app (never renamed; new situations get new codes).

An address that cannot be parsed is the members app's ``ADDRESS_UNPARSEABLE`` (422, field
``address``): the cashier sees it, shipping never guesses a region."""

from laoke.core.errors import define

SHIPPING_DESTINATION_REQUIRED = define(
    "SHIPPING_DESTINATION_REQUIRED",
    422,
    "请填写收货地址或省份（二选一），海外请填写国家代码",
    "Give the delivery address or the province (one of them), or a country code for overseas",
)
SHIPPING_PROVINCE_UNKNOWN = define(
    "SHIPPING_PROVINCE_UNKNOWN", 422, "未知的省份：{province}", "Unknown province: {province}"
)
SHIPPING_COUNTRY_INVALID = define(
    "SHIPPING_COUNTRY_INVALID",
    422,
    "国家代码须为两位字母（如 CN、US）",
    "The country must be a two-letter code (e.g. CN, US)",
)
SHIPPING_NO_ACTIVE_RULE_SET = define(
    "SHIPPING_NO_ACTIVE_RULE_SET",
    409,
    "尚未启用运费规则，请先安装或启用一套运费规则",
    "No shipping rule set is active: install or activate one first",
)
SHIPPING_RATE_MISSING = define(
    "SHIPPING_RATE_MISSING",
    409,
    "运费表缺少 {courier} 到 {region} 的运费",
    "The postage table has no price for {courier} to {region}",
)
SHIPPING_AMOUNT_INVALID = define(
    "SHIPPING_AMOUNT_INVALID",
    422,
    "{field} 须为 0 至 10¹⁰ 分的整数",
    "{field} must be a whole number of fen from 0 to 10¹⁰",
)
SHIPPING_RULE_SET_CODE_TAKEN = define(
    "SHIPPING_RULE_SET_CODE_TAKEN", 409, "运费规则编号 {code} 已存在", "Shipping rule set code {code} exists"
)
SHIPPING_RULE_DUPLICATE = define(
    "SHIPPING_RULE_DUPLICATE",
    409,
    "同一套规则中{field}“{value}”重复",
    "The rule set has two rules with {field} {value}",
)
SHIPPING_RULE_AMOUNT_MISMATCH = define(
    "SHIPPING_RULE_AMOUNT_MISMATCH",
    422,
    "只有“运费减去金额”和“固定金额”的规则填写金额",
    "Only 'postage minus an amount' and 'a flat amount' rules take an amount",
)
SHIPPING_RULE_SET_ACTIVE = define(
    "SHIPPING_RULE_SET_ACTIVE",
    409,
    "有效的运费规则不能停用，请启用另一套规则代替",
    "The active rule set cannot be deactivated: activate another one instead",
)

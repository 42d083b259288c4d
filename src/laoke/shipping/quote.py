"""The shipping quote (运费试算): what an order pays for delivery, and why.

Design (decision 0015):

- **Destination.** A country (ISO 3166 alpha-2, default CN) and, in China, a province taken from
  the parsed address (``members.validation.parse_address``) or given directly. An address that
  cannot be parsed is ``ADDRESS_UNPARSEABLE`` — never a silent default. HK/MO/TW as countries are
  the provinces 香港/澳门/台湾; any other country is *overseas*.
- **Region group.** Overseas, else the rule set's assignment of the province (remote, 港澳台),
  else ordinary.
- **Postage.** The rule set's table gives each courier's list postage to the region group. The
  *difference* of a premium courier (SF, EMS) is its postage minus the normal courier's (never
  below zero): seed 001 「发顺丰和 EMS 需补邮费差价」.
- **Rules.** Each rule names who (old / new customer, non-member, anyone, or the holder of a
  free-shipping card), where (a region group or any), from which order amount (inclusive), and an
  outcome priced on the normal courier's postage, a premium courier adding its difference:
  ``free_normal`` → the difference only; ``free_any`` → 0; ``reduce`` → max(normal − amount, 0)
  + difference; ``flat`` → amount + difference. Every matching rule is priced and the cheapest
  wins (ties: the lower rank), so the order of rules never changes the charge. With no matching
  rule the list postage of the chosen courier is charged.
- **Gift alternative.** A rule flagged ``gift_alternative`` (new customers: 包邮或者赠送小方巾) is
  skipped when the customer takes the gift instead (``prefer_gift``); the quote says whether the
  applied rule was such an alternative, so the promotions stage knows the towel is not also due.

Everything here is pure: ``quote_with(tariff, …)`` reads nothing; ``shipping_quote`` loads the
active tariff (3 queries) or takes one, and derives the member kind from statistics if asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from laoke.core.errors import FIELD_INVALID, DomainError
from laoke.core.money import format_yuan
from laoke.members.validation import parse_address

from .error_codes import (
    SHIPPING_AMOUNT_INVALID,
    SHIPPING_COUNTRY_INVALID,
    SHIPPING_DESTINATION_REQUIRED,
    SHIPPING_PROVINCE_UNKNOWN,
    SHIPPING_RATE_MISSING,
)
from .models import Courier, MemberKind, Outcome, RegionGroup, RuleMember, RuleRegion

AMOUNT_MAX = 10**10

# The 34 provincial-level divisions as cpca names them (what parse_address returns).
PROVINCES = (
    "北京市",
    "天津市",
    "上海市",
    "重庆市",
    "河北省",
    "山西省",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "海南省",
    "四川省",
    "贵州省",
    "云南省",
    "陕西省",
    "甘肃省",
    "青海省",
    "台湾省",
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "香港特别行政区",
    "澳门特别行政区",
)
_SUFFIX = re.compile(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")
_SHORT = {_SUFFIX.sub("", p): p for p in PROVINCES}
_COUNTRY_PROVINCE = {"HK": "香港特别行政区", "MO": "澳门特别行政区", "TW": "台湾省"}
_PREMIUM = (Courier.SF, Courier.EMS)


def province_normalise(raw: str, *, field: str = "province") -> str:
    """'新疆' / '新疆维吾尔自治区' / 'Xinjiang'? → the full name; anything else is an error."""
    text = (raw or "").strip()
    if text in PROVINCES:
        return text
    full = _SHORT.get(_SUFFIX.sub("", text))
    if full is None:
        raise DomainError(SHIPPING_PROVINCE_UNKNOWN, field=field, province=text[:40])
    return full


@dataclass(frozen=True)
class Destination:
    country: str  # ISO alpha-2, upper case
    province: str  # full name; "" overseas

    @property
    def overseas(self) -> bool:
        return self.country != "CN" and self.country not in _COUNTRY_PROVINCE


def destination_resolve(
    *, address: str | None = None, province: str | None = None, country: str | None = "CN"
) -> Destination:
    """Where an order goes. In China exactly one of ``address`` (parsed; ADDRESS_UNPARSEABLE if
    it cannot be) and ``province``; abroad the country is enough."""
    code = (country or "CN").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise DomainError(SHIPPING_COUNTRY_INVALID, field="country")
    if code in _COUNTRY_PROVINCE:
        return Destination(code, _COUNTRY_PROVINCE[code])
    if code != "CN":
        return Destination(code, "")
    has_address = bool(address and address.strip())
    has_province = bool(province and province.strip())
    if has_address == has_province:
        raise DomainError(SHIPPING_DESTINATION_REQUIRED, field="address")
    if has_province:
        return Destination("CN", province_normalise(province))
    parsed = parse_address(address, field="address")
    return Destination("CN", province_normalise(parsed.province, field="address"))


@dataclass(frozen=True)
class RuleSpec:
    rank: int
    code: str
    name: str
    member: str
    region: str
    min_subtotal_fen: int
    outcome: str
    amount_fen: int = 0
    gift_alternative: bool = False


@dataclass(frozen=True)
class Tariff:
    """A rule set as plain values (what a quote needs), loaded once and reusable."""

    code: str
    rates: dict[tuple[str, str], int]
    regions: dict[str, str]
    rules: tuple[RuleSpec, ...]
    old_customer_min_orders: int = 1
    old_customer_window_months: int | None = None

    def region_group(self, dest: Destination) -> str:
        if dest.overseas:
            return RegionGroup.OVERSEAS
        return self.regions.get(dest.province, RegionGroup.ORDINARY)

    def rate(self, courier: str, group: str) -> int:
        try:
            return self.rates[(courier, group)]
        except KeyError:
            raise DomainError(
                SHIPPING_RATE_MISSING,
                field="courier",
                courier=Courier(courier).label,
                region=RegionGroup(group).label,
            ) from None


@dataclass(frozen=True)
class Reason:
    rule_code: str
    applied: bool
    zh: str
    en: str

    def text(self, lang: str = "zh-hans") -> str:
        return self.en if lang.startswith("en") else self.zh


@dataclass(frozen=True)
class ShippingQuote:
    postage_fen: int  # the chosen courier's list postage to the destination
    charged_fen: int  # what the order pays for delivery
    rule_code: str  # the rule that applied; "" = none (list postage)
    explanation: tuple[Reason, ...] = field(default=())
    courier: str = Courier.NORMAL
    member_kind: str = MemberKind.NON_MEMBER
    region_group: str = RegionGroup.ORDINARY
    province: str = ""
    country: str = "CN"
    normal_postage_fen: int = 0
    difference_fen: int = 0  # premium courier's postage − normal courier's
    free_shipping: bool = False  # the rule made the normal courier free (包邮)
    gift_alternative: bool = False  # … and that free shipping is the alternative to the gift
    card_used: bool = False  # the applied rule is a free-shipping card rule
    tier_used: bool = False  # the applied rule is a free-shipping tier rule

    @property
    def discount_fen(self) -> int:
        return self.postage_fen - self.charged_fen

    def explain(self, lang: str = "zh-hans") -> str:
        sep = "; " if lang.startswith("en") else "；"
        return sep.join(r.text(lang) for r in self.explanation)


_KIND_ZH = {
    "old": "老客户",
    "new": "新客户",
    "non_member": "非会员",
    "any": "所有人",
    "card": "包邮卡持有人",
    "tier": "包邮等级会员",
}
_KIND_EN = {
    "old": "old customers",
    "new": "new customers",
    "non_member": "non-members",
    "any": "anyone",
    "card": "free-shipping card holders",
    "tier": "members of a free-shipping tier level",
}
_ONE_EN = {"old": "an old customer", "new": "a new customer", "non_member": "a non-member"}
_REGION_ZH = {
    "ordinary": "普通地区",
    "remote": "偏远地区",
    "hmt": "港澳台",
    "overseas": "海外",
    "any": "所有地区",
}
_REGION_EN = {
    "ordinary": "ordinary regions",
    "remote": "remote regions",
    "hmt": "Hong Kong/Macao/Taiwan",
    "overseas": "overseas",
    "any": "any region",
}
_COURIER_ZH = {"normal": "普通快递", "sf": "顺丰", "ems": "EMS"}
_COURIER_EN = {"normal": "normal courier", "sf": "SF Express", "ems": "EMS"}


def _check_amount(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= AMOUNT_MAX:
        raise DomainError(SHIPPING_AMOUNT_INVALID, field=name)
    return value


def _price(rule: RuleSpec, *, normal: int, diff: int) -> int:
    if rule.outcome == Outcome.FREE_ANY:
        return 0
    if rule.outcome == Outcome.FREE_NORMAL:
        return diff
    if rule.outcome == Outcome.REDUCE:
        return max(normal - rule.amount_fen, 0) + diff
    return rule.amount_fen + diff  # FLAT


def _outcome_text(rule: RuleSpec, *, diff: int, courier: str) -> tuple[str, str]:
    y = format_yuan
    if rule.outcome == Outcome.FREE_ANY:
        return "任何快递均包邮", "free with any courier"
    if rule.outcome == Outcome.FREE_NORMAL:
        base = ("普通快递包邮", "free with the normal courier")
    elif rule.outcome == Outcome.REDUCE:
        base = (f"运费减 {y(rule.amount_fen)}", f"postage minus {y(rule.amount_fen)}")
    else:
        base = (f"运费 {y(rule.amount_fen)}", f"postage {y(rule.amount_fen)}")
    if courier == Courier.NORMAL:
        return base
    return (
        f"{base[0]}，{_COURIER_ZH[courier]}补差价 {y(diff)}",
        f"{base[1]}, plus the {_COURIER_EN[courier]} difference {y(diff)}",
    )


def _why_not(
    rule: RuleSpec, *, kind: str, card: bool, tier: bool, group: str, subtotal: int, prefer_gift: bool
) -> tuple[str, str] | None:
    """Why a rule does not match, or None if it does."""
    if rule.member == RuleMember.CARD and not card:
        return "未使用包邮卡", "no free-shipping card"
    if rule.member == RuleMember.TIER and not tier:
        return "会员等级不含包邮", "the member's tier level has no free shipping"
    if rule.member not in (RuleMember.ANY, RuleMember.CARD, RuleMember.TIER) and rule.member != kind:
        return (
            f"仅限{_KIND_ZH[rule.member]}（本单为{_KIND_ZH[kind]}）",
            f"only for {_KIND_EN[rule.member]} (customer: {_ONE_EN[kind]})",
        )
    if rule.region != RuleRegion.ANY and rule.region != group:
        return (
            f"仅限{_REGION_ZH[rule.region]}（收货地为{_REGION_ZH[group]}）",
            f"only for {_REGION_EN[rule.region]} (destination: {_REGION_EN[group]})",
        )
    if subtotal < rule.min_subtotal_fen:
        return (
            f"订单金额 {format_yuan(subtotal)} 未满 {format_yuan(rule.min_subtotal_fen)}",
            f"order amount {format_yuan(subtotal)} is below {format_yuan(rule.min_subtotal_fen)}",
        )
    if rule.gift_alternative and prefer_gift:
        return (
            "顾客选择了赠品（包邮与赠品二选一）",
            "the customer took the gift instead (gift or free shipping)",
        )
    return None


def quote_with(
    tariff: Tariff,
    *,
    member_kind: str,
    subtotal_fen: int,
    courier: str,
    destination: Destination,
    free_shipping_card: bool = False,
    tier_free_shipping: bool = False,
    prefer_gift: bool = False,
) -> ShippingQuote:
    """The quote on a loaded tariff; reads nothing."""
    if member_kind not in MemberKind.values:
        raise DomainError(FIELD_INVALID, field="member_kind", details={"allowed": list(MemberKind.values)})
    if courier not in Courier.values:
        raise DomainError(FIELD_INVALID, field="courier", details={"allowed": list(Courier.values)})
    subtotal = _check_amount("subtotal_fen", subtotal_fen)
    group = tariff.region_group(destination)
    normal = tariff.rate(Courier.NORMAL, group)
    postage = tariff.rate(courier, group)
    diff = max(postage - normal, 0) if courier in _PREMIUM else 0
    matched: list[tuple[int, int, RuleSpec]] = []
    why_not: dict[str, tuple[str, str]] = {}
    for rule in tariff.rules:
        reason = _why_not(
            rule,
            kind=member_kind,
            card=free_shipping_card,
            tier=tier_free_shipping,
            group=group,
            subtotal=subtotal,
            prefer_gift=prefer_gift,
        )
        if reason is None:
            matched.append((_price(rule, normal=normal, diff=diff), rule.rank, rule))
        else:
            why_not[rule.code] = reason
    matched.sort(key=lambda m: (m[0], m[1]))
    reasons: list[Reason] = []
    where_zh = destination.province or f"海外（{destination.country}）"
    where_en = destination.province or f"overseas ({destination.country})"
    if matched:
        charged, _, winner = matched[0]
        zh, en = _outcome_text(winner, diff=diff, courier=courier)
        reasons.append(
            Reason(
                winner.code,
                True,
                f"适用“{winner.name}”：{zh}，收 {format_yuan(charged)}（{where_zh}，{_COURIER_ZH[courier]}"
                f"运费 {format_yuan(postage)}）",
                f"applied '{winner.name}': {en}, charged {format_yuan(charged)} ({where_en}, "
                f"{_COURIER_EN[courier]} postage {format_yuan(postage)})",
            )
        )
    else:
        charged, winner = postage, None
        reasons.append(
            Reason(
                "",
                True,
                f"无适用规则：按{_COURIER_ZH[courier]}运费收 {format_yuan(postage)}（{where_zh}）",
                f"no rule applies: {_COURIER_EN[courier]} postage {format_yuan(postage)} ({where_en})",
            )
        )
    for price, _, rule in matched[1:]:
        reasons.append(
            Reason(
                rule.code,
                False,
                f"“{rule.name}”也适用但收 {format_yuan(price)}，较贵",
                f"'{rule.name}' also matches but charges {format_yuan(price)}, more",
            )
        )
    for rule in tariff.rules:
        if rule.code in why_not:
            zh, en = why_not[rule.code]
            reasons.append(
                Reason(rule.code, False, f"“{rule.name}”不适用：{zh}", f"'{rule.name}' does not apply: {en}")
            )
    free = winner is not None and winner.outcome in (Outcome.FREE_NORMAL, Outcome.FREE_ANY)
    return ShippingQuote(
        postage_fen=postage,
        charged_fen=charged,
        rule_code=winner.code if winner else "",
        explanation=tuple(reasons),
        courier=courier,
        member_kind=member_kind,
        region_group=group,
        province=destination.province,
        country=destination.country,
        normal_postage_fen=normal,
        difference_fen=diff,
        free_shipping=free,
        gift_alternative=bool(winner and winner.gift_alternative),
        card_used=bool(winner and winner.member == RuleMember.CARD),
        tier_used=bool(winner and winner.member == RuleMember.TIER),
    )


def shipping_quote(
    *,
    subtotal_fen: int,
    courier: str,
    member_kind: str | None = None,
    member=None,
    address: str | None = None,
    province: str | None = None,
    country: str | None = "CN",
    free_shipping_card: bool = False,
    tier_free_shipping: bool | None = None,
    prefer_gift: bool = False,
    tariff: Tariff | None = None,
) -> ShippingQuote:
    """What the settlement engine calls (writes nothing). ``member_kind`` as given, or derived
    from ``member``'s statistics (no member = non-member) — derive it *before* the order being
    settled is added to the statistics, since an old customer needs an *earlier* order.
    ``tier_free_shipping`` as given, or (None) whether ``member``'s pricing tier level includes
    free shipping."""
    from . import selectors

    tariff = tariff or selectors.active_tariff()
    if member_kind is None:
        member_kind = selectors.member_kind_of(member=member, tariff=tariff)
    if tier_free_shipping is None:
        tier_free_shipping = selectors.tier_free_shipping_of(member=member)
    dest = destination_resolve(address=address, province=province, country=country)
    return quote_with(
        tariff,
        member_kind=member_kind,
        subtotal_fen=subtotal_fen,
        courier=courier,
        destination=dest,
        free_shipping_card=free_shipping_card,
        tier_free_shipping=tier_free_shipping,
        prefer_gift=prefer_gift,
    )


# --- offers: the rules as shipping-stage benefits of the settlement engine ----------------------------


@dataclass(frozen=True)
class ShippingOffer:
    """A rule that matches the order on everything but its amount threshold, priced as a
    discount off the chosen courier's list postage. The settlement engine (decision 0017) turns
    each into a non-stackable shipping-stage benefit (``threshold_fen`` tested on the goods
    amount after the discount stages); the largest discount wins there, which is the cheapest
    charge here. ``discount_fen`` may be negative (a flat price above the list postage): the
    engine should then charge ``price_fen`` as the postage rather than a benefit."""

    code: str
    name: str
    threshold_fen: int
    price_fen: int
    discount_fen: int
    gift_alternative: bool
    card: bool
    tier: bool


def shipping_offers(
    tariff: Tariff,
    *,
    member_kind: str,
    courier: str,
    destination: Destination,
    free_shipping_card: bool = False,
    tier_free_shipping: bool = False,
    prefer_gift: bool = False,
) -> tuple[int, tuple[ShippingOffer, ...]]:
    """(list postage of the chosen courier, the offers); pure like ``quote_with``."""
    if member_kind not in MemberKind.values:
        raise DomainError(FIELD_INVALID, field="member_kind", details={"allowed": list(MemberKind.values)})
    if courier not in Courier.values:
        raise DomainError(FIELD_INVALID, field="courier", details={"allowed": list(Courier.values)})
    group = tariff.region_group(destination)
    normal = tariff.rate(Courier.NORMAL, group)
    postage = tariff.rate(courier, group)
    diff = max(postage - normal, 0) if courier in _PREMIUM else 0
    offers = []
    for rule in tariff.rules:
        reason = _why_not(
            rule,
            kind=member_kind,
            card=free_shipping_card,
            tier=tier_free_shipping,
            group=group,
            subtotal=rule.min_subtotal_fen,  # the threshold is the engine's to test
            prefer_gift=prefer_gift,
        )
        if reason is None:
            price = _price(rule, normal=normal, diff=diff)
            offers.append(
                ShippingOffer(
                    code=rule.code,
                    name=rule.name,
                    threshold_fen=rule.min_subtotal_fen,
                    price_fen=price,
                    discount_fen=postage - price,
                    gift_alternative=rule.gift_alternative,
                    card=rule.member == RuleMember.CARD,
                    tier=rule.member == RuleMember.TIER,
                )
            )
    return postage, tuple(offers)

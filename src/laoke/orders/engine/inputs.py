"""What the engine is given: plain, frozen data (no models, no database).

The promotions app evaluates coupons and rules into ``Benefit`` objects, the shipping app computes
postage into a ``ShippingQuote``, the tiers app supplies ``MemberContext.price_rate_bp`` and the
points/cards apps what the member may pay with (``PaymentRequest``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from laoke.core.money import BP_ONE


class Stage(StrEnum):
    FLASH = "flash"
    MEMBER_PRICE = "member_price"
    TIER = "tier"
    COUPONS = "coupons"
    GIFTS = "gifts"
    SHIPPING = "shipping"
    PAYMENT = "payment"


DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage.FLASH,
    Stage.MEMBER_PRICE,
    Stage.TIER,
    Stage.COUPONS,
    Stage.GIFTS,
    Stage.SHIPPING,
    Stage.PAYMENT,
)
# Stages whose benefits come from outside as ``Benefit`` objects; the others are line prices.
BENEFIT_STAGES = frozenset({Stage.COUPONS, Stage.GIFTS, Stage.SHIPPING})
# Allocation codes the engine uses itself; a benefit may not take one of them.
RESERVED_CODES = frozenset({"flash", "member_price", "tier", "points", "wallet"})
SHIPPING_REF = "__shipping__"


class Kind(StrEnum):
    AMOUNT_OFF = "amount_off"  # 满减: amount_fen off (every full threshold if ``repeat``)
    RATE_OFF = "rate_off"  # percentage: off_bp of each eligible line (1000 = 10% off = 9折)
    FREE_SHIPPING = "free_shipping"  # 包邮(卡): the postage, up to cap_fen (SF/EMS pay the difference)
    GIFT = "gift"  # 赠品: gift_qty units of the cart line gift_ref free (须拍下) or a non-line grant


@dataclass(frozen=True)
class CartLine:
    ref: str
    unit_price_fen: int
    quantity: int
    product_id: int | None = None
    category_id: int | None = None
    special_sale: bool = False  # 特价: no tier discount, no points earned or spent
    member_price_fen: int | None = None  # 会员特价 (members only; the line then counts as special sale)
    flash_price_fen: int | None = None  # 秒杀/老客专享价, supplied only when the caller found it valid

    def __post_init__(self):
        if self.unit_price_fen < 0 or self.quantity <= 0:
            raise ValueError(f"line {self.ref!r}: unit price must be >= 0 and quantity > 0")
        for name in ("member_price_fen", "flash_price_fen"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ValueError(f"line {self.ref!r}: {name} must be >= 0")


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...]
    group_purchase: bool = False  # 团购: no member benefits at all

    def __post_init__(self):
        refs = [ln.ref for ln in self.lines]
        if len(set(refs)) != len(refs) or SHIPPING_REF in refs:
            raise ValueError("line refs must be unique")


@dataclass(frozen=True)
class MemberContext:
    is_member: bool = False
    price_rate_bp: int = BP_ONE  # tier price rate: 9500 = 95折
    points_multiplier_bp: int = BP_ONE
    tier_code: str = ""

    def __post_init__(self):
        if not 0 < self.price_rate_bp <= BP_ONE:
            raise ValueError("price_rate_bp must be in 1..10000")


@dataclass(frozen=True)
class Benefit:
    """One evaluated coupon / rule. ``eligible_refs`` None = every line; thresholds are tested on
    the stage input of the eligible lines (the shipping stage: on the goods amount so far)."""

    code: str
    kind: Kind
    stage: Stage = Stage.COUPONS
    amount_fen: int = 0
    off_bp: int = 0
    threshold_fen: int = 0
    cap_fen: int | None = None
    eligible_refs: frozenset[str] | None = None
    stackable: bool = True
    repeat: bool = False  # 每满 threshold: amount (or gift) per full threshold
    member_only: bool = False
    include_special_sale: bool = False
    gift_ref: str | None = None  # the cart line given free; None = a grant outside the cart (外包装盒)
    gift_qty: int = 1
    label: str = ""

    def __post_init__(self):
        if self.code in RESERVED_CODES or not self.code:
            raise ValueError(f"benefit code {self.code!r} is reserved or empty")
        if self.stage not in BENEFIT_STAGES:
            raise ValueError(f"benefit {self.code!r}: stage {self.stage} takes no benefits")
        if min(self.amount_fen, self.off_bp, self.threshold_fen, self.gift_qty) < 0 or self.off_bp > BP_ONE:
            raise ValueError(f"benefit {self.code!r}: amounts must be >= 0 and off_bp <= 10000")
        if self.cap_fen is not None and self.cap_fen < 0:
            raise ValueError(f"benefit {self.code!r}: cap must be >= 0")
        if self.repeat and self.threshold_fen <= 0:
            raise ValueError(f"benefit {self.code!r}: repeat needs a threshold")
        if self.kind == Kind.FREE_SHIPPING and self.stage != Stage.SHIPPING:
            raise ValueError(f"benefit {self.code!r}: free shipping belongs to the shipping stage")
        if self.kind == Kind.GIFT and self.stage != Stage.GIFTS:
            raise ValueError(f"benefit {self.code!r}: gifts belong to the gifts stage")


@dataclass(frozen=True)
class ShippingQuote:
    postage_fen: int = 0
    courier: str = ""
    region: str = ""

    def __post_init__(self):
        if self.postage_fen < 0:
            raise ValueError("postage must be >= 0")


@dataclass(frozen=True)
class PaymentRequest:
    """Wallet fen and points the member asks to pay with. Points are spent in whole units:
    ``points_per_unit`` points are worth ``fen_per_unit`` fen (default 100 points = 1元)."""

    wallet_available_fen: int = 0
    wallet_asked_fen: int = 0
    points_available: int = 0
    points_asked: int = 0
    points_per_unit: int = 100
    fen_per_unit: int = 100

    def __post_init__(self):
        if (
            min(self.wallet_available_fen, self.wallet_asked_fen, self.points_available, self.points_asked)
            < 0
        ):
            raise ValueError("payment amounts must be >= 0")
        if self.points_per_unit <= 0 or self.fen_per_unit <= 0:
            raise ValueError("points rate must be positive")


@dataclass(frozen=True)
class Order:
    """Everything one quote needs."""

    cart: Cart
    member: MemberContext = field(default_factory=MemberContext)
    benefits: tuple[Benefit, ...] = ()
    shipping: ShippingQuote = field(default_factory=ShippingQuote)
    payment: PaymentRequest = field(default_factory=PaymentRequest)
    stages: tuple[Stage, ...] = DEFAULT_STAGES

"""Settlement pricing engine (SPEC 5; docs/decisions/0017-settlement-engine.md).

Pure and database-free: ``quote(Order) -> SettlementResult`` prices a cart through the fixed
stages, and ``refund_split(result, quantities)`` says what a refund gives back. The orders
services wrap it in the settlement transaction; promotions, shipping, tiers, points and cards
feed it plain data.
"""

from .inputs import (
    DEFAULT_STAGES,
    SHIPPING_REF,
    Benefit,
    Cart,
    CartLine,
    Kind,
    MemberContext,
    Order,
    PaymentRequest,
    ShippingQuote,
    Stage,
)
from .pipeline import quote
from .refund import LineRefund, RefundSplit, refund_split
from .results import REASON_TEXTS, BenefitOutcome, LineResult, Reason, SettlementResult, StageResult

__all__ = [
    "DEFAULT_STAGES",
    "REASON_TEXTS",
    "SHIPPING_REF",
    "Benefit",
    "BenefitOutcome",
    "Cart",
    "CartLine",
    "Kind",
    "LineRefund",
    "LineResult",
    "MemberContext",
    "Order",
    "PaymentRequest",
    "Reason",
    "RefundSplit",
    "SettlementResult",
    "ShippingQuote",
    "Stage",
    "StageResult",
    "quote",
    "refund_split",
]

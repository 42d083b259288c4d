"""The seed 000 mid-autumn gift plan (中秋节活动-客户送月饼活动方案) as a preset.

What the seed prescribes, and what it leaves open:

- recipient types and quotas: 老客户 80 (80 persons), 现有经销商 50 (50 persons), 重点购机意向客户
  "200家左右" (~200), 上门看机客户 20 households × 3 persons (one box per household, so 20 gifts,
  60 persons) who visited between lunar 8/5 and 8/14;
- two gift levels: 高档 for key customers, 普通 (the seed also calls it 中档) for the others — the
  seed writes their prices as "XX元", so the operator must give them (the demo uses 168元 / 88元);
- a 3元 card with one fixed message for everyone; the gift is kept secret (the card does not name it);
- the list reaches the post office by lunar 8/8 (9月21日 in the seed's year, 2004) and the gifts are
  delivered from lunar 8/9 (9月22日) until lunar 8/13 (9月26日) 18:00;
- the budget: the seed counts 380 recipients (150 key at the high level + 230 general), which
  neither its own quotas (80 + 50 + 200 + 20 = 350 gifts, or 390 persons) nor any list agrees with,
  so Laoke computes the budget from the approved list instead.
"""

from __future__ import annotations

from datetime import date, datetime, time

from laoke.core.clock import shop_tz

from . import lunar
from .models import RecipientType

SEED_YEAR = 2004
CARD_UNIT_PRICE_FEN = 300
CARD_MESSAGE = (
    "感谢您对我们的支持，中秋佳节之际，请接受全体联动员工深情的谢意和诚挚的祝福，愿您心想事成，财源滚滚！"
)
LEVELS = [("high", "高档"), ("normal", "普通")]
QUOTAS = [  # type, gifts, persons per gift
    (RecipientType.OLD_CUSTOMER, 80, 1),
    (RecipientType.DEALER, 50, 1),
    (RecipientType.KEY_PROSPECT, 200, 1),
    (RecipientType.WALK_IN, 20, 3),
]
# The seed's own budget lines (七、费用预算), shown next to the computed budget.
SEED_BUDGET_COUNTS = {"high": 150, "normal": 230}
SEED_BUDGET_TOTAL = 380
DELIVERY_UNTIL_TIME = time(18, 0)
# Words a card message must not contain: the gift is a surprise (三、赠送方式: 事先对客户保密).
GIFT_WORDS = ("月饼", "mooncake")


def mid_autumn_dates(year: int) -> dict[str, date | datetime]:
    """The seed's dates for ``year``: courier deadline lunar 8/8, delivery lunar 8/9 – 8/13 18:00,
    walk-in window lunar 8/5 – 8/14."""
    until_day = lunar.lunar_august(year, 13)
    return {
        "courier_deadline": lunar.lunar_august(year, 8),
        "delivery_from": lunar.lunar_august(year, 9),
        "delivery_until": datetime.combine(until_day, DELIVERY_UNTIL_TIME, tzinfo=shop_tz()),
        "walkin_from": lunar.lunar_august(year, 5),
        "walkin_until": lunar.lunar_august(year, 14),
    }

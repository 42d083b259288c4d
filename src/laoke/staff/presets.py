"""The presets of staff work, each with where it comes from (seeds 000, 002, 003).

- S0 (seed 000): 销售代表实行工作日志，每工作日必须完成拜访两户新客户，三户老客户，四个联络电话
  → a working day's quota of 2 new-customer visits, 3 old-customer visits and 4 calls, and a
  monthly assessment of quota completion and the work log.
- S3 (seed 003): 营销员对自身客户每月必须走访两次，支局长对本局的大客户，每季度必须回访二次
  → own customers visited twice a month by their rep; big customers twice a quarter by the
  branch head.
- S2 (seed 002, a car dealer): 对客户做到每周至少三次的拜访 → key leads visited at least three
  times a week; 每日至少回访和跟踪2到3个潜在客户 → 2–3 prospect follow-ups a day;
  登记每位来访客户的信息，并上报潜客系统 → every walk-in registered; weekly: 查看潜客系统，看是否有
  需要跟进的客户 → the weekly pending list; monthly: 总结当月的客户成交量，客户战败原因 → deals and
  lost reasons of the month.

Defaults that the seeds do not give (marked *default*): working days Monday–Friday, the
follow-up interval by prospect level, the list of lost reasons (models.LostReason).
"""

from __future__ import annotations

from dataclasses import dataclass

# S0: a working day's quota
DAILY_QUOTA = {"new_visit": 2, "old_visit": 3, "call": 4}
WORKING_DAYS = "12345"  # *default*: ISO weekdays Monday–Friday

# S2: prospect follow-ups a day (at least 2, up to 3)
FOLLOW_UPS_PER_DAY = (2, 3)


@dataclass(frozen=True)
class Cadence:
    key: str
    times: int
    period: str  # "week" | "month" | "quarter"
    visitor: str  # "rep" (the account's or lead's rep) | "head" (the branch head, a sales manager)


CADENCES = {
    # S3: own customers twice a month by their rep
    "own_customer": Cadence("own_customer", 2, "month", "rep"),
    # S3: big customers twice a quarter by the branch head
    "big_customer": Cadence("big_customer", 2, "quarter", "head"),
    # S2: key leads at least three times a week
    "key_lead": Cadence("key_lead", 3, "week", "rep"),
}

# *default*: days to the next follow-up by prospect level (O ordered … C later); a key lead is
# followed up at least every 2 days (3 a week).
FOLLOW_UP_DAYS = {"O": 1, "H": 1, "A": 2, "B": 3, "C": 7}
KEY_LEAD_FOLLOW_UP_DAYS = 2

# How many days ahead staff_tick prepares plan suggestions (today and the next working day).
PLAN_DAYS_AHEAD = 1

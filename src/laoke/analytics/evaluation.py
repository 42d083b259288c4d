"""Campaign evaluation (SPEC 11): what each wave run, each loop and the whole campaign earned
against the control, for campaigns run by Laoke and for imported external ones — one report.

Definitions (decision 0027):
- An **arm** is the treatment or the control (an external campaign may have several treatment
  arms, each compared with the one ``control`` arm). Its **size** is every member who entered it —
  for the treatment the contacted *and* the suppressed (intention to treat: the control was not
  filtered by consent either) — and is the denominator of every rate and per-member figure.
  ``contacted`` is how many were actually contacted; for the control it is the arm size.
- A **responder** ordered in the evaluation window (attribution of campaigns.attribution: the
  run's coupon code first, else the last touch whose window was open; the control is measured the
  same way). Revenue is settled net of refunds. In a loop the control is the control filtered by
  the loop's entry condition, exactly like the treated (campaigns writes its contacts so).
- The campaign **overall**: an arm's members are those who entered any of its runs, a member's
  revenue the sum over the runs it was attributed to (each order is attributed once).
- **Cost** = coupons redeemed (discounts of the campaign's coupons in counted orders) + messages
  sent (SMS segments × the price per segment, emails × the email price) — for an external campaign
  the cost given at import. **ROI** = (incremental revenue − cost) ÷ cost.
- **Unsubscribe rate** of a run: contacted members who withdrew consent for the run's channel in
  its window ÷ contacted; flagged above a threshold (default 3%). **Complaint rate** needs a
  complaint source (the service desk, issue 8: an app's ``AppConfig.campaign_complaints``);
  without one it is ``None`` with ``complaints_tracked: false``.
Money in reports is yuan, rates are fractions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Count, Max, Sum
from django.utils.module_loading import import_string

from laoke.campaigns.attribution import COUNTED as COUNTED_ORDERS
from laoke.campaigns.attribution import Attributed, attributed_orders, campaign_contacts
from laoke.campaigns.models import Campaign, Outcome, Source, TargetMetric, WaveRun
from laoke.campaigns.selectors import delivery_counts
from laoke.campaigns.services import campaign_settings
from laoke.channels.models import StaffTask
from laoke.core.clock import to_local
from laoke.members.models import Consent, ConsentEvent
from laoke.messaging.models import Message
from laoke.orders.models import OrderCoupon

from .models import ExternalContact, ExternalOrder
from .uplift import ArmSums, incremental, proportion_uplift, revenue_uplift

CONTROL = "control"
TREATMENT = "treatment"
UNSUBSCRIBE_FLAG = 0.03
REACHED = (
    StaffTask.Outcome.REACHED,
    StaffTask.Outcome.WILL_VISIT,
    StaffTask.Outcome.PURCHASED,
    StaffTask.Outcome.MAILED,
)


@dataclass
class Arm:
    """One arm of one evaluation unit: who is in it and what each member brought."""

    name: str
    members: set[int] = field(default_factory=set)
    contacted: int = 0
    delivered: int | None = None
    revenue: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # member → fen
    orders: int = 0

    def merge(self, other: Arm) -> None:
        self.members |= other.members
        self.contacted += other.contacted
        if other.delivered is not None:
            self.delivered = (self.delivered or 0) + other.delivered
        for member, fen in other.revenue.items():
            self.revenue[member] += fen
        self.orders += other.orders

    def sums(self) -> ArmSums:
        responders = sum(1 for m in self.revenue if m in self.members)
        fen = [v for m, v in self.revenue.items() if m in self.members]
        return ArmSums(
            n=len(self.members),
            responders=responders,
            orders=self.orders,
            revenue_fen=sum(fen),
            revenue_sq_fen=sum(v * v for v in fen),
        )


def shop_date(at: datetime):
    return to_local(at).date()


def _yuan(fen: int | float | None) -> float | None:
    return None if fen is None else fen / 100


def _arms_report(arms: dict[str, Arm]) -> list[dict[str, Any]]:
    """Every arm's figures; treatment arms with their uplift against the control."""
    control = arms.get(CONTROL)
    c = control.sums() if control else ArmSums(0, 0)
    out = []
    for name in sorted(arms, key=lambda n: (n == CONTROL, n)):
        arm = arms[name]
        s = arm.sums()
        row: dict[str, Any] = {
            "name": name,
            "members": s.n,
            "contacted": s.n if name == CONTROL else arm.contacted,
            "delivered": arm.delivered,
            "responders": s.responders,
            "response_rate": s.response_rate,
            "orders": s.orders,
            "revenue": _yuan(s.revenue_fen),
            "revenue_per_member": s.revenue_per_member,
        }
        if name != CONTROL:
            row["uplift"] = proportion_uplift(s, c)
            row["revenue_uplift"] = revenue_uplift(s, c)
            row["incremental"] = incremental(s, c)
        out.append(row)
    return out


def _money(incremental_yuan: float | None, incremental_orders: float | None, cost_fen: int, contacted: int):
    cost = cost_fen / 100
    return {
        "cost": cost,
        "roi": (incremental_yuan - cost) / cost if cost and incremental_yuan is not None else None,
        "cost_per_contact": cost / contacted if contacted else None,
        "cost_per_incremental_order": (
            cost / incremental_orders if incremental_orders is not None and incremental_orders > 0 else None
        ),
    }


def _totals(arms: dict[str, Arm], cost_fen: int) -> dict[str, Any]:
    treated = Arm(TREATMENT)
    for name, arm in arms.items():
        if name != CONTROL:
            treated.merge(arm)
    t, c = treated.sums(), (arms[CONTROL].sums() if CONTROL in arms else ArmSums(0, 0))
    inc = incremental(t, c)
    return {
        "members": t.n + c.n,
        "contacted": treated.contacted,
        "responders": t.responders + c.responders,
        "orders": t.orders + c.orders,
        "revenue": _yuan(t.revenue_fen + c.revenue_fen),
        "incremental_orders": inc["orders"],
        "incremental_revenue": inc["revenue"],
        **_money(inc["revenue"], inc["orders"], cost_fen, treated.contacted),
    }


def _complaint_sources() -> list:
    return [
        import_string(cfg.campaign_complaints)
        for cfg in apps.get_app_configs()
        if getattr(cfg, "campaign_complaints", None)
    ]


# --- campaigns run by Laoke -----------------------------------------------------------------------


@dataclass
class _Unit:
    """One run (a wave's loop) with its arms, cost and unsubscribes."""

    run: WaveRun
    arms: dict[str, Arm]
    cost_fen: int = 0
    unsubscribed: int = 0
    complaints: int | None = None


def _message_cost(prefix: str) -> dict[str, int]:
    """purpose → what its sent messages cost (fen)."""
    settings = campaign_settings()
    out: dict[str, int] = defaultdict(int)
    rows = (
        Message.objects.filter(purpose__startswith=prefix, state=Message.State.SENT)
        .values_list("purpose", "channel")
        .annotate(n=Count("id"), seg=Sum("segments"))
    )
    for purpose, channel, n, seg in rows:
        if channel == Message.Channel.SMS:
            out[purpose] += (seg or 0) * settings.sms_fen_per_segment
        elif channel == Message.Channel.EMAIL:
            out[purpose] += n * settings.email_fen
    return out


def _units(campaign: Campaign) -> tuple[list[_Unit], list[Attributed]]:
    contacts = campaign_contacts(campaign)
    attributed = attributed_orders(campaign, contacts)
    runs = {
        r.pk: r
        for r in WaveRun.objects.filter(wave__campaign=campaign).select_related(
            "wave__branch", "wave__offer", "wave__template"
        )
    }
    units = {pk: _Unit(run, {TREATMENT: Arm(TREATMENT), CONTROL: Arm(CONTROL)}) for pk, run in runs.items()}
    contacted_at: dict[tuple[int, int], tuple[datetime, datetime]] = {}
    for run_id, member_id, outcome, at, ends, _coupon in contacts:
        arm = units[run_id].arms[CONTROL if outcome == Outcome.CONTROL else TREATMENT]
        arm.members.add(member_id)
        if outcome == Outcome.CONTACTED:
            arm.contacted += 1
            contacted_at[(run_id, member_id)] = (at, ends)
    for a in attributed:
        arm = units[a.run_id].arms[a.arm]
        arm.revenue[a.member_id] += a.revenue_fen
        arm.orders += 1
    # delivered: outbox receipts, or staff tasks done with the member reached
    delivered = delivery_counts(campaign.purpose_prefix)
    reached = dict(
        StaffTask.objects.filter(
            purpose__startswith=campaign.purpose_prefix, state=StaffTask.State.DONE, outcome__in=REACHED
        )
        .values_list("purpose")
        .annotate(n=Count("id"))
    )
    cost = _message_cost(campaign.purpose_prefix)
    coupon_cost = dict(
        OrderCoupon.objects.filter(
            order_id__in=[a.order_id for a in attributed if a.by_code], released_at__isnull=True
        )
        .values_list("coupon_id")
        .annotate(d=Sum("discount_fen"))
    )
    for a in attributed:
        if a.by_code:
            units[a.run_id].cost_fen += coupon_cost.pop(a.coupon_id, 0)
    for unit in units.values():
        run = unit.run
        purpose = f"{campaign.purpose_prefix}wave:{run.wave_id}:loop:{run.loop}"
        if run.wave.channel in ("sms", "email", "webhook"):
            unit.arms[TREATMENT].delivered = delivered.get(purpose, {}).get("delivered", 0)
        else:
            unit.arms[TREATMENT].delivered = reached.get(purpose, 0)
        unit.cost_fen += cost.get(purpose, 0)
    _unsubscribes(units, contacted_at)
    sources = _complaint_sources()
    if sources:
        for unit in units.values():
            unit.complaints = 0
        for source in sources:
            for member_id, at in source(list({m for _, m in contacted_at})):
                for unit in units.values():
                    span = contacted_at.get((unit.run.pk, member_id))
                    if span and span[0] <= at < span[1]:
                        unit.complaints += 1
    ordered = sorted(units.values(), key=lambda u: (u.run.due_at, u.run.wave.position, u.run.loop))
    return ordered, attributed


def _unsubscribes(units: dict[int, _Unit], contacted_at: dict[tuple[int, int], tuple[datetime, datetime]]):
    if not contacted_at:
        return
    members = {m for _, m in contacted_at}
    start = min(s for s, _ in contacted_at.values())
    end = max(e for _, e in contacted_at.values())
    events = defaultdict(list)
    for member_id, channel, at in ConsentEvent.objects.filter(
        member_id__in=members, state=Consent.State.WITHDRAWN, at__gte=start, at__lt=end
    ).values_list("member_id", "channel", "at"):
        events[member_id].append((channel, at))
    for (run_id, member_id), (at, ends) in contacted_at.items():
        channel = units[run_id].run.wave.channel
        if any(ch == channel and at <= when < ends for ch, when in events.get(member_id, ())):
            units[run_id].unsubscribed += 1


def _rates(contacted: int, unsubscribed: int, complaints: int | None, threshold: float) -> dict[str, Any]:
    rate = unsubscribed / contacted if contacted else None
    return {
        "unsubscribes": unsubscribed,
        "unsubscribe_rate": rate,
        "unsubscribe_flag": rate is not None and rate > threshold,
        "complaints": complaints,
        "complaint_rate": complaints / contacted if contacted and complaints is not None else None,
    }


def _merge(units: Iterable[_Unit]) -> tuple[dict[str, Arm], int, int, int | None]:
    arms = {TREATMENT: Arm(TREATMENT), CONTROL: Arm(CONTROL)}
    cost = unsub = 0
    complaints: int | None = None
    for unit in units:
        for name, arm in unit.arms.items():
            arms[name].merge(arm)
        cost += unit.cost_fen
        unsub += unit.unsubscribed
        if unit.complaints is not None:
            complaints = (complaints or 0) + unit.complaints
    return arms, cost, unsub, complaints


def _group_report(key: str, units: list[_Unit], label) -> list[dict[str, Any]]:
    groups: dict[str, list[_Unit]] = defaultdict(list)
    for unit in units:
        groups[label(unit)].append(unit)
    out = []
    for name, members in groups.items():
        arms, cost, _, _ = _merge(members)
        out.append({key: name, "runs": len(members), "arms": _arms_report(arms), **_totals(arms, cost)})
    return out


def _series(attributed: list[Attributed], arms: dict[str, Arm], start: datetime | None) -> list[dict]:
    """Cumulative response rate of each arm by shop day since the start (first order per member)."""
    if not start or not attributed:
        return []
    first: dict[tuple[str, int], datetime] = {}
    for a in attributed:
        key = (a.arm, a.member_id)
        if key not in first or a.paid_at < first[key]:
            first[key] = a.paid_at
    day0 = shop_date(start)
    last = max(shop_date(at) for at in first.values())
    per_day: dict[tuple[str, int], int] = defaultdict(int)
    for (arm, member), at in first.items():
        if member in arms[arm].members:
            per_day[(arm, (shop_date(at) - day0).days)] += 1
    out, running = [], dict.fromkeys(arms, 0)
    for d in range((last - day0).days + 1):
        row: dict[str, Any] = {"day": d, "date": (day0 + timedelta(days=d)).isoformat()}
        for name, arm in arms.items():
            running[name] += per_day.get((name, d), 0)
            row[name] = running[name] / len(arm.members) if arm.members else None
        out.append(row)
    return out


def _target(campaign: Campaign, totals: dict, arms_report: list[dict]) -> dict[str, Any]:
    treated = next((a for a in arms_report if a["name"] != CONTROL), None)
    metric, value = campaign.target_metric, campaign.target_value
    actual: float | None = None
    if treated is not None:
        if metric == TargetMetric.RESPONSE_RATE and treated["response_rate"] is not None:
            actual = treated["response_rate"] * 10000
        elif metric == TargetMetric.ORDERS:
            actual = totals["incremental_orders"]
        elif metric == TargetMetric.REVENUE and totals["incremental_revenue"] is not None:
            actual = totals["incremental_revenue"] * 100
        elif metric == TargetMetric.SALES_GROWTH:
            control = next((a for a in arms_report if a["name"] == CONTROL), None)
            if control and control["revenue_per_member"]:
                rel = treated["revenue_per_member"] / control["revenue_per_member"] - 1
                actual = rel * 10000
    return {
        "metric": metric,
        "value": value,
        "actual": actual,
        "met": None if actual is None or not value else actual >= value,
    }


def _internal(campaign: Campaign, threshold: float) -> dict[str, Any]:
    units, attributed = _units(campaign)
    arms, cost, unsub, complaints = _merge(units)
    arms_report = _arms_report(arms)
    totals = _totals(arms, cost)
    runs = []
    for unit in units:
        run, wave = unit.run, unit.run.wave
        runs.append(
            {
                "run_id": run.pk,
                "wave_id": wave.pk,
                "wave": wave.name,
                "branch": wave.branch.name if wave.branch_id else None,
                "channel": wave.channel,
                "offer": wave.offer.name if wave.offer_id else None,
                "loop": run.loop,
                "due_at": run.due_at,
                "state": run.state,
                "arms": _arms_report(unit.arms),
                **_totals(unit.arms, unit.cost_fen),
                **_rates(unit.arms[TREATMENT].contacted, unit.unsubscribed, unit.complaints, threshold),
            }
        )
    return {
        "window": "per wave",
        "window_days": None,
        "arms": arms_report,
        "totals": {**totals, **_rates(totals["contacted"], unsub, complaints, threshold)},
        "target": _target(campaign, totals, arms_report),
        "runs": runs,
        "comparisons": {
            "channel": _group_report("channel", units, lambda u: u.run.wave.channel),
            "offer": _group_report(
                "offer", units, lambda u: u.run.wave.offer.name if u.run.wave.offer_id else ""
            ),
            "branch": _group_report(
                "branch", units, lambda u: u.run.wave.branch.name if u.run.wave.branch_id else ""
            ),
            "loop": _group_report("loop", units, lambda u: str(u.run.loop)),
        },
        "series": _series(attributed, arms, campaign.started_at),
        "complaints_tracked": bool(_complaint_sources()),
    }


# --- external campaigns -------------------------------------------------------------------------


def _external(campaign: Campaign, threshold: float) -> dict[str, Any]:
    meta = campaign.external
    window = timedelta(days=meta.window_days)
    arms: dict[str, Arm] = {}
    span: dict[int, tuple[str, datetime]] = {}
    for member_id, arm_name, at in ExternalContact.objects.filter(campaign=campaign).values_list(
        "member_id", "arm", "contacted_at"
    ):
        arm = arms.setdefault(arm_name, Arm(arm_name))
        arm.members.add(member_id)
        arm.contacted += 1
        span[member_id] = (arm_name, at)
    attributed: list[Attributed] = []
    for member_id, ordered_at, fen in ExternalOrder.objects.filter(campaign=campaign).values_list(
        "member_id", "ordered_at", "amount_fen"
    ):
        hit = span.get(member_id)
        if hit is None or not (hit[1] <= ordered_at < hit[1] + window):
            continue
        arm = arms[hit[0]]
        arm.revenue[member_id] += fen
        arm.orders += 1
        attributed.append(Attributed(0, member_id, 0, hit[0], ordered_at, fen, False, None))
    arms.setdefault(CONTROL, Arm(CONTROL))
    arms_report = _arms_report(arms)
    totals = _totals(arms, campaign.spent_fen)
    start = min((at for _, at in span.values()), default=None)
    return {
        "window": f"{meta.window_days} days",
        "window_days": meta.window_days,
        "arms": arms_report,
        "totals": {**totals, **_rates(totals["contacted"], 0, None, threshold), "unsubscribes": None},
        "target": _target(campaign, totals, arms_report),
        "runs": [],
        "comparisons": {},
        "series": _series(attributed, arms, start),
        "complaints_tracked": False,
    }


def campaign_report(campaign: Campaign, *, unsubscribe_flag: float = UNSUBSCRIBE_FLAG) -> dict[str, Any]:
    """The whole evaluation of one campaign (see the module docstring for every definition)."""
    body = (_external if campaign.source == Source.EXTERNAL else _internal)(campaign, unsubscribe_flag)
    return {
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "source": campaign.source,
            "state": campaign.state,
            "objective": campaign.objective,
            "plain_terms": campaign.plain_terms,
            "started_at": campaign.started_at,
            "ends_at": campaign.ends_at,
        },
        **body,
    }


# --- feature distributions (特征分析) ----------------------------------------------------------------

FEATURE_GROUPS = ("responders", "non_responders", "control")


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "mean": None, "p25": None, "median": None, "p75": None}
    import numpy as np

    arr = np.asarray(values, dtype=float)
    p25, med, p75 = np.percentile(arr, [25, 50, 75])
    return {
        "n": len(values),
        "mean": float(arr.mean()),
        "p25": float(p25),
        "median": float(med),
        "p75": float(p75),
    }


def campaign_features(campaign: Campaign) -> dict[str, Any]:
    """How responders, non-responders (treated members without an attributed order) and the
    control differ, on what was known when the campaign started: orders and spend before it,
    days since the last order, membership age, gender and province shares."""
    from laoke.members.models import Member
    from laoke.orders.models import Order

    if campaign.source == Source.EXTERNAL:
        rows = ExternalContact.objects.filter(campaign=campaign).values_list(
            "member_id", "arm", "contacted_at"
        )
        arm_of = {m: (CONTROL if arm == CONTROL else TREATMENT) for m, arm, _ in rows}
        start = min((at for _, _, at in rows), default=None)
        responders = set()
        window = timedelta(days=campaign.external.window_days)
        contacted = {m: at for m, _, at in rows}
        for m, at, _fen in ExternalOrder.objects.filter(campaign=campaign).values_list(
            "member_id", "ordered_at", "amount_fen"
        ):
            if m in contacted and contacted[m] <= at < contacted[m] + window:
                responders.add(m)
    else:
        contacts = campaign_contacts(campaign)
        arm_of = {m: (CONTROL if o == Outcome.CONTROL else TREATMENT) for _, m, o, *_ in contacts}
        responders = {a.member_id for a in attributed_orders(campaign, contacts) if a.arm == TREATMENT}
        start = campaign.started_at
    if not arm_of or start is None:
        return {"groups": {g: {"members": 0} for g in FEATURE_GROUPS}, "as_of": start}
    group_of = {
        m: ("control" if arm == CONTROL else "responders" if m in responders else "non_responders")
        for m, arm in arm_of.items()
    }
    before: dict[int, tuple[int, int, datetime | None]] = {}
    ids = list(group_of)
    for i in range(0, len(ids), 5000):
        for m, n, fen, last in (
            Order.objects.filter(
                member_id__in=ids[i : i + 5000], paid_at__lt=start, status__in=COUNTED_ORDERS
            )
            .values_list("member_id")
            .annotate(n=Count("id"), fen=Sum("total_fen") - Sum("refunded_fen"), last=Max("paid_at"))
        ):
            before[m] = (n, fen or 0, last)
    profile = {}
    for i in range(0, len(ids), 5000):
        for m, gender, province, registered in Member.objects.filter(pk__in=ids[i : i + 5000]).values_list(
            "pk", "gender", "province", "registered_at"
        ):
            profile[m] = (gender, province, registered)
    out = {}
    for group in FEATURE_GROUPS:
        members = [m for m, g in group_of.items() if g == group]
        orders = [before.get(m, (0, 0, None))[0] for m in members]
        spend = [before.get(m, (0, 0, None))[1] / 100 for m in members]
        recency = [(start - before[m][2]).days for m in members if m in before and before[m][2]]
        # members registered after the start (an external campaign's new references) have no tenure
        tenure = [(start - profile[m][2]).days for m in members if m in profile and profile[m][2] <= start]
        genders: dict[str, int] = defaultdict(int)
        provinces: dict[str, int] = defaultdict(int)
        for m in members:
            gender, province, _ = profile.get(m, ("", "", None))
            genders[gender or "unknown"] += 1
            provinces[province or "unknown"] += 1
        n = len(members)
        out[group] = {
            "members": n,
            "orders_before": _quantiles(orders),
            "spend_before": _quantiles(spend),
            "days_since_last_order": _quantiles(recency),
            "membership_days": _quantiles(tenure),
            "gender": {k: v / n for k, v in sorted(genders.items())} if n else {},
            "province": dict(sorted(((k, v / n) for k, v in provinces.items()), key=lambda kv: -kv[1])[:10])
            if n
            else {},
        }
    return {"groups": out, "as_of": start}


def campaign_responder_purchases(campaign: Campaign, *, top: int = 10) -> dict[str, Any] | None:
    """回购人群订单分析: what the treated responders bought during the campaign (from its first
    contact to the last evaluation window's end), against every other buyer of that time — the
    products and categories to cross-sell next. None for an external campaign (its orders are
    not the shop's) or before anyone responded."""
    from .baskets import members_purchases

    if campaign.source == Source.EXTERNAL:
        return None
    contacts = campaign_contacts(campaign)
    responders = {a.member_id for a in attributed_orders(campaign, contacts) if a.arm == TREATMENT}
    if not responders:
        return None
    return members_purchases(responders, min(c[3] for c in contacts), max(c[4] for c in contacts), top=top)

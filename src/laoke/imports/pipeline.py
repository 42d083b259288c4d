"""The check (dry run) and the apply of an import job (docs/decisions/0029-imports.md).

``check`` reads the file(s), validates every row and says what an apply would do, writing nothing
but the job's own row. ``apply`` checks again (the database may have moved), refuses a file with
problems in "all or nothing" mode, and otherwise writes in stages, each a series of short
transactions of ≤ ``CHUNK`` rows tagged with the job id, progress saved with every chunk:

    members (new buyers) → references → orders (+ lines, refunds) → points (if asked) →
    statistics and tiers of the members touched → welcome messages (if asked)

Running an interrupted job again resumes: existing keys are skipped and the rebuild of
statistics and tiers covers every order of the job, whichever run wrote it.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from laoke.catalog.models import Product
from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.bulk import insert_rows, model_rows, values_in
from laoke.core.errors import DomainError
from laoke.core.tabular import Table, read_table
from laoke.members.bulk import _refs_insert
from laoke.members.models import Member
from laoke.orders.importing import _orders_insert
from laoke.orders.models import Order
from laoke.orders.rebuild import _stats_rebuild
from laoke.promotions.models import Coupon
from laoke.tiers.replay import _tiers_replay

from . import error_codes as E
from . import generic, taobao
from .buyers import Buyer, addresses_parse, buyers_register, buyers_resolve, country_of, refs_pending
from .fields import default_mapping
from .models import ImportJob, ImportKind
from .parsed import Parsed

CHUNK = 2000
Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def job_dir(job: ImportJob) -> Path:
    return Path(settings.DATA_DIR) / "imports" / job.job_id


def _table(path: str, name: str) -> Table:
    return read_table((Path(settings.DATA_DIR) / path).read_bytes(), name)


def _products_for(skus: set[str]) -> dict[str, tuple[int, int | None]]:
    out: dict[str, tuple[int, int | None]] = {}
    wanted = sorted(s for s in skus if s)
    for i in range(0, len(wanted), CHUNK):
        for sku, pk, cat in Product.objects.filter(sku__in=wanted[i : i + CHUNK]).values_list(
            "sku", "pk", "category_id"
        ):
            out[sku] = (pk, cat)
    return out


def parse_job(job: ImportJob) -> Parsed:
    table = _table(job.file_path, job.file_name)
    if job.kind == ImportKind.TAOBAO:
        items = _table(job.items_file_path, job.items_file_name) if job.items_file_path else None
        skus = set()
        if items is not None:
            idx, _e = items.index(taobao.mapping_of(items, taobao.ITEM_FIELDS), set())
            if "sku" in idx:
                skus = {cells[idx["sku"]] for _r, cells in items.rows if len(cells) > idx["sku"]}
        return taobao.parse(table, items, products=_products_for(skus))
    mapping = {**default_mapping(job.kind, table.headers), **job.mapping}
    if job.kind == ImportKind.MEMBERS:
        return generic.parse_members(table, mapping)
    if job.kind == ImportKind.ORDERS:
        idx, _e = table.index(mapping, set())
        skus = {cells[idx["sku"]] for _r, cells in table.rows if "sku" in idx and len(cells) > idx["sku"]}
        return generic.parse_orders(table, mapping, products=_products_for(skus))
    if job.kind == ImportKind.PRODUCTS:
        return generic.parse_products(table, mapping)
    return generic.parse_coupons(table, mapping)


def _ref_source(kind: str) -> str:
    return taobao.SOURCE if kind == ImportKind.TAOBAO else generic.REF_SOURCE


def _member_source(kind: str) -> str:
    return Member.Source.TAOBAO if kind == ImportKind.TAOBAO else Member.Source.IMPORT


def _existing(model, column: str, values: list[str]) -> set[str]:
    return {v for (v,) in values_in(model, column, values, [column])}


# --- check ---------------------------------------------------------------------------------------


def plan_of(job: ImportJob, parsed: Parsed) -> dict:
    """What an apply would do now (counts only)."""
    plan: dict = {
        "rows": parsed.total_rows,
        "problems": len(parsed.errors),
        "rows_with_problems": parsed.bad_rows,
    }
    plan.update({f"skipped_{k}": v for k, v in parsed.skipped.items()})
    if parsed.orders:
        numbers = [r.order.number for r in parsed.orders]
        present = _existing(Order, "number", numbers)
        fresh = [r for r in parsed.orders if r.order.number not in present]
        buyers = [r.buyer for r in fresh]
        res = buyers_resolve(buyers, ref_source=_ref_source(job.kind))
        plan.update(
            orders=len(parsed.orders),
            orders_present=len(present),
            orders_new=len(fresh),
            lines_new=sum(len(r.order.lines) for r in fresh),
            refunds_new=sum(1 for r in fresh if r.order.refund),
            amount_new_fen=sum(r.order.goods_net_fen + r.order.postage_net_fen for r in fresh),
            members_matched=res.matched,
            members_new=len(res.pending),
            orders_without_member=sum(1 for b in buyers if b.key() is None),
        )
    if parsed.members:
        res = buyers_resolve([m.buyer for m in parsed.members], ref_source=_ref_source(job.kind))
        plan.update(members=len(parsed.members), members_present=res.matched, members_new=len(res.pending))
    if parsed.products:
        present = _existing(Product, "sku", [p.sku for p in parsed.products])
        plan.update(
            products=len(parsed.products),
            products_present=len(present),
            products_new=len(parsed.products) - len(present),
        )
    if parsed.coupons:
        present = _existing(Coupon, "code", [c.code for c in parsed.coupons])
        plan.update(
            coupons=len(parsed.coupons),
            coupons_present=len(present),
            coupons_new=len(parsed.coupons) - len(present),
        )
    return plan


# --- apply ---------------------------------------------------------------------------------------


@dataclass
class Applier:
    job: ImportJob
    parsed: Parsed
    progress: Progress
    now: datetime = field(init=False)
    result: dict = field(init=False, default_factory=dict)

    def __post_init__(self):
        self.now = clock.now()

    def chunks(self, items: list, stage: str):
        total = len(items)
        self.progress(stage, 0, total)
        for i in range(0, total, CHUNK):
            yield items[i : i + CHUNK]
            self.progress(stage, min(i + CHUNK, total), total)

    def audit(self, action: str, after: dict) -> None:
        audit_write(
            action=action,
            object_type="import",
            object_id=self.job.job_id,
            after=after,
            actor=self.job.created_by,
        )

    # buyers ---------------------------------------------------------------------------------------
    def members_for(self, buyers: list[Buyer], addresses=None):
        kind = self.job.kind
        res = buyers_resolve(buyers, ref_source=_ref_source(kind))
        pending = list(res.pending)
        for part in self.chunks(pending, "members"):
            with transaction.atomic(durable=True):
                buyers_register(
                    res,
                    part,
                    member_source=_member_source(kind),
                    now=self.now,
                    job_id=self.job.job_id,
                    addresses=addresses,
                )
        if _UNGUARDED_PAUSE:
            time.sleep(_UNGUARDED_PAUSE)
        for part in self.chunks(refs_pending(res, buyers, ref_source=_ref_source(kind)), "references"):
            with transaction.atomic(durable=True):
                _refs_insert(part, now=self.now)
        self.result.update(members_matched=res.matched, members_created=res.created)
        if self.job.options.get("notify_text"):
            self.notify(res)
        return res

    # orders --------------------------------------------------------------------------------------
    def orders(self) -> None:
        recs = self.parsed.orders
        present = _existing(Order, "number", [r.order.number for r in recs])
        fresh = [r for r in recs if r.order.number not in present]
        addresses = (
            addresses_parse(r.buyer.address or r.order.ship_to for r in fresh)
            if self.job.kind == ImportKind.TAOBAO
            else {}
        )
        res = self.members_for([r.buyer for r in fresh], addresses)
        for r in fresh:
            r.order.member_id = res.member(r.buyer)
            p = addresses.get(r.order.ship_to)
            if p is not None:
                r.order.ship_province, r.order.ship_country = p.province[:30], country_of(p)
        created = 0
        for part in self.chunks(fresh, "orders"):
            with transaction.atomic(durable=True):
                written = _orders_insert([r.order for r in part], job_id=self.job.job_id)
                created += len(written)
                self.audit(
                    "import.orders", {"orders": len(written), "first": written[0] if written else None}
                )
        self.result.update(orders_present=len(present), orders_created=created)
        if self.job.options.get("award_points"):
            self.points()
        self.rebuild()

    def points(self) -> None:
        from .points import award_points

        numbers = list(
            Order.objects.filter(import_job=self.job.job_id, member__isnull=False)
            .order_by("pk")
            .values_list("number", flat=True)
        )
        awarded = 0
        for part in self.chunks(numbers, "points"):
            with transaction.atomic(durable=True):
                awarded += award_points(part)
        self.result["points_awarded"] = awarded

    def rebuild(self) -> None:
        members = sorted(
            set(
                Order.objects.filter(import_job=self.job.job_id, member__isnull=False).values_list(
                    "member_id", flat=True
                )
            )
        )
        moved = 0
        for part in self.chunks(members, "statistics"):
            with transaction.atomic(durable=True):
                events = _stats_rebuild(part)
                moved += _tiers_replay(
                    events, reason=f"import {self.job.job_id}", job_id=self.job.job_id
                ).moved
        self.result.update(members_rebuilt=len(members), tiers_raised=moved)

    # members, products, coupons -------------------------------------------------------------------
    def members(self) -> None:
        res = self.members_for([m.buyer for m in self.parsed.members])
        self.result["members_present"] = res.matched

    def notify(self, res) -> None:
        from .points import welcome_messages

        new_ids = [res.member_of[k] for k in res.pending]
        queued = 0
        for part in self.chunks(new_ids, "messages"):
            with transaction.atomic(durable=True):
                queued += welcome_messages(part, text=self.job.options["notify_text"], job_id=self.job.job_id)
        self.result["messages_queued"] = queued

    def products(self) -> None:
        recs = self.parsed.products
        present = _existing(Product, "sku", [p.sku for p in recs])
        fresh = [p for p in recs if p.sku not in present]
        for part in self.chunks(fresh, "products"):
            with transaction.atomic(durable=True):
                columns, rows = model_rows(
                    Product,
                    [
                        {
                            "sku": p.sku,
                            "title": p.title,
                            "category_id": p.category_id,
                            "list_price_fen": p.price_fen,
                            "cost_price_fen": p.cost_fen,
                            "returnable": p.returnable,
                            "created_at": self.now,
                            "updated_at": self.now,
                        }
                        for p in part
                    ],
                )
                insert_rows(Product._meta.db_table, columns, rows)
                self.audit("product.create_bulk", {"products": len(part), "first": part[0].sku})
        self.result.update(products_present=len(present), products_created=len(fresh))

    def coupons(self) -> None:
        from laoke.promotions.models import CouponTemplate
        from laoke.promotions.services import _coupon_issue

        template = CouponTemplate.objects.filter(
            pk=self.job.options.get("template_id"), is_active=True
        ).first()
        if template is None:
            raise DomainError(E.IMPORT_TEMPLATE_REQUIRED, field="template_id")
        recs = self.parsed.coupons
        present = _existing(Coupon, "code", [c.code for c in recs])
        fresh = [c for c in recs if c.code not in present]
        members = {m.pk: m for m in Member.objects.filter(pk__in={c.member_id for c in fresh if c.member_id})}
        created = 0
        for part in self.chunks(fresh, "coupons"):
            with transaction.atomic(durable=True):
                tpl = CouponTemplate.objects.get(pk=template.pk)
                for c in part:
                    _coupon_issue(
                        template=tpl,
                        member=members.get(c.member_id),
                        key=f"import:{tpl.pk}:{c.code}",
                        code=c.code,
                        now=self.now,
                    )
                created += len(part)
                self.audit("coupon.import", {"template": tpl.pk, "codes": len(part)})
        self.result.update(coupons_present=len(present), coupons_created=created)

    def run(self) -> dict:
        kind = self.job.kind
        if kind in (ImportKind.TAOBAO, ImportKind.ORDERS):
            self.orders()
        elif kind == ImportKind.MEMBERS:
            self.members()
        elif kind == ImportKind.PRODUCTS:
            self.products()
        else:
            self.coupons()
        return self.result


# Test-only switch for the negative control of the concurrent-import test: no mutex, and a pause
# between registering the buyers and attaching their references (where two imports interleave).
_UNGUARDED_FOR_TESTS = False
_UNGUARDED_PAUSE = 0.0
_LOCK_KEY = 0x4C4B494D  # "LKIM": the PostgreSQL advisory lock of imports


@contextmanager
def one_at_a_time():
    """Imports apply one at a time (IMPORT_BUSY otherwise): two imports of the same people would
    each register a member before either attached the reference that identifies it. PostgreSQL: a
    session advisory lock (any machine); SQLite: a file lock in the data dir (one machine)."""
    if _UNGUARDED_FOR_TESTS:
        yield
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
            if not cur.fetchone()[0]:
                raise DomainError(E.IMPORT_BUSY)
        try:
            yield
        finally:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
        return
    folder = Path(settings.DATA_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".apply.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise DomainError(E.IMPORT_BUSY) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def apply(job: ImportJob, parsed: Parsed, progress: Progress = _no_progress) -> dict:
    if parsed.errors and job.mode == ImportJob.Mode.ALL:
        raise DomainError(E.IMPORT_HAS_ERRORS, count=len(parsed.errors))
    if not (parsed.orders or parsed.members or parsed.products or parsed.coupons) and parsed.errors:
        raise DomainError(E.IMPORT_NOTHING_VALID)
    with one_at_a_time():
        return Applier(job, parsed, progress).run()

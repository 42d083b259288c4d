"""`make load`: a bounded open-loop load on loopback — member lookup, quote, settle and card
recharge against the real server — then a check that no value went astray.

    .venv/bin/python -m bench.load                       # 5 minutes on embedded SQLite
    .venv/bin/python -m bench.load --seconds 10          # a smoke run
    LOAD_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_load .venv/bin/python -m bench.load

What it does, in order:

1. A fresh data dir (temp), ``laoke init`` and ``laoke demo`` (2,000 members, 13 products, 4
   stores, tiers, points, promotions, orders). On PostgreSQL the database of
   ``--database-url`` / ``LOAD_DATABASE_URL`` is created if missing and **emptied** first (its
   ``public`` schema is dropped): point it at a database of its own. Production settings
   (``LAOKE_TESTING`` unset: real password hasher, scrypt PINs, Huey on disk).
2. Load data on top: LOAD_MEMBERS of the demo's individual members get 10,000元 in their wallet
   and 100,000 points; prepaid cards of 100元 are generated, sold and their PINs read from the
   batch file (one card per recharge the run will send); a cashier of a demo store with an API
   token (members:read, orders:read/write, value:read/write).
3. The server as ``laoke serve`` starts it: gunicorn, 2 workers × 4 threads, on a free loopback
   port. No Huey worker: none of the four endpoints needs one (a low-balance SMS would only be
   an outbox row, and wallets stay far above the threshold).
4. Unless ``--rate`` is given, a closed-loop probe: 8 clients send the same mix back to back for
   PROBE_SECONDS; the open-loop rate is RATE_SHARE (50%) of that throughput — loaded, not
   overloaded (at 100% an open loop's queue grows without bound).
5. Baseline, same run, same rate: ``GET /api/v1/whoami`` (token authentication and JSON, no
   business work) open-loop for a tenth of the run (10–60 s): the framework floor.
6. The open loop: arrivals are a seeded Poisson process at ``--rate`` requests/s in total (tills
   are independent of each other), each request's kind drawn from the mix below. Every request
   is handed to a pool of sender threads at its scheduled instant whatever the earlier ones are
   doing, on a fresh connection (as nginx talks to gunicorn), and its latency runs from the
   **scheduled** instant, so a slow server cannot hide its queue (no coordinated omission).
   Writes carry a unique Idempotency-Key.
7. Checks afterwards (exit status 1 if any fails, or if any request failed):
   - ``laoke ledger check``: every cached balance equals the sum of its transfers, each unit
     sums to zero;
   - each load member's wallet (paid + bonus) equals the balance read before the load plus the
     recharges the server acknowledged minus the wallet payments of the settlements it
     acknowledged — from this client's own log, not the server's;
   - as many new orders and redeemed cards as acknowledged settlements and recharges;
   - a sample of acknowledged settlements and recharges resent with the same Idempotency-Key
     returns the same order / card and moves nothing (checked by the counts above).
   A write whose outcome the client could not know (connection error, 5xx) is resent with its
   key after the run to learn it; it still counts as an error.

The mix (a till's day): a member lookup at every sale and for every enquiry — 40%; a quote (试算)
before each settlement, often more than one as the cart changes — 25%; settlements — 25%; card
recharges — 10%. Carts are 1–3 of the demo's products, paid 30元 from the wallet, 100 points and
the rest cash, in the cashier's store.

Negative controls (to see the checks fail): ``--negative-control settle`` sends every 10th
settlement for a member with an empty wallet (refused: counted as errors); ``--negative-control
drift`` moves one wallet's cached balance by 1 fen behind the ledger's back after the run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from io import BytesIO
from pathlib import Path

from bench._server import free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]
MIX = (("lookup", 0.40), ("quote", 0.25), ("settle", 0.25), ("recharge", 0.10))
KINDS = [k for k, _ in MIX]
LOAD_MEMBERS = 500
TOPUP_FEN = 1_000_000  # 10,000元 per load member
TOPUP_POINTS = 100_000
WALLET_FEN = 3_000  # paid from the wallet per settlement (the cheapest product costs 49.90元)
POINTS = 100  # points per settlement
CARD_FEN = 10_000  # face value of a recharge card
WEB_WORKERS = 2
PROBE_CLIENTS = 8
PROBE_SECONDS = 20.0
RATE_SHARE = 0.5
TIMEOUT = 30.0
SEED = 20261201


def log(msg: str) -> None:
    print(msg, flush=True)


# --- environment and set-up -------------------------------------------------------------------------


def prepare_env(database_url: str | None) -> Path:
    data_dir = Path(tempfile.mkdtemp(prefix="laoke-load-"))
    os.environ["LAOKE_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "laoke.settings"
    for var in ("LAOKE_TESTING", "LAOKE_FROZEN_NOW"):
        os.environ.pop(var, None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        _empty_pg_database(database_url)
    else:
        os.environ.pop("DATABASE_URL", None)
    return data_dir


def _empty_pg_database(url: str) -> None:
    import psycopg

    from bench._common import ensure_pg_database

    name = url.rpartition("/")[2]
    if name in ("postgres", "template0", "template1", "test"):
        raise SystemExit(f"refusing to empty database {name!r}: give the load a database of its own")
    ensure_pg_database(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def laoke(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "laoke.cli", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"laoke {' '.join(args)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    return out.stdout


@dataclass
class Shop:
    token: str
    store_id: int
    members: list[int]  # load members (wallets topped up)
    mobiles: list[str]  # every visible member's mobile, 11 digits
    skus: list[str]
    broke_member: int | None = None
    cards: list[tuple[str, str]] = field(default_factory=list)


def seed(negative_settle: bool) -> Shop:
    import django

    django.setup()
    from laoke.cards.wallet import wallet_credit
    from laoke.catalog.models import Product
    from laoke.core.models import Store
    from laoke.core.services import api_token_create, staff_user_create
    from laoke.members.selectors import member_visible_queryset
    from laoke.members.services import member_create
    from laoke.points.services import points_adjust

    store = Store.objects.exclude(kind=Store.Kind.BRANCH).order_by("pk").first()
    user = staff_user_create(username="load-cashier", password=uuid.uuid4().hex, role="cashier", store=store)
    _, token = api_token_create(
        user=user,
        name="load",
        scopes=["members:read", "orders:read", "orders:write", "value:read", "value:write"],
    )
    visible = member_visible_queryset(user).filter(mobile__isnull=False, status="active").order_by("pk")
    mobiles = [m[3:] if m.startswith("+86") else m for m in visible.values_list("mobile", flat=True)]
    members = list(visible[:LOAD_MEMBERS])
    for m in members:
        wallet_credit(member=m, amount_fen=TOPUP_FEN, key=f"load-topup:{m.pk}", reason="load.seed")
        points_adjust(member=m, points=TOPUP_POINTS, reason="load seed", key=f"load-points:{m.pk}")
    broke = member_create(name="空钱包", mobile="13700000001").pk if negative_settle else None
    # Every cart can take the whole wallet share (the demo's 10元 gift towel alone could not).
    skus = list(
        Product.objects.filter(list_price_fen__gte=WALLET_FEN + 1_000)
        .order_by("sku")
        .values_list("sku", flat=True)
    )
    return Shop(
        token=token,
        store_id=store.pk,
        members=[m.pk for m in members],
        mobiles=mobiles,
        skus=skus,
        broke_member=broke,
    )


def make_cards(n: int) -> list[tuple[str, str]]:
    """``n`` sold cards of CARD_FEN with their PINs (from the batch file, as a shop gets them)."""
    from openpyxl import load_workbook

    from laoke.cards.services import (
        card_activate,
        card_batch_create,
        card_batch_download,
        card_batch_generate,
    )

    if n <= 0:
        return []
    batch = card_batch_create(face_value_fen=CARD_FEN, count=n, background=False)
    card_batch_generate(batch_id=batch.pk)
    for first in range(1, n + 1, 2_000):
        card_activate(batch=batch, first_serial=first, last_serial=min(n, first + 1_999))
    ws = load_workbook(BytesIO(card_batch_download(batch_id=batch.pk)[1]), read_only=True).active
    return [(str(r[1]), str(r[2])) for r in list(ws.iter_rows(values_only=True))[2:]]


def wallets(member_ids: list[int]) -> dict[int, int]:
    from laoke.cards.selectors import wallet_summary
    from laoke.members.models import Member

    return {m.pk: wallet_summary(member=m)["balance_fen"] for m in Member.objects.filter(pk__in=member_ids)}


def value_counts() -> dict[str, int]:
    from laoke.cards.models import Card
    from laoke.orders.models import Order

    return {
        "orders": Order.objects.count(),
        "cards_redeemed": Card.objects.filter(redeemed_at__isnull=False).count(),
    }


# --- the server -------------------------------------------------------------------------------------


# --- requests ---------------------------------------------------------------------------------------


@dataclass
class Req:
    kind: str
    method: str
    path: str
    body: bytes | None = None
    key: str | None = None  # Idempotency-Key of a write
    member: int | None = None
    amount: int = 0  # wallet fen the write moves: + recharge, − settlement (as sent)
    # filled in by the sender
    status: int | str = 0
    code: str = ""
    ok: bool = False
    sent: float = 0.0
    done: float = 0.0
    response: dict | None = None


class Requests:
    """The seeded request stream: kind by the mix, members, carts and cards."""

    def __init__(self, shop: Shop, rng: random.Random, negative_settle: bool):
        self.shop, self.rng, self.negative = shop, rng, negative_settle
        self.cards = iter(shop.cards)
        self.settles = self.no_card = 0
        self.lock = threading.Lock()

    def kind(self) -> str:
        x, acc = self.rng.random(), 0.0
        for k, share in MIX:
            acc += share
            if x < acc:
                return k
        return MIX[-1][0]

    def _cart(self, member: int) -> dict:
        skus = self.rng.sample(self.shop.skus, self.rng.randint(1, 3))
        return {
            "lines": [{"sku": s, "quantity": self.rng.randint(1, 2)} for s in skus],
            "member_id": member,
            "store_id": self.shop.store_id,
            "wallet_fen": WALLET_FEN,
            "points": POINTS,
        }

    def make(self, kind: str) -> Req:
        with self.lock:
            return self._make(kind)

    def next(self) -> Req:
        with self.lock:
            return self._make(self.kind())

    def _make(self, kind: str) -> Req:
        rng, shop = self.rng, self.shop
        if kind == "lookup":
            return Req(kind, "GET", f"/api/v1/members?q={rng.choice(shop.mobiles)}")
        member = rng.choice(shop.members)
        if kind == "quote":
            return Req(kind, "POST", "/api/v1/orders/quote", json.dumps(self._cart(member)).encode())
        if kind == "settle":
            self.settles += 1
            if self.negative and self.settles % 10 == 0:
                member = shop.broke_member
            body = json.dumps(self._cart(member)).encode()
            return Req(kind, "POST", "/api/v1/orders", body, f"load-{uuid.uuid4()}", member, -WALLET_FEN)
        card = next(self.cards, None)
        if card is None:  # only in the probe, past 125 req/s (the open loop's cards are counted)
            self.no_card += 1
            return self._make("quote")
        number, pin = card
        body = json.dumps({"number": number, "pin": pin, "member_id": member}).encode()
        return Req(kind, "POST", "/api/v1/cards/recharge", body, f"load-{uuid.uuid4()}", member, CARD_FEN)


def send(port: int, token: str, req: Req) -> None:
    """One request on a fresh connection; fills status, code, ok, response."""
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    if req.body is not None:
        headers["Content-Type"] = "application/json"
    if req.key:
        headers["Idempotency-Key"] = req.key
    conn = HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request(req.method, req.path, body=req.body, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        req.status = r.status
    except (OSError, HTTPException) as e:
        req.status, req.code, req.ok = type(e).__name__, "", False
        return
    finally:
        conn.close()
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    req.response = data if isinstance(data, dict) else None
    if req.status >= 400:
        req.code = str((req.response or {}).get("code", ""))
        req.ok = False
    elif req.kind == "lookup":
        req.ok = req.status == 200 and len((req.response or {}).get("items", [])) == 1
        req.code = "" if req.ok else "not exactly one member"
    elif req.kind == "settle":
        req.ok = req.status == 201 and (req.response or {}).get("wallet_fen") == WALLET_FEN
        req.code = "" if req.ok else "wallet_fen differs"
    elif req.kind == "recharge":
        req.ok = req.status == 200 and (req.response or {}).get("amount_fen") == CARD_FEN
        req.code = "" if req.ok else "amount differs"
    else:
        req.ok = req.status == 200


def label(req: Req) -> str:
    return f"{req.status} {req.code}".strip()


def open_loop(port: int, token: str, reqs: list[Req], offsets: list[float], senders: int) -> float:
    """Hand ``reqs[i]`` to the senders at ``t0 + offsets[i]``; each request's latency is
    ``done − scheduled``. Returns t0 (perf_counter)."""
    todo: queue.SimpleQueue = queue.SimpleQueue()

    def sender():
        while (i := todo.get()) is not None:
            req = reqs[i]
            req.sent = time.perf_counter()
            send(port, token, req)
            req.done = time.perf_counter()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    t0 = time.perf_counter() + 0.5
    for i, off in enumerate(offsets):
        delay = t0 + off - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        todo.put(i)
    for _ in threads:
        todo.put(None)
    for t in threads:
        t.join(timeout=TIMEOUT + 30)
    return t0


def poisson_offsets(rng: random.Random, rate: float, seconds: float) -> list[float]:
    out, t = [], rng.expovariate(rate)
    while t < seconds:
        out.append(t)
        t += rng.expovariate(rate)
    return out


def closed_loop(
    port: int, token: str, stream: Requests, clients: int, seconds: float
) -> tuple[list[Req], float]:
    done: list[Req] = []
    lock = threading.Lock()
    end = time.perf_counter() + seconds

    def client():
        while time.perf_counter() < end:
            req = stream.next()
            req.sent = time.perf_counter()
            send(port, token, req)
            req.done = time.perf_counter()
            with lock:
                done.append(req)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + TIMEOUT + 30)
    return done, time.perf_counter() - t0


def warm_up(port: int, token: str, stream: Requests) -> list[Req]:
    """Each worker process's first request imports the whole API (seconds); each thread's first
    request opens its database connection. 8 at a time, every kind: not measured (the writes are
    returned, for the checks)."""
    reqs = [stream.make(k) for k in ("lookup", "quote", "lookup", "quote", "settle", "recharge") * 8]
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for i in range(len(reqs)):
        todo.put(i)

    def one():
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            send(port, token, reqs[i])

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = Counter(label(r) for r in reqs if not r.ok)
    if bad:
        raise RuntimeError(f"warm-up requests failed: {dict(bad)}")
    return [r for r in reqs if r.key]


# --- figures ----------------------------------------------------------------------------------------


def pct(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return float("nan")
    return sorted_ms[max(0, math.ceil(p / 100 * len(sorted_ms)) - 1)]


def figures(reqs: list[Req], t0: float, offsets: list[float] | None) -> dict:
    """Latency from the scheduled instant (open loop) or from the send (closed loop)."""
    if offsets is None and reqs:
        t0 = min(r.sent for r in reqs)
    lat = sorted(
        (r.done - (t0 + offsets[i] if offsets is not None else r.sent)) * 1000 for i, r in enumerate(reqs)
    )
    lag = sorted((r.sent - (t0 + offsets[i])) * 1000 for i, r in enumerate(reqs)) if offsets else []
    span = (max(r.done for r in reqs) - t0) if reqs else 0.0
    return {
        "count": len(reqs),
        "errors": sum(not r.ok for r in reqs),
        "breakdown": dict(Counter(label(r) for r in reqs if not r.ok)),
        "rate": len(reqs) / span if span > 0 else 0.0,
        "p50": pct(lat, 50),
        "p95": pct(lat, 95),
        "p99": pct(lat, 99),
        "max": lat[-1] if lat else float("nan"),
        "send_lag_p99": pct(lag, 99) if lag else 0.0,
    }


def by_kind(reqs: list[Req], t0: float, offsets: list[float] | None) -> dict[str, dict]:
    out = {}
    for kind in KINDS:
        idx = [i for i, r in enumerate(reqs) if r.kind == kind]
        if idx:
            out[kind] = figures(
                [reqs[i] for i in idx], t0, [offsets[i] for i in idx] if offsets is not None else None
            )
    out["total"] = figures(reqs, t0, offsets)
    return out


def table(title: str, rows: dict[str, dict]) -> None:
    log(f"\n{title}")
    log(
        f"{'':10} {'count':>7} {'errors':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    for name, f in rows.items():
        log(
            f"{name:10} {f['count']:>7} {f['errors']:>6} {f['rate']:>7.1f} {f['p50']:>8.1f} "
            f"{f['p95']:>8.1f} {f['p99']:>8.1f} {f['max']:>8.1f}"
        )
        if f["breakdown"]:
            log(f"{'':10} errors: {json.dumps(f['breakdown'], ensure_ascii=False)}")


def loadavg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


# --- checks -----------------------------------------------------------------------------------------


def resolve_unknown(port: int, token: str, writes: list[Req]) -> int:
    """Resend each write whose outcome the client could not know (no answer, or 5xx) with its own
    Idempotency-Key, sequentially, so the expected balances count what the server really did."""
    n = 0
    for req in writes:
        if isinstance(req.status, str) or (isinstance(req.status, int) and req.status >= 500):
            again = Req(req.kind, req.method, req.path, req.body, req.key, req.member, req.amount)
            send(port, token, again)
            req.ok, req.status, req.code, req.response = again.ok, again.status, again.code, again.response
            n += 1
    return n


def replay_sample(port: int, token: str, writes: list[Req], rng: random.Random, n: int = 10) -> list[str]:
    """Acknowledged writes sent again with the same key must answer the same and move nothing."""
    problems = []
    for kind, ident in (("settle", "number"), ("recharge", "number")):
        acked = [r for r in writes if r.kind == kind and r.ok]
        for req in rng.sample(acked, min(n, len(acked))):
            again = Req(req.kind, req.method, req.path, req.body, req.key, req.member, req.amount)
            send(port, token, again)
            if not again.ok or (again.response or {}).get(ident) != (req.response or {}).get(ident):
                problems.append(f"{kind} {req.key}: replay answered {label(again)} {again.response}")
    return problems


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=300.0, help="length of the open-loop run (default 300)")
    p.add_argument(
        "--rate",
        type=float,
        default=None,
        help=f"requests/s in total (default: {RATE_SHARE:.0%} of the probe)",
    )
    p.add_argument(
        "--database-url",
        default=os.environ.get("LOAD_DATABASE_URL") or None,
        help="PostgreSQL URL (emptied first!); default LOAD_DATABASE_URL, else embedded SQLite",
    )
    p.add_argument("--senders", type=int, default=64, help="sender threads of the open loop")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument(
        "--negative-control", choices=("settle", "drift"), action="append", default=[], help=argparse.SUPPRESS
    )
    p.add_argument("--keep", action="store_true", help="keep the data dir (removed after a clean run)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out
    rng = random.Random(args.seed)
    negative_settle = "settle" in args.negative_control

    data_dir = prepare_env(args.database_url)
    db = "PostgreSQL" if args.database_url else "SQLite"
    log(
        f"# Laoke load — {db}, {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {loadavg()}, data dir {data_dir}"
    )
    t = time.perf_counter()
    laoke("init")
    demo = json.loads(laoke("demo", "--json"))
    shop = seed(negative_settle)
    log(
        f"set-up: laoke init + demo ({demo['members']} members, {demo['products']} products, "
        f"{demo['stores']} stores) + {len(shop.members)} load wallets in {time.perf_counter() - t:.0f} s"
    )

    from django.db import connections

    rate = args.rate
    probe_cards = 0 if rate else 250  # 10% of a probe up to 125 req/s (then recharges become quotes)
    shop.cards = make_cards(probe_cards + 8)
    stream = Requests(shop, rng, negative_settle)
    writes: list[Req] = []
    before = value_counts()
    start_wallets = wallets(shop.members + ([shop.broke_member] if shop.broke_member else []))
    connections.close_all()

    port = free_port()
    server = start_server(port, data_dir / "gunicorn.log", workers=WEB_WORKERS)
    failed = False
    try:
        writes += warm_up(port, shop.token, stream)
        if rate is None:
            done, elapsed = closed_loop(port, shop.token, stream, PROBE_CLIENTS, PROBE_SECONDS)
            writes += [r for r in done if r.key]
            capacity = len(done) / elapsed
            probe = by_kind(done, 0.0, None)
            table(
                f"closed-loop probe: {PROBE_CLIENTS} clients × {PROBE_SECONDS:.0f} s (latency from send)",
                probe,
            )
            if stream.no_card:
                log(f"(the probe ran out of cards: {stream.no_card} recharges became quotes)")
            rate = round(max(1.0, RATE_SHARE * capacity), 1)
            log(f"capacity {capacity:.1f} req/s → open-loop rate {rate} req/s ({RATE_SHARE:.0%})")
            if probe["total"]["errors"]:
                failed = True

        # The schedule first (how many recharges it holds decides how many cards to make).
        offsets = poisson_offsets(rng, rate, args.seconds)
        kinds = [stream.kind() for _ in offsets]
        left = list(stream.cards)
        stream.cards = iter(left + make_cards(max(0, kinds.count("recharge") - len(left))))
        connections.close_all()
        reqs = [stream.make(k) for k in kinds]

        base_seconds = min(60.0, max(10.0, args.seconds / 10))
        base_offsets = poisson_offsets(rng, rate, base_seconds)
        base = [Req("whoami", "GET", "/api/v1/whoami") for _ in base_offsets]
        bt0 = open_loop(port, shop.token, base, base_offsets, args.senders)
        base_f = figures(base, bt0, base_offsets)
        log(
            f"\nbaseline: GET /api/v1/whoami open loop at {rate} req/s for {base_seconds:.0f} s: "
            f"p50 {base_f['p50']:.1f} ms, p95 {base_f['p95']:.1f} ms, p99 {base_f['p99']:.1f} ms, "
            f"max {base_f['max']:.1f} ms, {base_f['errors']} errors"
        )
        failed |= base_f["errors"] > 0

        log(
            f"\nopen loop: {len(reqs)} requests, Poisson at {rate} req/s for {args.seconds:.0f} s (load {loadavg()})"
        )
        t0 = open_loop(port, shop.token, reqs, offsets, args.senders)
        main_f = by_kind(reqs, t0, offsets)
        table(
            f"open loop at {rate} req/s for {args.seconds:.0f} s (latency from the scheduled instant; "
            f"load average now {loadavg()})",
            main_f,
        )
        log(f"sender lag (send − scheduled) p99 {main_f['total']['send_lag_p99']:.1f} ms")
        failed |= main_f["total"]["errors"] > 0
        writes += [r for r in reqs if r.key]

        unknown = resolve_unknown(port, shop.token, writes)
        if unknown:
            log(f"{unknown} writes of unknown outcome resent with their keys")
        problems = replay_sample(port, shop.token, writes, rng)
    finally:
        stop_server(server)

    # --- no drift ---
    if "drift" in args.negative_control:
        from django.db import connection, transaction

        from laoke.ledger.models import Account

        acc = Account.objects.filter(kind=Account.Kind.WALLET, member_id=shop.members[0]).get()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"UPDATE {Account._meta.db_table} SET balance = balance + 1 WHERE id = %s", [acc.pk])
        log("negative control: one wallet's cached balance moved by 1 fen")
        connections.close_all()
    check = subprocess.run(
        [sys.executable, "-m", "laoke.cli", "ledger", "check"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
    )
    log("\n" + (check.stdout.strip() or check.stderr[-2000:]))
    expected = dict(start_wallets)
    for r in writes:
        if r.ok:
            expected[r.member] += r.amount
        elif isinstance(r.status, int) and r.status < 300 and r.response:  # done, not as asked (an error)
            got = r.response.get("wallet_fen" if r.kind == "settle" else "amount_fen") or 0
            expected[r.member] += -got if r.kind == "settle" else got
    after = wallets(list(expected))
    drift = {m: (expected[m], after.get(m)) for m in expected if after.get(m) != expected[m]}
    counts = value_counts()
    acked = Counter(r.kind for r in writes if r.ok)
    new_orders = counts["orders"] - before["orders"]
    new_redeemed = counts["cards_redeemed"] - before["cards_redeemed"]
    log(
        f"wallets: {len(expected) - len(drift)}/{len(expected)} equal the client's own sum "
        f"(start + {acked['recharge']} recharges × {CARD_FEN} − {acked['settle']} settlements × {WALLET_FEN} fen)"
    )
    for m, (exp, got) in list(drift.items())[:10]:
        log(f"  member {m}: expected {exp} fen, server has {got}")
    log(
        f"orders: {new_orders} new for {acked['settle']} acknowledged settlements; "
        f"cards redeemed: {new_redeemed} for {acked['recharge']} acknowledged recharges"
    )
    for line in problems:
        log(f"  idempotency: {line}")
    ok_checks = (
        check.returncode == 0
        and not drift
        and new_orders == acked["settle"]
        and new_redeemed == acked["recharge"]
        and not problems
    )
    log(f"\ndrift check: {'OK' if ok_checks else 'FAILED'}; requests: {'OK' if not failed else 'ERRORS'}")
    if failed or not ok_checks:
        log(f"server log: {data_dir / 'gunicorn.log'}")
        return 1
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

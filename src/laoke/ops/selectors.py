"""Reads for /healthz and /metrics (docs/decisions/0039-monitoring.md).

Every figure is read from the database (or the queue's storage) when asked, never counted in a
process: several gunicorn workers on several machines then give the same answer, and no
prometheus multiprocess directory is needed. The queries are COUNT/SUM with GROUP BY on small
label sets; each costs one pass over an index or a table (measured in docs/operations.md).

The health checks answer ``True``/``False`` and never leak why to the caller: the reason goes to
the log (no DSN, no secret, no member data in the JSON a load balancer sees).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Case, Count, Max, Min, Sum, Value, When
from django.db.models.fields import CharField

log = logging.getLogger("laoke.ops")

MIGRATIONS_CACHE_SECONDS = 60
DEFAULT_MIN_FREE_MB = 512
BACKUP_GLOB = "laoke-backup-*"
# Partial archives being written (or left by a crash) are not backups.
_BACKUP_PARTIAL_SUFFIXES = (".tmp", ".part", ".partial")


# --- the queue (Huey) ------------------------------------------------------------------------------


def huey_instance():
    """The configured Huey (tests patch this to point it elsewhere)."""
    from huey.contrib.djhuey import HUEY

    return HUEY


_redis_probe_lock = threading.Lock()
_redis_probes: dict[tuple, object] = {}


def _redis_probe(storage):
    """A client on the same Redis as Huey with short timeouts: a health check must answer in a
    second or two even when Redis is black-holed (Huey's own client waits forever). One per
    process, reusing its connection."""
    kwargs = dict(storage.pool.connection_kwargs)
    key = (storage.pool.connection_class, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
    with _redis_probe_lock:
        probe = _redis_probes.get(key)
        if probe is None:
            from redis import ConnectionPool, Redis

            kwargs.update(socket_timeout=2, socket_connect_timeout=2)
            pool = ConnectionPool(connection_class=storage.pool.connection_class, max_connections=2, **kwargs)
            probe = _redis_probes[key] = Redis(connection_pool=pool)
        return probe


def queue_ping(huey=None) -> None:
    """Raises if the queue's storage cannot be reached: Redis PING, or ``select 1`` on Huey's
    SQLite file. In immediate mode (tests) the in-memory storage is always there."""
    huey = huey or huey_instance()
    storage = huey.storage
    if hasattr(storage, "pool") and hasattr(storage, "conn"):  # RedisStorage and its kin
        if not _redis_probe(storage).ping():
            raise ConnectionError("redis did not answer PING")
    elif hasattr(storage, "sql"):  # SqliteStorage (BaseSqlStorage)
        storage.sql("select 1", results=True)
    else:
        storage.queue_size()


def queue_depth(huey=None) -> dict[str, int]:
    """Tasks waiting to run now, and tasks scheduled for later (retries with a delay, ETA tasks)."""
    huey = huey or huey_instance()
    return {"pending": int(huey.pending_count()), "scheduled": int(huey.scheduled_count())}


# --- health ----------------------------------------------------------------------------------------


@dataclass
class _MigrationsCache:
    at: float = float("-inf")
    ok: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


_migrations = _MigrationsCache()


def database_ping() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def migrations_applied() -> bool:
    """True when no migration of the code is missing from the database. Loading the migration
    graph reads every migration file (tens of milliseconds), so the answer is kept for a minute
    per process; after `laoke manage migrate` /healthz may lag by that long."""
    now = time.monotonic()
    with _migrations.lock:
        if now - _migrations.at < MIGRATIONS_CACHE_SECONDS:
            return _migrations.ok
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        _migrations.ok, _migrations.at = not plan, now
        return _migrations.ok


def migrations_cache_clear() -> None:
    with _migrations.lock:
        _migrations.at = float("-inf")


def min_free_bytes() -> int:
    return int(settings.LAOKE.get("HEALTH_MIN_FREE_MB", DEFAULT_MIN_FREE_MB)) * 1024 * 1024


def disk_free_bytes(path: Path | None = None) -> int:
    return shutil.disk_usage(path or settings.DATA_DIR).free


def _run(name: str, check) -> bool:
    try:
        result = check()
    except Exception as exc:  # any failure of a dependency is a failed check, never a 500
        log.warning("health check %s failed: %s", name, type(exc).__name__, extra={"check": name})
        return False
    return result is None or bool(result)


def health_checks() -> dict[str, bool]:
    """The readiness checks behind /healthz, cheapest first. Migrations are checked only when the
    database answered (the check would fail the same way, slowly)."""
    checks = {"database": _run("database", database_ping)}
    checks["migrations"] = checks["database"] and _run("migrations", migrations_applied)
    checks["queue"] = _run("queue", queue_ping)
    checks["disk"] = _run("disk", lambda: disk_free_bytes() >= min_free_bytes())
    return checks


# --- metrics ---------------------------------------------------------------------------------------


def outbox_counts() -> dict[tuple[str, str], int]:
    """Messages per (channel, state), every known pair present (zero when none)."""
    from laoke.messaging.models import Message

    rows = Message.objects.values_list("channel", "state").annotate(n=Count("id")).order_by()
    counts = {(c, s): 0 for c in Message.Channel.values for s in Message.State.values}
    for channel, state, n in rows:
        counts[(channel, state)] = n
    return counts


def outbox_oldest_due_seconds(now) -> float:
    """How long the oldest message that is due has been waiting (0 when none is due): a stuck
    dispatcher shows here long before the queue looks big. One step down the (state, not_before)
    index."""
    from laoke.messaging.models import Message

    oldest = Message.objects.filter(state=Message.State.WAITING, not_before__lte=now).aggregate(
        t=Min("not_before")
    )["t"]
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


def order_figures() -> dict:
    """Orders per (source, status) with their amounts in fen, in one pass over the orders table.
    ``settled``: orders settled by Laoke (checkout, API); ``imported``: orders written by an
    import job (a shop's history from Taobao and the like)."""
    from laoke.orders.models import Order, OrderStatus

    source = Case(
        When(import_job="", then=Value("settled")), default=Value("imported"), output_field=CharField()
    )
    rows = (
        Order.objects.annotate(source=source)
        .values_list("source", "status")
        .annotate(n=Count("id"), total=Sum("total_fen"), refunded=Sum("refunded_fen"))
        .order_by()
    )
    sources = ("settled", "imported")
    by_status = {(src, st): 0 for src in sources for st in OrderStatus.values}
    count = dict.fromkeys(sources, 0)
    amount = dict.fromkeys(sources, 0)
    refunded = dict.fromkeys(sources, 0)
    for src, status, n, total, back in rows:
        by_status[(src, status)] = n
        count[src] += n
        amount[src] += total or 0
        refunded[src] += back or 0
    return {"by_status": by_status, "count": count, "amount_fen": amount, "refunded_fen": refunded}


def refund_counts() -> dict[str, int]:
    from laoke.orders.models import Refund

    counts = dict.fromkeys(Refund.Kind.values, 0)
    counts.update(
        Refund.objects.values_list("kind").annotate(n=Count("id")).order_by().values_list("kind", "n")
    )
    return counts


def _state_counts(model, states) -> dict[str, int]:
    counts = dict.fromkeys(states, 0)
    counts.update(
        model.objects.values_list("state").annotate(n=Count("id")).order_by().values_list("state", "n")
    )
    return counts


def import_job_counts() -> dict[str, int]:
    from laoke.imports.models import ImportJob

    return _state_counts(ImportJob, ImportJob.State.values)


def export_job_counts() -> dict[str, int]:
    from laoke.imports.models import ExportJob

    return _state_counts(ExportJob, ExportJob.State.values)


def campaign_counts() -> dict[str, int]:
    from laoke.campaigns.models import Campaign, CampaignState

    return _state_counts(Campaign, CampaignState.values)


def ledger_transfer_count() -> int:
    from laoke.ledger.models import Transfer

    return Transfer.objects.count()


def last_order_paid_at():
    """The newest payment time (an index's last entry): 'no sale for three hours' alerts."""
    from laoke.orders.models import Order

    return Order.objects.aggregate(t=Max("paid_at"))["t"]


def backup_archives(directory: Path | None = None) -> list[Path]:
    """Finished backup archives (``laoke-backup-*``) in the backup directory, newest first."""
    directory = Path(directory or settings.LAOKE["BACKUP"]["dir"])
    try:
        found = [
            p
            for p in directory.glob(BACKUP_GLOB)
            if p.is_file() and not p.name.endswith(_BACKUP_PARTIAL_SUFFIXES)
        ]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def backup_status(directory: Path | None = None) -> dict[str, float]:
    """The newest archive's mtime (Unix seconds; 0 when there is none) and how many there are."""
    archives = backup_archives(directory)
    return {
        "last_success": archives[0].stat().st_mtime if archives else 0.0,
        "count": len(archives),
        "last_size": archives[0].stat().st_size if archives else 0,
    }

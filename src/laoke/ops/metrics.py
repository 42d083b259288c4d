"""Prometheus metrics read from the database at scrape time (docs/decisions/0039-monitoring.md).

A custom collector instead of counters kept in each process: every figure is a COUNT or a SUM over
rows that exist anyway, so every gunicorn worker on every machine answers the same, a restart
loses nothing, and no ``PROMETHEUS_MULTIPROC_DIR`` is needed. Monotonic totals (orders settled,
money settled, messages sent, ledger transfers) are counters (``_total``); states (queue depth,
jobs by state) are gauges. Every known label value is present, zero when there are no rows, so an
alert on a series never meets an absent one.

The registry is our own: the default process and platform collectors would describe whichever
worker happened to answer, which is noise with several workers.
"""

from __future__ import annotations

import logging
import platform
import time
from importlib import metadata

from django.db import connection
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily

from laoke.core import clock

from . import selectors

log = logging.getLogger("laoke.ops")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _queue_backend(huey) -> str:
    name = type(huey.storage).__name__.lower()
    for backend in ("redis", "sqlite", "memory"):
        if backend in name:
            return backend
    return name


class LaokeCollector:
    """Yields the metric families; each group of reads fails on its own (logged), so a broken
    table never hides the rest, and ``laoke_database_up``/``laoke_queue_up`` say what answered."""

    def describe(self):
        return []  # no collect() at registration time (that would query the database at import)

    def collect(self):
        started = time.perf_counter()
        huey = selectors.huey_instance()
        info = InfoMetricFamily("laoke_build", "Laoke version and what it runs on")
        info.add_metric(
            [],
            {
                "version": _version("laoke"),
                "django": _version("django"),
                "python": platform.python_version(),
                "database": connection.vendor,
                "queue": _queue_backend(huey),
            },
        )
        yield info

        db_up = True
        try:
            selectors.database_ping()
        except Exception as exc:
            log.warning("metrics: database unreachable: %s", type(exc).__name__)
            db_up = False
        yield GaugeMetricFamily("laoke_database_up", "1 if the database answered SELECT 1", value=int(db_up))
        if db_up:
            for group in (self._outbox, self._orders, self._jobs, self._ledger):
                try:
                    yield from list(group())
                except Exception:
                    log.exception("metrics: %s failed", group.__name__)

        try:
            depth = selectors.queue_depth(huey)
        except Exception as exc:
            log.warning("metrics: queue unreachable: %s", type(exc).__name__)
            depth = None
        yield GaugeMetricFamily(
            "laoke_queue_up", "1 if the task queue's storage answered", value=int(depth is not None)
        )
        if depth is not None:
            yield GaugeMetricFamily(
                "laoke_queue_pending_tasks", "Huey tasks waiting for a worker", value=depth["pending"]
            )
            yield GaugeMetricFamily(
                "laoke_queue_scheduled_tasks",
                "Huey tasks scheduled for later (delayed retries, ETA tasks)",
                value=depth["scheduled"],
            )

        yield from self._backups()
        yield GaugeMetricFamily(
            "laoke_metrics_scrape_duration_seconds",
            "Time this scrape spent reading the figures",
            value=round(time.perf_counter() - started, 6),
        )

    def _outbox(self):
        counts = selectors.outbox_counts()
        live = GaugeMetricFamily(
            "laoke_outbox_messages",
            "Outbox messages not finished yet (waiting, sending) by channel and state",
            labels=["channel", "state"],
        )
        done = CounterMetricFamily(
            "laoke_messages",
            "Outbox messages finished (sent, failed, suppressed) by channel and state",
            labels=["channel", "state"],
        )
        for (channel, state), n in sorted(counts.items()):
            (live if state in ("waiting", "sending") else done).add_metric([channel, state], n)
        yield live
        yield done
        yield GaugeMetricFamily(
            "laoke_outbox_oldest_due_seconds",
            "Age of the oldest message that is due and still waiting (0 when none)",
            value=round(selectors.outbox_oldest_due_seconds(clock.now()), 3),
        )

    def _orders(self):
        figures = selectors.order_figures()
        by_status = GaugeMetricFamily(
            "laoke_orders_by_status",
            "Orders by source (settled by Laoke, imported) and current status",
            labels=["source", "status"],
        )
        for (source, status), n in sorted(figures["by_status"].items()):
            by_status.add_metric([source, status], n)
        yield by_status
        for name, key, doc in (
            ("laoke_orders", "count", "Orders written, by source (settled by Laoke, imported)"),
            ("laoke_orders_amount_fen", "amount_fen", "Order totals in fen (before refunds), by source"),
            ("laoke_orders_refunded_fen", "refunded_fen", "Amounts refunded on orders in fen, by source"),
        ):
            family = CounterMetricFamily(name, doc, labels=["source"])
            for source, value in sorted(figures[key].items()):
                family.add_metric([source], value)
            yield family
        refunds = CounterMetricFamily(
            "laoke_refunds", "Refunds by kind (cancel, return, refund)", labels=["kind"]
        )
        for kind, n in sorted(selectors.refund_counts().items()):
            refunds.add_metric([kind], n)
        yield refunds
        paid = selectors.last_order_paid_at()
        yield GaugeMetricFamily(
            "laoke_orders_last_paid_timestamp_seconds",
            "When the newest order was paid (Unix time; 0 when none)",
            value=paid.timestamp() if paid else 0,
        )

    def _jobs(self):
        for name, doc, counts in (
            ("laoke_import_jobs", "Import jobs by state", selectors.import_job_counts()),
            ("laoke_export_jobs", "Export jobs by state", selectors.export_job_counts()),
            ("laoke_campaigns", "Campaigns by state (running, scheduled…)", selectors.campaign_counts()),
        ):
            family = GaugeMetricFamily(name, doc, labels=["state"])
            for state, n in sorted(counts.items()):
                family.add_metric([state], n)
            yield family

    def _ledger(self):
        yield CounterMetricFamily(
            "laoke_ledger_transfers",
            "Ledger transfers (postings) booked",
            value=selectors.ledger_transfer_count(),
        )

    def _backups(self):
        status = selectors.backup_status()
        yield GaugeMetricFamily(
            "laoke_backup_last_success_timestamp_seconds",
            "Modification time of the newest finished backup archive (Unix time; 0 when none)",
            value=status["last_success"],
        )
        yield GaugeMetricFamily("laoke_backup_archives", "Backup archives kept", value=status["count"])
        yield GaugeMetricFamily(
            "laoke_backup_last_size_bytes", "Size of the newest backup archive", value=status["last_size"]
        )


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(LaokeCollector())


def exposition() -> bytes:
    """The Prometheus text exposition (format 0.0.4) of every Laoke metric."""
    return generate_latest(REGISTRY)

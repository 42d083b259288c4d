"""/livez, /healthz and /metrics: the checks pass and fail for real reasons (a database check that
raises, a Redis port where nothing listens, missing migrations, a full disk), the metrics parse
and equal counts the test makes itself with plain SQL, and /metrics is closed to strangers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from huey import RedisHuey
from prometheus_client.parser import text_string_to_metric_families

from laoke.core import clock
from laoke.ledger.models import Transfer
from laoke.members.services import member_create
from laoke.messaging.providers import PermanentSendError, SendResult
from laoke.messaging.services import message_enqueue, messaging_tick
from laoke.ops import selectors
from laoke.orders import services as orders
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.models import Order
from tests.live import free_port
from tests.orders.conftest import NOW, Shop

TOKEN = "s3cret-metrics-token-for-tests"


@pytest.fixture(autouse=True)
def _fresh_caches():
    selectors.migrations_cache_clear()
    yield
    selectors.migrations_cache_clear()


def families(text: str) -> dict[str, dict[tuple, float]]:
    """{sample name: {sorted label items: value}} from the Prometheus text format."""
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def scrape(client, **extra) -> dict[str, dict[tuple, float]]:
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return families(response.content.decode())


def sql(query: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


# --- /livez and /healthz ---------------------------------------------------------------------------


def test_livez_answers_without_the_database(client):
    # No `db` fixture: any query would raise "Database access not allowed".
    response = client.get("/livez")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_ok_without_login(client, django_assert_max_num_queries):
    client.get("/healthz")  # loads the migration graph once (cached for a minute)
    with django_assert_max_num_queries(1):  # then: SELECT 1, nothing else
        response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "queue": "ok", "disk": "ok"},
    }


@pytest.mark.django_db
def test_healthz_503_when_the_database_check_fails(client, monkeypatch):
    def broken():
        raise RuntimeError("could not connect to server at db.internal:5432 password=hunter2")

    monkeypatch.setattr(selectors, "database_ping", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"] == {"database": "fail", "migrations": "fail", "queue": "ok", "disk": "ok"}
    assert b"db.internal" not in response.content and b"hunter2" not in response.content


@pytest.mark.django_db
def test_healthz_503_when_a_migration_is_missing(client):
    assert client.get("/healthz").status_code == 200
    # Forget one applied migration (rolled back with the test): the code is ahead of the database.
    last = MigrationRecorder.Migration.objects.filter(app="orders").order_by("-id").first()
    last.delete()
    assert client.get("/healthz").status_code == 200  # the answer is cached for a minute
    selectors.migrations_cache_clear()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "fail"


@pytest.mark.django_db
def test_healthz_503_when_the_disk_is_full(client, settings):
    free_mb = shutil.disk_usage(settings.DATA_DIR).free // (1024 * 1024)
    settings.LAOKE = {**settings.LAOKE, "HEALTH_MIN_FREE_MB": free_mb // 2}
    assert client.get("/healthz").status_code == 200
    settings.LAOKE = {**settings.LAOKE, "HEALTH_MIN_FREE_MB": free_mb * 2 + 1}
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["disk"] == "fail"


# --- the queue on a real Redis ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("needs redis-server")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.django_db
def test_queue_check_on_redis_passes_and_counts(client, monkeypatch, redis_url):
    huey = RedisHuey(name=f"laoke-test-{os.getpid()}", url=redis_url, immediate=False)

    @huey.task()
    def noop():
        return None

    for _ in range(3):
        noop()  # enqueued: waiting for a worker
    for _ in range(2):
        # What a consumer does with a task whose time has not come (a delayed retry, an ETA): it
        # moves it to the schedule.
        task = noop.s()
        task.eta = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
        huey.add_schedule(task)
    monkeypatch.setattr(selectors, "huey_instance", lambda: huey)
    response = client.get("/healthz")
    assert (response.status_code, response.json()["checks"]["queue"]) == (200, "ok")
    figures = scrape(client)
    assert figures["laoke_queue_up"][()] == 1
    assert figures["laoke_queue_pending_tasks"][()] == 3
    assert figures["laoke_queue_scheduled_tasks"][()] == 2
    build = next(iter(figures["laoke_build_info"]))
    assert dict(build)["queue"] == "redis"
    huey.storage.flush_all()


@pytest.mark.django_db
def test_queue_check_fails_when_nothing_listens_on_the_redis_port(client, monkeypatch):
    dead = RedisHuey(name="laoke-dead", url=f"redis://127.0.0.1:{free_port()}/0", immediate=False)
    monkeypatch.setattr(selectors, "huey_instance", lambda: dead)
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 5  # a short timeout, not Huey's wait-forever client
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok", "queue": "fail", "disk": "ok"}
    figures = scrape(client)
    assert figures["laoke_queue_up"][()] == 0
    assert "laoke_queue_pending_tasks" not in figures
    assert figures["laoke_database_up"][()] == 1  # the rest is still there


# --- /metrics: the figures ------------------------------------------------------------------------


class FakeSms:
    """The SMS/email company (outside the system): accepts everything, refuses mobiles ending in 9."""

    name = "fake-ops"
    batch_size = 200
    rate_per_minute = None

    def send(self, message):
        if message.to_address.endswith("9"):
            raise PermanentSendError("number does not exist")
        return SendResult(provider_message_id=f"ops-{message.pk}", segments=1)

    def status(self, message):
        return "unknown"


@pytest.fixture
def outbox(settings):
    settings.LAOKE = {
        **settings.LAOKE,
        "MESSAGING_PROVIDERS": {"sms": f"{__name__}.FakeSms", "email": f"{__name__}.FakeSms"},
        "MESSAGING_KICK_ON_COMMIT": False,
    }


def _messages(now):
    """Two SMS sent, one failed, one waiting for tomorrow, one email sent, one suppressed."""
    with clock.frozen(now):
        for i, mobile in enumerate(["13900000001", "13900000002", "13900000009"]):
            m = member_create(name=f"收信{i}", mobile=mobile)
            message_enqueue(
                purpose=f"ops:{i}", member=m, channel="sms", kind="transactional", body="余额变动"
            )
        later = member_create(name="明天", mobile="13900000003")
        message_enqueue(
            purpose="ops:later",
            member=later,
            channel="sms",
            kind="transactional",
            body="明天见",
            not_before=datetime(2026, 3, 11, 2, 0, tzinfo=UTC),
        )
        mail = member_create(name="邮件", email="ops@example.com")
        message_enqueue(
            purpose="ops:mail", member=mail, channel="email", kind="transactional", body="hi", subject="s"
        )
        no_email = member_create(name="无邮箱", mobile="13900000004")
        message_enqueue(purpose="ops:none", member=no_email, channel="email", kind="transactional", body="hi")
        messaging_tick(now)


@pytest.mark.django_db
def test_metrics_equal_independent_counts(client, outbox, settings, tmp_path):
    settings.LAOKE = {**settings.LAOKE, "BACKUP": {**settings.LAOKE["BACKUP"], "dir": tmp_path}}
    with clock.frozen(NOW):
        shop = Shop()
        member = shop.member()
        one = orders.order_settle(
            request=CheckoutIn(lines=(LineIn(sku="TEE", quantity=2),), member_id=member.pk)
        )
        two = orders.order_settle(
            request=CheckoutIn(lines=(LineIn(sku="COAT", quantity=1),), member_id=member.pk)
        )
        three = orders.order_settle(request=CheckoutIn(lines=(LineIn(sku="TEA", quantity=1),)))
        refund = orders.order_refund(order_id=one.pk, key="ops-r1", quantities={"1": 1})
    Order.objects.filter(pk=three.pk).update(import_job="imp-ops-1")  # as an import job writes it
    _messages(NOW)

    with clock.frozen(NOW):
        figures = scrape(client)

    # Outbox: the metric against a plain GROUP BY, and against what the test did.
    by_sql = {
        (c, s): n for c, s, n in sql("SELECT channel, state, COUNT(*) FROM messaging_message GROUP BY 1, 2")
    }
    for (channel, state), n in by_sql.items():
        name = "laoke_outbox_messages" if state in ("waiting", "sending") else "laoke_messages_total"
        assert figures[name][(("channel", channel), ("state", state))] == n, (channel, state)
    assert sum(figures["laoke_outbox_messages"].values()) + sum(
        figures["laoke_messages_total"].values()
    ) == sum(by_sql.values())
    sms = {s: n for (c, s), n in by_sql.items() if c == "sms"}
    assert sms.get("failed") == 1 and sms.get("sent", 0) >= 2 and sms.get("waiting", 0) >= 1
    assert figures["laoke_messages_total"][(("channel", "email"), ("state", "suppressed"))] >= 1
    assert figures["laoke_outbox_oldest_due_seconds"][()] == 0  # the waiting one is due tomorrow

    # Orders: counts and amounts from the services' own return values.
    settled = [Order.objects.get(pk=o.pk) for o in (one, two)]
    key = (("source", "settled"),)
    assert figures["laoke_orders_total"][key] == 2
    assert figures["laoke_orders_total"][(("source", "imported"),)] == 1
    assert figures["laoke_orders_amount_fen_total"][key] == one.total_fen + two.total_fen
    assert figures["laoke_orders_amount_fen_total"][(("source", "imported"),)] == three.total_fen
    assert figures["laoke_orders_refunded_fen_total"][key] == refund.goods_net_fen + refund.postage_fen > 0
    for status, n in sql("SELECT status, COUNT(*) FROM orders_order WHERE import_job = '' GROUP BY status"):
        assert figures["laoke_orders_by_status"][(("source", "settled"), ("status", status))] == n
    assert figures["laoke_orders_by_status"][(("source", "settled"), ("status", "partially_refunded"))] == 1
    assert settled[0].status == "partially_refunded"
    assert figures["laoke_refunds_total"][(("kind", refund.kind),)] == 1
    assert (
        figures["laoke_orders_last_paid_timestamp_seconds"][()]
        == max(o.paid_at for o in Order.objects.exclude(paid_at=None)).timestamp()
    )

    # The ledger, jobs and campaigns against plain counts.
    assert (
        figures["laoke_ledger_transfers_total"][()] == sql("SELECT COUNT(*) FROM ledger_transfer")[0][0] > 0
    )
    assert figures["laoke_ledger_transfers_total"][()] == Transfer.objects.count()
    for table, name in (
        ("imports_importjob", "laoke_import_jobs"),
        ("imports_exportjob", "laoke_export_jobs"),
        ("campaigns_campaign", "laoke_campaigns"),
    ):
        for state, n in sql(f"SELECT state, COUNT(*) FROM {table} GROUP BY state"):
            assert figures[name][(("state", state),)] == n
        assert sum(figures[name].values()) == sql(f"SELECT COUNT(*) FROM {table}")[0][0]
    assert figures["laoke_database_up"][()] == 1
    assert figures["laoke_backup_archives"][()] == 0
    assert figures["laoke_backup_last_success_timestamp_seconds"][()] == 0


@pytest.mark.django_db
def test_metrics_move_with_the_data(client, outbox):
    before = scrape(client)
    _messages(NOW)
    after = scrape(client)
    sent = (("channel", "sms"), ("state", "sent"))
    assert before["laoke_messages_total"][sent] == 0
    assert after["laoke_messages_total"][sent] == 2
    assert after["laoke_messages_total"][(("channel", "sms"), ("state", "failed"))] == 1


@pytest.mark.django_db
def test_backup_age_comes_from_the_newest_finished_archive(client, settings, tmp_path):
    settings.LAOKE = {**settings.LAOKE, "BACKUP": {**settings.LAOKE["BACKUP"], "dir": tmp_path}}
    old = tmp_path / "laoke-backup-20261129T030000.tar.gz"
    new = tmp_path / "laoke-backup-20261130T030000.tar.gz"
    partial = tmp_path / "laoke-backup-20261201T030000.tar.gz.tmp"  # being written: not a backup
    other = tmp_path / "notes.txt"
    for path, mtime in (
        (old, 1_764_385_200),
        (new, 1_764_471_600),
        (partial, 1_764_558_000),
        (other, 1_764_600_000),
    ):
        path.write_bytes(b"x" * 10)
        os.utime(path, (mtime, mtime))
    figures = scrape(client)
    assert figures["laoke_backup_last_success_timestamp_seconds"][()] == 1_764_471_600
    assert figures["laoke_backup_archives"][()] == 2


# --- /metrics: who may read it ----------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_token_required_when_set(client, settings):
    settings.LAOKE = {**settings.LAOKE, "METRICS_TOKEN": TOKEN}
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"}):
        response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **headers)
        assert response.status_code == 401, headers
        assert b"laoke_" not in response.content
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert b"laoke_database_up 1.0" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("remote", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("10.0.0.5", {}, 403),
        ("203.0.113.7", {}, 403),
        # nginx on the same machine: REMOTE_ADDR is loopback, the real client is in its headers.
        ("127.0.0.1", {"HTTP_X_REAL_IP": "203.0.113.7"}, 403),
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.7, 127.0.0.1"}, 403),
        ("127.0.0.1", {"HTTP_X_REAL_IP": "127.0.0.1"}, 200),
    ],
)
def test_metrics_without_token_only_for_loopback(client, settings, remote, headers, status):
    settings.LAOKE = {**settings.LAOKE, "METRICS_TOKEN": ""}
    response = client.get("/metrics", REMOTE_ADDR=remote, **headers)
    assert response.status_code == status
    assert (b"laoke_database_up" in response.content) == (status == 200)


@pytest.mark.django_db
def test_endpoints_are_get_only_and_public(client):
    assert client.post("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 405
    assert client.post("/healthz").status_code == 405
    for path in ("/livez", "/healthz"):
        response = client.get(path)
        assert response.status_code == 200 and "Location" not in response  # no redirect to a login


@pytest.mark.django_db
def test_metrics_say_the_database_is_down_instead_of_failing(client, monkeypatch):
    def broken():
        raise RuntimeError("server closed the connection unexpectedly")

    monkeypatch.setattr(selectors, "database_ping", broken)
    figures = scrape(client)
    assert figures["laoke_database_up"][()] == 0
    assert "laoke_orders_total" not in figures and "laoke_messages_total" not in figures
    assert figures["laoke_queue_up"][()] == 1 and "laoke_build_info" in figures


@pytest.mark.django_db
def test_a_failing_read_does_not_hide_the_others(client, monkeypatch):
    def broken():
        raise RuntimeError("relation orders_order does not exist")

    monkeypatch.setattr(selectors, "order_figures", broken)
    figures = scrape(client)
    assert "laoke_orders_total" not in figures
    assert figures["laoke_database_up"][()] == 1
    assert (("channel", "sms"), ("state", "sent")) in figures["laoke_messages_total"]
    assert "laoke_ledger_transfers_total" in figures and "laoke_campaigns" in figures

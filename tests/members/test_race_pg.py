"""Concurrent registrations on PostgreSQL: the unique index on the mobile is the guard.

All 16 threads pass the friendly "is this mobile taken?" check before any of them commits; the
database then lets exactly one insert through and each other thread must get the stable
MEMBER_MOBILE_TAKEN (not an IntegrityError, not a 500). No negative control: the guard is the
database constraint itself, not a lock the test could remove.
"""

import threading

import pytest
from django.db import connection

from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.members.models import Member
from laoke.members.services import member_create

N = 16


def _race(make) -> list[str]:
    barrier = threading.Barrier(N)
    results: list[str] = []
    lock = threading.Lock()

    def worker(i):
        try:
            barrier.wait(timeout=30)
            make(i)
            result = "ok"
        except DomainError as exc:
            result = exc.code
        except Exception as exc:
            result = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(results)


@pytest.mark.pg
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_sixteen_registrations_of_one_mobile_make_one_member():
    assert connection.vendor == "postgresql"
    results = _race(lambda i: member_create(name=f"抢注{i}", mobile="139 0000 1111"))
    assert results == ["MEMBER_MOBILE_TAKEN"] * (N - 1) + ["ok"]
    assert Member.objects.filter(mobile="+8613900001111").count() == 1
    assert Member.objects.count() == 1
    assert AuditEntry.objects.filter(action="member.create").count() == 1  # the losers wrote nothing


@pytest.mark.pg
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_sixteen_registrations_of_one_email_make_one_member():
    results = _race(lambda i: member_create(name=f"抢注{i}", email="same@example.com"))
    assert results == ["MEMBER_EMAIL_TAKEN"] * (N - 1) + ["ok"]
    assert Member.objects.count() == 1

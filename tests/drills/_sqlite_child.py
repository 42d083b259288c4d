"""The child process of drill 4 (test_sqlite_storage.py): the real settings on a file SQLite
database in ``LAOKE_DATA_DIR`` (WAL, IMMEDIATE), requests through Django's test client (the whole
middleware stack). Usage: ``python -m tests.drills._sqlite_child readonly|full``. Prints one line
``DRILL-RESULT {json}``.

- ``readonly``: the database is reopened with ``mode=ro`` (what a read-only file, directory or
  remounted disk gives SQLite: ``SQLITE_READONLY``; chmod does not stop root, who runs CI).
- ``full``: ``PRAGMA max_page_count`` = the current page count on every connection, then writes
  until one fails (``SQLITE_FULL``, as on a full disk).

Each mode tries an API write (en and zh-hans), a console form write and an htmx write; after it,
the database is opened writable again to check that nothing of the failed writes is there. The
negative control runs the same writes with the mapping switched off: a bare 500.
"""

from __future__ import annotations

import json
import os
import sys
import time

MIDDLEWARE = "laoke.core.storage_errors.StorageErrorMiddleware"
J = "application/json"


def _setup():
    os.environ["DJANGO_SETTINGS_MODULE"] = "laoke.settings"
    from django.conf import settings

    if MIDDLEWARE not in settings.MIDDLEWARE:  # what the lead adds to settings.py
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
    settings.ALLOWED_HOSTS = ["testserver"]
    import django

    django.setup()


def main(mode: str) -> dict:
    _setup()
    from django.db import connection
    from django.db.backends.signals import connection_created
    from django.test import Client

    from laoke.core.models import AuditEntry, IdempotencyRecord
    from laoke.core.roles import SCOPES
    from laoke.core.services import api_token_create, roles_sync, staff_user_create
    from laoke.members.models import Member

    roles_sync()
    admin = staff_user_create(username="drill-admin", password="drill-password-123", role="admin")
    _, secret = api_token_create(user=admin, name="drill", scopes=list(SCOPES))

    def api(lang):
        return Client(
            HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE=lang, raise_request_exception=False
        )

    api_en, api_zh = api("en"), api("zh-hans")
    console = Client(raise_request_exception=False)
    console.force_login(admin)
    console.cookies["django_language"] = "zh-hans"
    assert api_en.post("/api/v1/members", {"name": "正常写入"}, content_type=J).status_code == 201
    assert console.get("/admin/members/member/add/").status_code == 200
    path = connection.settings_dict["NAME"]
    counter = iter(range(1, 10_000))

    def api_write(client):
        n = next(counter)
        name, key = f"演练会员{n}", f"drill-{n}"
        t0 = time.monotonic()
        r = client.post("/api/v1/members", {"name": name}, content_type=J, HTTP_IDEMPOTENCY_KEY=key)
        ms = (time.monotonic() - t0) * 1000
        body = r.json() if r.headers.get("Content-Type", "").startswith("application/json") else {}
        return {"kind": "api", "status": r.status_code, "code": body.get("code"), "message": body.get("message"),
                "name": name, "key": key, "ms": round(ms, 1)}  # fmt: skip

    def console_write(htmx=False, client=None):
        client = client or console
        n = next(counter)
        name = f"控制台会员{n}"
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        form = {"name": name, "mobile": "", "source": "store", "gender": "", "address_raw": "", "notes": ""}
        t0 = time.monotonic()
        r = client.post("/admin/members/member/add/", form, **headers)
        ms = (time.monotonic() - t0) * 1000
        text = r.content.decode()
        return {"kind": "htmx" if htmx else "console", "status": r.status_code, "name": name, "ms": round(ms, 1),
                "text": text[:600], "content_type": r.headers.get("Content-Type", "")}  # fmt: skip

    def until_failure(write, limit=400):
        done = []
        for _ in range(limit):
            out = write()
            if out["status"] >= 500:
                out["succeeded_before"] = len(done)
                out["succeeded_names"] = done
                return out
            done.append(out["name"])
        raise AssertionError(f"no failure after {limit} writes")

    cap_pages = None

    def cap(sender, connection, **kwargs):
        with connection.cursor() as cur:
            cur.execute("PRAGMA page_count")
            pages = cur.fetchone()[0]
            cur.execute(f"PRAGMA max_page_count = {int(pages)}")

    def break_storage():
        connection.close()
        if mode == "readonly":
            connection.settings_dict["NAME"] = f"file:{path}?mode=ro"
        else:
            connection_created.connect(cap)

    def heal_storage():
        connection.close()
        connection.settings_dict["NAME"] = path
        connection_created.disconnect(cap)

    break_storage()
    if mode == "readonly":
        results = [api_write(api_en), api_write(api_zh), console_write(), console_write(htmx=True)]
    else:
        results = [until_failure(lambda: api_write(api_en)), api_write(api_zh)]
        results += [until_failure(console_write), console_write(htmx=True)]
        with connection.cursor() as cur:
            cur.execute("PRAGMA max_page_count")
            cap_pages = cur.fetchone()[0]

    # Negative control: the same failure without the mapping (API hook off, console without the
    # middleware: a fresh client loads the middleware list again, with the same session) is a 500.
    from django.conf import settings

    import laoke.api

    original = laoke.api.storage_error
    laoke.api.storage_error = lambda exc: None
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    bare = Client(raise_request_exception=False)
    bare.cookies = console.cookies
    negative = [api_write(api_en), console_write(client=bare)]
    laoke.api.storage_error = original
    heal_storage()

    failed = [r for r in results + negative if r["status"] >= 500]
    leftovers = {
        "members": Member.objects.filter(name__in=[r["name"] for r in failed]).count(),
        "idempotency": IdempotencyRecord.objects.filter(
            key__in=[r.get("key") for r in failed if r.get("key")]
        ).count(),
        "audit": AuditEntry.objects.filter(
            action="member.create", after__name__in=[r["name"] for r in failed]
        ).count(),
    }
    succeeded = [n for r in results for n in r.get("succeeded_names", [])]
    return {
        "mode": mode,
        "results": results,
        "negative": negative,
        "leftovers": leftovers,
        "succeeded": len(succeeded),
        "succeeded_present": Member.objects.filter(name__in=succeeded).count(),
        "max_page_count": cap_pages,
        "writable_again": api_write(api_en)["status"],
    }


if __name__ == "__main__":
    out = main(sys.argv[1])
    print("DRILL-RESULT " + json.dumps(out, ensure_ascii=False), flush=True)

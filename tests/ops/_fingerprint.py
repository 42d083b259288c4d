"""What a restore must reproduce, read with Django's own introspection and the ledger's read
functions (not with laoke.ops.backup): every table's row count and every ledger account's
balance. ``python -m tests.ops._fingerprint`` prints it as JSON for the database that
LAOKE_DATA_DIR / DATABASE_URL configure (used on restored copies in subprocesses)."""

from __future__ import annotations

import hashlib
import json
import os


def fingerprint() -> dict:
    from django.conf import settings
    from django.db import connection

    from laoke.ledger.models import Account
    from laoke.ledger.selectors import member_balances
    from laoke.ledger.services import account_balance, ledger_check

    tables = {}
    with connection.cursor() as cur:
        for t in connection.introspection.table_names():
            cur.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(t)}")
            tables[t] = cur.fetchone()[0]
    balances = {}
    for acc in Account.objects.order_by("pk"):
        if acc.member_id:
            balances[f"member:{acc.member_id}:{acc.kind}"] = member_balances(acc.member_id)[acc.kind]
        elif acc.code:
            balances[f"system:{acc.code}"] = account_balance(acc)
        else:
            balances[f"account:{acc.pk}:{acc.kind}"] = account_balance(acc)
    return {
        "tables": tables,
        "balances": balances,
        "ledger_check": ledger_check().summary(),
        "secret_key_sha256": hashlib.sha256(settings.SECRET_KEY.encode()).hexdigest(),
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laoke.settings")
    import django

    django.setup()
    print(json.dumps(fingerprint(), sort_keys=True))

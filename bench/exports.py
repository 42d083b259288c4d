"""Exporting a list: the member archive (100,000 members) to xlsx and to CSV through an export
job — rows read by keyset pages, masked, formatted, streamed to the file, progress saved — next to
a baseline in the same run: one raw ``SELECT`` of the same columns written by the csv module and by
openpyxl's write-only workbook (no masking, no formatting, no job).

    .venv/bin/python -m bench.exports [--members 100000]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.exports
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time

from bench._common import fresh_database, machine, run_child, targets


def _members(n: int) -> None:
    from django.db import transaction

    from laoke.core import clock
    from laoke.members.bulk import _members_insert

    now = clock.now()
    for start in range(0, n, 10_000):
        profiles = [
            {
                "mobile": f"+86139{(start + i):08d}",
                "name": f"会员{start + i}",
                "province": "浙江省",
                "city": "杭州市",
                "district": "西湖区",
                "address_detail": f"文三路{i % 500}号",
            }
            for i in range(min(10_000, n - start))
        ]
        with transaction.atomic():
            _members_insert(profiles, source="import", now=now, job_id="bench")


def baseline(fmt: str) -> tuple[float, int]:
    from django.db import connection
    from openpyxl import Workbook

    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT code, name, mobile, province, city, district, address_detail, registered_at "
            "FROM members_member ORDER BY id"
        )
        rows = cur.fetchall()
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerows(rows)
        size = len(buf.getvalue().encode("utf-8-sig"))
    else:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("members")
        for r in rows:
            ws.append([str(v) if v is not None else None for v in r])
        out = io.BytesIO()
        wb.save(out)
        size = len(out.getvalue())
    return time.perf_counter() - t, size


def child(n: int) -> dict:
    fresh_database()
    from laoke.imports.exports import SYSTEM, export_job_create, export_job_run

    _members(n)
    out: dict = {}
    for fmt in ("csv", "xlsx"):
        t = time.perf_counter()
        job = export_job_create(kind="members", params={}, format=fmt, actor=SYSTEM, enqueue=False)
        job = export_job_run(job_id=job.job_id)
        took = time.perf_counter() - t
        assert job.state == "done" and job.rows_done == n, (job.state, job.rows_done, job.failure)
        base, _size = baseline(fmt)
        out[fmt] = {"seconds": round(took, 2), "rows_per_s": round(n / took), "baseline_s": round(base, 2)}
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--members", type=int, default=100_000)
    p.add_argument("--child", action="store_true")
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.members)))
        return 0
    print(f"exports: the member archive, {args.members:,} members, {machine()}")
    ok = True
    for name, env in targets():
        r = run_child("bench.exports", ["--members", str(args.members)], database=name, extra_env=env)
        if r is None:
            ok = False
            continue
        for fmt in ("csv", "xlsx"):
            x = r[fmt]
            print(
                f"  {name:10s} {fmt:4s} export job {x['seconds']:.1f} s = {x['rows_per_s']:,} rows/s "
                f"(baseline raw SELECT + {'csv module' if fmt == 'csv' else 'openpyxl write-only'}: "
                f"{x['baseline_s']:.1f} s)"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Reads of the imports app: jobs, their progress and problems (the per-row error report)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from laoke.core.errors import REGISTRY
from laoke.core.tabular import Table, read_table
from laoke.core.xlsx import workbook_bytes

from .fields import FIELDS, default_mapping
from .models import ImportJob, ImportKind, ImportMapping


def import_jobs(*, limit: int = 50):
    return ImportJob.objects.select_related("created_by").order_by("-pk")[:limit]


def import_job(job_id: str) -> ImportJob | None:
    return ImportJob.objects.filter(job_id=job_id).first()


def problem_rows(job: ImportJob, lang: str = "zh-hans") -> list[dict]:
    """The kept problems with their message in ``lang``."""
    out = []
    for p in job.errors:
        code = REGISTRY.get(p["code"])
        params = {"column": p["column"], **p.get("params", {})}
        out.append({**p, "message": code.message(lang, **params) if code else p["code"]})
    return out


def progress(job: ImportJob) -> dict:
    total = job.total_units or 0
    return {
        "job_id": job.job_id,
        "state": job.state,
        "stage": job.stage,
        "done": job.done_units,
        "total": total,
        "percent": round(100 * job.done_units / total) if total else (100 if job.state == "done" else 0),
        "finished": job.state in (ImportJob.State.DONE, ImportJob.State.FAILED, ImportJob.State.CHECKED),
    }


def error_report_xlsx(job: ImportJob, lang: str = "zh-hans") -> bytes:
    """The per-row error report: file, row, column, value, code, reason (one row per problem)."""
    headers = [_("File"), _("Row"), _("Column"), pgettext("cell in a file", "value"), _("Code"), _("Reason")]
    rows = [
        (p["file"], p["row"], p["column"], p["value"], p["code"], p["message"])
        for p in problem_rows(job, lang)
    ]
    if job.error_count > len(rows):
        rows.append(("", "", "", "", "", _("… and %(n)s more problems") % {"n": job.error_count - len(rows)}))
    return workbook_bytes([(_("Problems"), headers, rows)])


def _head(job: ImportJob, lines: int = 12) -> Table:
    """The first lines of the job's (main) file: the mapping step shows headers and a preview
    without reading 200,000 rows (an xlsx is read whole: its rows are not lines)."""
    data = (Path(settings.DATA_DIR) / job.file_path).read_bytes()
    if data[:4] != b"PK\x03\x04":
        cut = -1
        for _ in range(lines):
            nxt = data.find(b"\n", cut + 1)
            if nxt < 0:
                break
            cut = nxt
        if cut > 0 and data.find(b"\n", cut + 1) >= 0:
            data = data[: cut + 1]
    return read_table(data, job.file_name)


def mapping_choices(job: ImportJob) -> dict:
    """What the mapping step shows: the fields of the kind, the file's headers, the mapping in use
    (saved columns over the defaults) and the first rows as a preview."""
    table = _head(job)
    current = {**default_mapping(job.kind, table.headers), **job.mapping}
    return {
        "fields": FIELDS.get(job.kind, ()),
        "headers": table.headers,
        "current": current,
        "preview": [cells for _n, cells in table.rows[:5]],
        "saved": list(ImportMapping.objects.filter(kind=job.kind).order_by("name")),
        "taobao": job.kind == ImportKind.TAOBAO,
    }

"""Traffic analysis (流量分析, SPEC 11) from imported page views.

**Import** (:func:`pageviews_import`): a CSV ``member_ref,session,ts,page,referrer`` (header
required, case-insensitive, columns in any order, extra columns ignored), read by
``core.tabular``: UTF-8 with or without a BOM, GBK/GB18030, or xlsx; spreadsheet guards (``="…"``,
a leading ``'``) removed. A file it cannot decode (UTF-16, binary, lines in no known encoding) is
ANALYTICS_PAGEVIEW_ENCODING.

- Every row is validated before anything is written; each problem is reported with the row (the
  CSV record number, the header being row 1 — the line number when no field holds a line break),
  the column, the value and a stable code (``error_codes_behaviour``). By default the import is
  all or nothing: one bad row and nothing is written. ``skip_invalid=True`` imports the good rows.
- ``ts`` is ISO 8601 or as Excel writes it (2026/3/1 10:00), read by ``core.tabular.parse_time``;
  a time without an offset is shop time (Asia/Shanghai). Stored in UTC.
- Rows go in chunks of 2,000 (one short transaction each, ARCHITECTURE rule 3) tagged with a job id,
  through ``core.bulk.insert_rows``: ``ON CONFLICT DO NOTHING`` on the unique (session, ts, page),
  so importing the same file again — or resuming after a crash — adds nothing twice.
- ``member_ref`` is resolved to a member by, in order: an external identity
  ``MemberRef(source=ref_source, external_id=member_ref)`` (``ref_source`` defaults to "import",
  the source the imports use), the member number (``Member.code``), the mobile. Card numbers are
  not tried (a card is a value carrier, not an identity). An unknown or empty reference leaves the
  member empty and keeps ``member_ref`` as written, so a later match can still be made.

**Reports** (selectors; all read the page views of an optional [since, until) window):

- entry points: the first page of each session (earliest ``ts``; ties by import order), with
  sessions and share of sessions; the referrers of those entries ("" shown as direct);
- top paths: the first ``depth`` pages of each session as a sequence, counted;
- step funnel: ordered page patterns (``*`` is a wildcard, ``fnmatch`` rules, case-sensitive). A
  session reaches step 1 if it viewed a page matching it; it reaches step k if it viewed a page
  matching step k *after* the view where it reached step k−1 (earliest match each time, which
  finds the longest reachable prefix). Conversion per step is reached(k) ÷ reached(k−1); overall is
  reached(last) ÷ reached(1);
- sessions per day: a session counts on the Shanghai day of its first view; views on their own day.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fnmatch import fnmatchcase

from django.db import transaction

from laoke.core import clock
from laoke.core.bulk import insert_rows
from laoke.core.errors import DomainError, ErrorCode
from laoke.core.tabular import Table, parse_time, read_table
from laoke.members.models import Member, MemberRef
from laoke.members.validation import normalize_mobile

from .error_codes_behaviour import (
    ANALYTICS_FUNNEL_STEPS,
    ANALYTICS_PAGEVIEW_COLUMNS,
    ANALYTICS_PAGEVIEW_ENCODING,
    ANALYTICS_PAGEVIEW_HEADER,
    ANALYTICS_PAGEVIEW_TS_INVALID,
    ANALYTICS_PAGEVIEW_VALUE_REQUIRED,
    ANALYTICS_PAGEVIEW_VALUE_TOO_LONG,
)
from .models import PageView

COLUMNS = ("member_ref", "session", "ts", "page", "referrer")
REQUIRED = ("session", "ts", "page")
MAX_LEN = {"member_ref": 128, "session": 128, "page": 500, "referrer": 500}
CHUNK = 2_000
MAX_ERRORS = 1_000  # errors listed in a result; the count covers all of them
MAX_FUNNEL_STEPS = 20
DIRECT = ""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    error: ErrorCode
    params: dict = field(default_factory=dict)

    def as_dict(self, lang: str = "zh-hans") -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "code": self.error.code,
            "message": self.error.message(lang, row=self.row, column=self.column, **self.params),
        }


@dataclass
class ImportResult:
    job_id: str
    rows: int = 0  # data rows in the file
    valid: int = 0
    invalid: int = 0
    inserted: int = 0  # new page views (re-imported rows are not new)
    matched_members: int = 0  # valid rows whose member_ref found a member
    dry_run: bool = False
    imported: bool = False  # False when nothing was written (dry run or errors without skip_invalid)
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS problems
    error_count: int = 0  # every problem found (a row may have several)

    def as_dict(self, lang: str = "zh-hans") -> dict:
        return {
            "job_id": self.job_id,
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.invalid,
            "inserted": self.inserted,
            "duplicates": self.valid - self.inserted if self.imported else 0,
            "matched_members": self.matched_members,
            "dry_run": self.dry_run,
            "imported": self.imported,
            "errors": [e.as_dict(lang) for e in self.errors],
            "error_count": self.error_count,
        }


def _read(data: bytes) -> Table:
    """The file as a table; ANALYTICS_PAGEVIEW_ENCODING when it (or any of its lines) cannot be
    decoded — the page views are all or nothing about what they say."""
    try:
        table = read_table(data, "pageviews.csv")
    except DomainError as exc:
        raise DomainError(ANALYTICS_PAGEVIEW_ENCODING, field="file") from exc
    if table.problems and table.headers:  # undecodable lines (an empty file is a header problem)
        rows = [p.row for p in table.problems][:20]
        raise DomainError(ANALYTICS_PAGEVIEW_ENCODING, field="file", details={"rows": rows})
    return table


def _validate(table: Table, result: ImportResult) -> list[tuple[str, str, datetime, str, str]]:
    """Parse and check every row; the good rows as (member_ref, session, ts, page, referrer)."""
    names = [h.lower() for h in table.headers]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise DomainError(ANALYTICS_PAGEVIEW_HEADER, field="header", missing=",".join(missing))
    pos = {c: names.index(c) for c in COLUMNS}
    good = []
    errors = 0

    def fail(err: RowError) -> None:
        nonlocal errors
        errors += 1
        if len(result.errors) < MAX_ERRORS:
            result.errors.append(err)

    width, ragged = table.width, table.ragged
    for n, cells in table.rows:  # blank rows are not rows
        result.rows += 1
        found = ragged.get(n, width)
        if found != width:
            fail(RowError(n, "", "", ANALYTICS_PAGEVIEW_COLUMNS, {"found": found, "expected": width}))
            result.invalid += 1
            continue
        k = len(cells)
        values = {c: cells[i] if i < k else "" for c, i in pos.items()}
        bad = False
        for c in COLUMNS:
            v = values[c]
            if c in REQUIRED and not v:
                fail(RowError(n, c, v, ANALYTICS_PAGEVIEW_VALUE_REQUIRED))
                bad = True
            elif c in MAX_LEN and len(v) > MAX_LEN[c]:
                fail(RowError(n, c, v[:80], ANALYTICS_PAGEVIEW_VALUE_TOO_LONG, {"max": MAX_LEN[c]}))
                bad = True
        ts = parse_time(values["ts"]) if values["ts"] else None
        if values["ts"] and ts is None:
            fail(RowError(n, "ts", values["ts"][:80], ANALYTICS_PAGEVIEW_TS_INVALID))
            bad = True
        if bad:
            result.invalid += 1
            continue
        good.append((values["member_ref"], values["session"], ts, values["page"], values["referrer"]))
    result.valid = len(good)
    result.error_count = errors
    return good


def resolve_member_refs(refs: Iterable[str], *, ref_source: str = "import") -> dict[str, int]:
    """member_ref → member id, by external identity, then member number, then mobile (first wins)."""
    wanted = {r for r in refs if r}
    found: dict[str, int] = {}
    batch = sorted(wanted)
    for i in range(0, len(batch), 900):  # SQLite's parameter limit
        part = batch[i : i + 900]
        found.update(
            MemberRef.objects.filter(source=ref_source, external_id__in=part).values_list(
                "external_id", "member_id"
            )
        )
        rest = [r for r in part if r not in found]
        if rest:
            found.update(Member.objects.filter(code__in=rest).values_list("code", "pk"))
        mobiles = {m: r for r in part if r not in found and (m := _mobile(r))}
        if mobiles:
            for mobile, pk in Member.objects.filter(mobile__in=list(mobiles)).values_list("mobile", "pk"):
                found[mobiles[mobile]] = pk
    return found


def _mobile(ref: str) -> str | None:
    """The reference as a normalised mobile (+86…), or None when it is not one (references
    without at least 11 digits are not parsed at all: the phone-number parser is slow)."""
    if sum(ch.isdigit() for ch in ref) < 11:
        return None
    try:
        return normalize_mobile(ref)
    except DomainError:
        return None


def pageviews_import(
    *,
    data: bytes,
    now: datetime,
    dry_run: bool = False,
    skip_invalid: bool = False,
    ref_source: str = "import",
    job_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Validate the file, then (unless a dry run, or rows are bad and ``skip_invalid`` is off)
    insert it in chunks. ``now`` names the job (``pv-YYYYMMDDHHMMSS-xxxxxxxx``) when no job id is
    given; ``progress(done, total)`` is called after each chunk. Raises ``DomainError`` only for a
    file that cannot be read at all (encoding, header); row problems are in ``result.errors``."""
    result = ImportResult(job_id=job_id or f"pv-{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}", dry_run=dry_run)
    good = _validate(_read(data), result)
    members = resolve_member_refs((g[0] for g in good), ref_source=ref_source)
    result.matched_members = sum(1 for g in good if g[0] in members)
    if dry_run or (result.invalid and not skip_invalid):
        return result
    table = PageView._meta.db_table
    cols = ("member_id", "member_ref", "session", "ts", "page", "referrer", "job_id")
    before = PageView.objects.filter(job_id=result.job_id).count()
    for start in range(0, len(good), CHUNK):
        chunk = good[start : start + CHUNK]
        rows = [(members.get(ref), ref, s, ts, p, r, result.job_id) for ref, s, ts, p, r in chunk]
        with transaction.atomic(durable=True):
            insert_rows(table, cols, rows)
        if progress:
            progress(start + len(chunk), len(good))
    result.inserted = PageView.objects.filter(job_id=result.job_id).count() - before
    result.imported = True
    return result


# --- reports -------------------------------------------------------------------------------------


def load_sessions(
    *, since: datetime | None = None, until: datetime | None = None
) -> dict[str, list[tuple[datetime, str, str]]]:
    """session → its views [(ts, page, referrer)] in time order (ties in import order). One read
    that every report below can share (``sessions=``), so a page showing them all scans once."""
    qs = PageView.objects.all()
    if since is not None:
        qs = qs.filter(ts__gte=since)
    if until is not None:
        qs = qs.filter(ts__lt=until)
    out: dict[str, list] = defaultdict(list)
    for session, ts, page, referrer in (
        qs.order_by("session", "ts", "pk")
        .values_list("session", "ts", "page", "referrer")
        .iterator(chunk_size=5_000)
    ):
        out[session].append((ts, page, referrer))
    return out


def day_window(since: date | None, until: date | None) -> dict:
    """Shop days, both included, as ``since``/``until`` datetimes ([since 00:00, day after until))."""
    tz = clock.shop_tz()
    return {
        "since": datetime.combine(since, time.min, tzinfo=tz) if since else None,
        "until": datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz) if until else None,
    }


def _ranked(counter: Counter, total: int, key: str, limit: int | None) -> list[dict]:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    if limit is not None:
        items = items[:limit]
    return [{key: k, "sessions": n, "share": n / total if total else 0.0} for k, n in items]


def entry_points(*, since=None, until=None, limit: int | None = 50, sessions: dict | None = None) -> dict:
    """First page of each session and the referrers of those first views."""
    if sessions is None:
        sessions = load_sessions(since=since, until=until)
    pages = Counter(v[0][1] for v in sessions.values())
    refs = Counter(v[0][2] for v in sessions.values())
    total = len(sessions)
    return {
        "sessions": total,
        "entries": _ranked(pages, total, "page", limit),
        "referrers": _ranked(refs, total, "referrer", limit),
    }


def top_paths(
    *, depth: int = 3, since=None, until=None, limit: int | None = 20, sessions: dict | None = None
) -> dict:
    """The first ``depth`` pages of each session as a sequence (shorter sessions: all their pages)."""
    if sessions is None:
        sessions = load_sessions(since=since, until=until)
    counts = Counter(tuple(p for _, p, _ in views[:depth]) for views in sessions.values())
    total = len(sessions)
    rows = _ranked(counts, total, "path", limit)
    for row in rows:
        row["path"] = list(row["path"])
    return {"sessions": total, "depth": depth, "paths": rows}


def parse_steps(raw: str | Iterable[str]) -> list[str]:
    """Funnel steps from "a,b,c" or a list (blank items dropped); 1–20 steps."""
    items = raw.split(",") if isinstance(raw, str) else [s for part in raw for s in part.split(",")]
    steps = [s.strip() for s in items if s.strip()]
    if not 1 <= len(steps) <= MAX_FUNNEL_STEPS:
        raise DomainError(ANALYTICS_FUNNEL_STEPS, field="steps", max=MAX_FUNNEL_STEPS)
    return steps


def _reached(pages: list[str], steps: list[str]) -> int:
    """How many steps a session reaches in order (earliest match for each step)."""
    k, i = 0, 0
    while k < len(steps):
        while i < len(pages) and not fnmatchcase(pages[i], steps[k]):
            i += 1
        if i == len(pages):
            break
        k += 1
        i += 1  # the next step must come after this view
    return k


def funnel(steps: list[str], *, since=None, until=None, sessions: dict | None = None) -> dict:
    """Sessions reaching each step in order, with conversion from the previous step and the first."""
    steps = parse_steps(steps)
    if sessions is None:
        sessions = load_sessions(since=since, until=until)
    reached = [0] * (len(steps) + 1)
    for views in sessions.values():
        reached[_reached([p for _, p, _ in views], steps)] += 1
    at_least = [sum(reached[k:]) for k in range(1, len(steps) + 1)]
    out = []
    for k, step in enumerate(steps):
        prev = at_least[k - 1] if k else len(sessions)
        out.append(
            {
                "step": k + 1,
                "page": step,
                "sessions": at_least[k],
                "conversion": at_least[k] / prev if prev else None,
                "from_first": at_least[k] / at_least[0] if at_least[0] else None,
            }
        )
    return {
        "sessions": len(sessions),
        "steps": out,
        "overall": at_least[-1] / at_least[0] if at_least[0] else None,
    }


def sessions_per_day(*, since=None, until=None, sessions: dict | None = None) -> list[dict]:
    """Per Shanghai day: sessions starting that day and page views that day."""
    if sessions is None:
        sessions = load_sessions(since=since, until=until)
    starts: Counter[date] = Counter()
    views: Counter[date] = Counter()
    for vs in sessions.values():
        starts[clock.to_local(vs[0][0]).date()] += 1
        for ts, _, _ in vs:
            views[clock.to_local(ts).date()] += 1
    return [{"day": d, "sessions": starts.get(d, 0), "views": views[d]} for d in sorted(views)]

"""Page-view import and traffic reports, checked against pandas reading the same fixture file.

The fixture (tests/analytics/fixtures/pageviews.csv, 971 rows of 240 sessions, shuffled) mixes
naive Shanghai times, +08:00 and Z offsets; pandas gets the times to UTC on its own and computes
entries, referrers, paths, the funnel and the per-day counts independently of laoke.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path

import pandas as pd
import pytest

from laoke.analytics import traffic
from laoke.analytics.models import PageView
from laoke.core.errors import DomainError
from laoke.members.models import MemberRef
from laoke.members.services import member_create

FIXTURES = Path(__file__).parent / "fixtures"
DATA = (FIXTURES / "pageviews.csv").read_bytes()
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def frame() -> pd.DataFrame:
    df = pd.read_csv(FIXTURES / "pageviews.csv", dtype=str, keep_default_na=False)
    # naive → Asia/Shanghai, aware → as written; everything to UTC
    df["utc"] = [
        (t.tz_localize("Asia/Shanghai") if t.tzinfo is None else t).tz_convert("UTC")
        for t in (pd.Timestamp(x) for x in df["ts"])
    ]
    return df.sort_values(["session", "utc"], kind="stable").reset_index(drop=True)


@pytest.fixture
def imported(db):
    result = traffic.pageviews_import(data=DATA, now=NOW)
    assert result.imported and result.invalid == 0
    return result


def test_import_all_rows_times_in_utc_and_idempotent(db):
    df = frame()
    first = traffic.pageviews_import(data=DATA, now=NOW)
    assert (first.rows, first.valid, first.inserted) == (len(df), len(df), len(df))
    stored = {(s, t, p) for s, t, p in PageView.objects.values_list("session", "ts", "page")}
    expected = {(r.session, r.utc.to_pydatetime(), r.page) for r in df.itertuples()}
    assert stored == expected
    again = traffic.pageviews_import(data=b"\xef\xbb\xbf" + DATA, now=NOW)  # with a BOM this time
    assert again.imported and again.inserted == 0 and again.as_dict()["duplicates"] == len(df)
    assert PageView.objects.count() == len(df)


def test_member_refs_resolved_by_ref_then_code_unknown_kept(db):
    a = member_create(name="甲", mobile="13900000001")
    b = member_create(name="乙")
    MemberRef.objects.create(member=a, source="import", external_id="EXT001", created_at=NOW)
    data = (
        "member_ref,session,ts,page,referrer\n"
        f"EXT001,x1,2026-03-01T10:00:00,/,\n{b.code},x2,2026-03-01T10:00:00,/,\n"
        "13900000001,x3,2026-03-01T10:00:00,/,\nnobody,x4,2026-03-01T10:00:00,/,\n,x5,2026-03-01T10:00:00,/,\n"
    ).encode()
    result = traffic.pageviews_import(data=data, now=NOW)
    got = dict(PageView.objects.values_list("session", "member_id"))
    assert got == {"x1": a.pk, "x2": b.pk, "x3": a.pk, "x4": None, "x5": None}
    assert PageView.objects.get(session="x4").member_ref == "nobody"
    assert result.matched_members == 3


def test_bad_rows_reported_by_row_and_column_nothing_written(db):
    data = (FIXTURES / "pageviews_bad.csv").read_bytes()
    result = traffic.pageviews_import(data=data, now=NOW)
    errors = [(e["row"], e["column"], e["code"]) for e in result.as_dict("en")["errors"]]
    assert errors == [
        (4, "ts", "ANALYTICS_PAGEVIEW_TS_INVALID"),
        (5, "session", "ANALYTICS_PAGEVIEW_VALUE_REQUIRED"),
        (6, "page", "ANALYTICS_PAGEVIEW_VALUE_REQUIRED"),
        (7, "", "ANALYTICS_PAGEVIEW_COLUMNS"),
        (8, "ts", "ANALYTICS_PAGEVIEW_VALUE_REQUIRED"),
    ]
    assert (result.rows, result.valid, result.invalid, result.imported) == (7, 2, 5, False)
    assert result.as_dict("en")["errors"][0]["value"] == "yesterday"
    assert "Row 4" in result.as_dict("en")["errors"][0]["message"]
    assert "第 4 行" in result.as_dict("zh-hans")["errors"][0]["message"]
    assert PageView.objects.count() == 0
    partial = traffic.pageviews_import(data=data, now=NOW, skip_invalid=True)
    assert partial.imported and partial.inserted == 2
    assert PageView.objects.count() == 2


def test_dry_run_writes_nothing_and_file_level_errors(db):
    result = traffic.pageviews_import(data=DATA, now=NOW, dry_run=True)
    assert result.valid == 971 and not result.imported and PageView.objects.count() == 0
    with pytest.raises(DomainError) as exc:
        traffic.pageviews_import(data=b"session,ts,page\nx,2026-03-01T10:00:00,/\n", now=NOW)
    assert exc.value.code == "ANALYTICS_PAGEVIEW_HEADER" and "member_ref" in exc.value.message("en")
    with pytest.raises(DomainError) as exc:
        traffic.pageviews_import(data="member_ref,session,ts,page,referrer\n".encode("utf-16"), now=NOW)
    assert exc.value.code == "ANALYTICS_PAGEVIEW_ENCODING"


def test_import_in_chunks_reports_progress(db, monkeypatch):
    monkeypatch.setattr(traffic, "CHUNK", 300)
    seen = []
    traffic.pageviews_import(data=DATA, now=NOW, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(300, 971), (600, 971), (900, 971), (971, 971)]
    assert PageView.objects.values("job_id").distinct().count() == 1


def test_entries_and_referrers_equal_pandas(imported):
    df = frame()
    first = df.groupby("session").head(1)
    n = first["session"].nunique()
    exp_pages = first["page"].value_counts()
    exp_refs = first["referrer"].value_counts()
    got = traffic.entry_points(limit=None)
    assert got["sessions"] == n == 240
    assert {r["page"]: r["sessions"] for r in got["entries"]} == exp_pages.to_dict()
    assert {r["referrer"]: r["sessions"] for r in got["referrers"]} == exp_refs.to_dict()
    for r in got["entries"]:
        assert r["share"] == pytest.approx(exp_pages[r["page"]] / n, abs=1e-12)
    counts = [r["sessions"] for r in got["entries"]]
    assert counts == sorted(counts, reverse=True)


def test_top_paths_equal_pandas(imported):
    df = frame()
    paths = df.groupby("session")["page"].apply(lambda s: tuple(s.head(3))).value_counts()
    got = traffic.top_paths(depth=3, limit=None)
    assert {tuple(r["path"]): r["sessions"] for r in got["paths"]} == paths.to_dict()
    assert traffic.top_paths(depth=3, limit=5)["paths"][0]["sessions"] == paths.max()


def _pandas_funnel(df: pd.DataFrame, steps: list[str]) -> list[int]:
    """Sessions reaching step k: the earliest view matching step k after the view that reached k−1."""
    reached = [0] * len(steps)
    match = {pat: df["page"].map(lambda p, pat=pat: fnmatchcase(p, pat)).to_numpy() for pat in set(steps)}
    times = df["utc"].to_numpy()
    for rows in df.groupby("session").indices.values():
        after = None
        for k, pattern in enumerate(steps):
            hits = [times[i] for i in rows if match[pattern][i] and (after is None or times[i] > after)]
            if not hits:
                break
            after = min(hits)
            reached[k] += 1
    return reached


@pytest.mark.parametrize(
    "steps",
    [["/item/*", "/cart", "/checkout", "/paid"], ["/", "/list", "/item/3", "/cart"], ["/cart", "/cart"]],
)
def test_funnel_equals_pandas(imported, steps):
    df = frame()
    expected = _pandas_funnel(df, steps)
    got = traffic.funnel(steps)
    assert [s["sessions"] for s in got["steps"]] == expected
    assert expected[0] > expected[-1] > 0  # the fixture exercises real drop-off
    for k, s in enumerate(got["steps"]):
        prev = 240 if k == 0 else expected[k - 1]
        assert s["conversion"] == pytest.approx(expected[k] / prev, abs=1e-12)
    assert got["overall"] == pytest.approx(expected[-1] / expected[0], abs=1e-12)


def test_funnel_steps_parsed_and_limited(db):
    assert traffic.parse_steps("/a, /b,,/c") == ["/a", "/b", "/c"]
    with pytest.raises(DomainError) as exc:
        traffic.parse_steps(" , ")
    assert exc.value.code == "ANALYTICS_FUNNEL_STEPS"
    assert traffic.funnel(["/a"]) == {
        "sessions": 0,
        "steps": [{"step": 1, "page": "/a", "sessions": 0, "conversion": None, "from_first": None}],
        "overall": None,
    }


def test_sessions_per_day_equals_pandas(imported):
    df = frame()
    df["day"] = df["utc"].dt.tz_convert("Asia/Shanghai").dt.date
    starts = df.groupby("session").head(1)["day"].value_counts()
    views = df["day"].value_counts()
    got = traffic.sessions_per_day()
    assert {r["day"]: r["views"] for r in got} == views.to_dict()
    assert {r["day"]: r["sessions"] for r in got if r["sessions"]} == starts.to_dict()


def test_window_filters_views(imported):
    df = frame()
    since = datetime(2026, 3, 3, tzinfo=UTC)
    until = datetime(2026, 3, 5, tzinfo=UTC)
    part = df[(df["utc"] >= since) & (df["utc"] < until)]
    got = traffic.entry_points(since=since, until=until, limit=None)
    assert got["sessions"] == part["session"].nunique()
    assert {r["page"]: r["sessions"] for r in got["entries"]} == (
        part.groupby("session").head(1)["page"].value_counts().to_dict()
    )

"""A campaign report (evaluation.campaign_report) as xlsx or as a self-contained HTML page."""

from __future__ import annotations

import html
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from laoke.core.xlsx import workbook_bytes

ARM_COLUMNS = (
    ("name", "arm"),
    ("members", "members"),
    ("contacted", "contacted"),
    ("delivered", "delivered"),
    ("responders", "responders"),
    ("response_rate", "response rate"),
    ("orders", "orders"),
    ("revenue", "revenue (yuan)"),
    ("revenue_per_member", "revenue per member (yuan)"),
)
UPLIFT_COLUMNS = (
    ("abs", "uplift"),
    ("rel", "relative uplift"),
    ("ci_low", "95% CI low"),
    ("ci_high", "95% CI high"),
    ("p_value", "p-value"),
)
REVENUE_COLUMNS = (
    ("abs", "revenue uplift per member (yuan)"),
    ("ci_low", "95% CI low"),
    ("ci_high", "95% CI high"),
    ("p_value", "p-value"),
)
TOTAL_COLUMNS = (
    "members",
    "contacted",
    "responders",
    "orders",
    "revenue",
    "incremental_orders",
    "incremental_revenue",
    "cost",
    "roi",
    "cost_per_contact",
    "cost_per_incremental_order",
    "unsubscribes",
    "unsubscribe_rate",
    "complaints",
    "complaint_rate",
)


def arm_headers() -> list[str]:
    return (
        [_(label) for _k, label in ARM_COLUMNS]
        + [_(label) for _k, label in UPLIFT_COLUMNS]
        + [_(label) for _k, label in REVENUE_COLUMNS]
        + [_("status")]
    )


def arm_row(arm: dict[str, Any], prefix: tuple = ()) -> list:
    up, rev = arm.get("uplift") or {}, arm.get("revenue_uplift") or {}
    status = up.get("reason") or up.get("status") or ""
    return (
        list(prefix)
        + [arm.get(k) for k, _label in ARM_COLUMNS]
        + [up.get(k) for k, _label in UPLIFT_COLUMNS]
        + [rev.get(k) for k, _label in REVENUE_COLUMNS]
        + [status]
    )


def report_xlsx(report: dict[str, Any]) -> bytes:
    c, totals = report["campaign"], report["totals"]
    summary = [(_("campaign"), c["name"]), (_("source"), c["source"]), (_("window"), report["window"])]
    summary += [(key, totals.get(key)) for key in TOTAL_COLUMNS]
    t = report["target"]
    summary += [
        (_("target metric"), t["metric"]),
        (pgettext("campaign goal", "target"), t["value"]),
        (_("actual"), t["actual"]),
    ]
    sheets = [
        (_("Summary"), [_("figure"), pgettext("cell in a file", "value")], summary),
        (_("Arms"), arm_headers(), [arm_row(a) for a in report["arms"]]),
    ]
    if report["runs"]:
        head = [_("wave"), _("branch"), _("channel"), _("offer"), _("loop"), _("due at")]
        rows = [
            arm_row(a, (r["wave"], r["branch"], r["channel"], r["offer"], r["loop"], r["due_at"]))
            for r in report["runs"]
            for a in r["arms"]
        ]
        sheets.append((_("Waves"), head + arm_headers(), rows))
    for key, groups in report["comparisons"].items():
        rows = [arm_row(a, (g[key],)) for g in groups for a in g["arms"]]
        sheets.append((_("By %(key)s") % {"key": key}, [key, *arm_headers()], rows))
    if report["series"]:
        arms = [k for k in report["series"][0] if k not in ("day", "date")]
        rows = [[p["date"], p["day"], *(p[a] for a in arms)] for p in report["series"]]
        sheets.append((_("Over time"), [_("date"), _("day"), *arms], rows))
    return workbook_bytes(sheets)


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def report_html(report: dict[str, Any]) -> str:
    """A plain page with the report's tables (no scripts, nothing loaded from elsewhere)."""
    c = report["campaign"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(c['name'])}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}</style>",
        f"</head><body><h1>{html.escape(c['name'])}</h1><p>{html.escape(report['window'])}</p>",
    ]

    def table(headers, rows):
        parts.append("<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in headers) + "</tr>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>")
        parts.append("</table>")

    table(
        [_("figure"), pgettext("cell in a file", "value")],
        [(k, report["totals"].get(k)) for k in TOTAL_COLUMNS],
    )
    table(arm_headers(), [arm_row(a) for a in report["arms"]])
    if report["runs"]:
        parts.append(f"<h2>{html.escape(_('Waves'))}</h2>")
        head = [_("wave"), _("loop")]
        table(
            head + arm_headers(),
            [arm_row(a, (r["wave"], r["loop"])) for r in report["runs"] for a in r["arms"]],
        )
    parts.append("</body></html>")
    return "".join(parts)

"""The PRC public holidays the zone doubles its stock on (seed 001: 节假日的时候可以每款20条).

2026: the State Council's schedule (国务院办公厅关于2026年部分节假日安排的通知, days off incl.
调休 bridging days; the make-up working Saturdays/Sundays 1/4, 2/14, 2/28, 5/9, 9/20, 10/10 are
working days and not listed).

2027: not published when this was written. Listed as estimates (``official=False``): the days
fixed by practice — 元旦 with the adjacent weekend (1/1–1/3), 清明 with the weekend (4/3–4/5),
劳动节 5/1–5/5 and 国庆 10/1–10/7 as every year since 2020 — and only the statutory days of the
lunar holidays (春节 除夕–初三 2/5–2/8, 端午 6/9, 中秋 9/15). An operator corrects the year in the
console once the State Council publishes it.
"""

from __future__ import annotations

from datetime import date, timedelta

NEW_YEAR, SPRING, QINGMING, LABOUR, DUANWU, MID_AUTUMN, NATIONAL = (
    "元旦",
    "春节",
    "清明",
    "劳动节",
    "端午",
    "中秋",
    "国庆",
)


def _span(name: str, first: date, last: date) -> list[tuple[date, str]]:
    return [(first + timedelta(days=i), name) for i in range((last - first).days + 1)]


HOLIDAYS_2026 = [
    *_span(NEW_YEAR, date(2026, 1, 1), date(2026, 1, 3)),
    *_span(SPRING, date(2026, 2, 15), date(2026, 2, 23)),
    *_span(QINGMING, date(2026, 4, 4), date(2026, 4, 6)),
    *_span(LABOUR, date(2026, 5, 1), date(2026, 5, 5)),
    *_span(DUANWU, date(2026, 6, 19), date(2026, 6, 21)),
    *_span(MID_AUTUMN, date(2026, 9, 25), date(2026, 9, 27)),
    *_span(NATIONAL, date(2026, 10, 1), date(2026, 10, 7)),
]

HOLIDAYS_2027_ESTIMATE = [
    *_span(NEW_YEAR, date(2027, 1, 1), date(2027, 1, 3)),
    *_span(SPRING, date(2027, 2, 5), date(2027, 2, 8)),
    *_span(QINGMING, date(2027, 4, 3), date(2027, 4, 5)),
    *_span(LABOUR, date(2027, 5, 1), date(2027, 5, 5)),
    (date(2027, 6, 9), DUANWU),
    (date(2027, 9, 15), MID_AUTUMN),
    *_span(NATIONAL, date(2027, 10, 1), date(2027, 10, 7)),
]

"""Stable error codes of the behaviour reports (traffic, cohorts, lifecycle, event forecasts).

Part of the API contract: never rename one, add a new one instead. Page-view import row errors
carry ``row`` (the CSV record number, the header being row 1), ``column`` and ``value``.
"""

from laoke.core.errors import define

ANALYTICS_PAGEVIEW_ENCODING = define(
    "ANALYTICS_PAGEVIEW_ENCODING",
    400,
    "页面浏览文件有无法识别编码的行（应为 UTF-8 或 GBK/GB18030 的 CSV，或 xlsx）",
    "The page-view file has rows in an unknown encoding (a CSV in UTF-8 or GBK/GB18030, or xlsx, is expected)",
)
ANALYTICS_PAGEVIEW_HEADER = define(
    "ANALYTICS_PAGEVIEW_HEADER",
    400,
    "页面浏览文件的表头缺少列：{missing}（须有 member_ref,session,ts,page,referrer）",
    "The page-view file's header lacks the columns {missing} (needs member_ref,session,ts,page,referrer)",
)
ANALYTICS_PAGEVIEW_ROWS_INVALID = define(
    "ANALYTICS_PAGEVIEW_ROWS_INVALID",
    422,
    "页面浏览文件有 {invalid} 行有误，未导入任何数据",
    "{invalid} rows of the page-view file are not valid; nothing was imported",
)
ANALYTICS_PAGEVIEW_VALUE_REQUIRED = define(
    "ANALYTICS_PAGEVIEW_VALUE_REQUIRED",
    422,
    "第 {row} 行：{column} 为必填项",
    "Row {row}: {column} is required",
)
ANALYTICS_PAGEVIEW_VALUE_TOO_LONG = define(
    "ANALYTICS_PAGEVIEW_VALUE_TOO_LONG",
    422,
    "第 {row} 行：{column} 过长（最多 {max} 个字符）",
    "Row {row}: {column} is too long (max {max} characters)",
)
ANALYTICS_PAGEVIEW_TS_INVALID = define(
    "ANALYTICS_PAGEVIEW_TS_INVALID",
    422,
    "第 {row} 行：ts 不是 ISO 8601 时间（例如 2026-03-01T10:15:00+08:00）",
    "Row {row}: ts is not an ISO 8601 time (e.g. 2026-03-01T10:15:00+08:00)",
)
ANALYTICS_PAGEVIEW_COLUMNS = define(
    "ANALYTICS_PAGEVIEW_COLUMNS",
    422,
    "第 {row} 行：列数与表头不符（{found} 列，应为 {expected} 列）",
    "Row {row}: {found} columns where the header has {expected}",
)
ANALYTICS_FUNNEL_STEPS = define(
    "ANALYTICS_FUNNEL_STEPS",
    400,
    "漏斗需要 1 到 {max} 个步骤（以逗号分隔的页面，可用 * 通配）",
    "A funnel needs 1 to {max} steps (pages separated by commas, * as a wildcard)",
)
ANALYTICS_FORECAST_INVALID = define(
    "ANALYTICS_FORECAST_INVALID",
    422,
    "活动预测的 {field} 无效：{reason_zh}",
    "The event forecast's {field} is not valid: {reason_en}",
)
ANALYTICS_FORECAST_NOT_FOUND = define(
    "ANALYTICS_FORECAST_NOT_FOUND",
    404,
    "找不到活动预测 {forecast_id}",
    "Event forecast {forecast_id} not found",
)
ANALYTICS_REPORT_PARAM = define(
    "ANALYTICS_REPORT_PARAM",
    400,
    "报表参数 {field} 无效：{reason_zh}",
    "The report parameter {field} is not valid: {reason_en}",
)

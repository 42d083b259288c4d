"""Error codes of exports (stable: part of the API contract)."""

from laoke.core.errors import define

EXPORT_KIND_UNKNOWN = define(
    "EXPORT_KIND_UNKNOWN", 422, "没有名为 {kind} 的导出列表", "There is no export list {kind}"
)
EXPORT_PARAM_INVALID = define(
    "EXPORT_PARAM_INVALID",
    422,
    "导出参数 {field} 无效：{reason}",
    "Export parameter {field} is not valid: {reason}",
)
EXPORT_FORMAT_INVALID = define(
    "EXPORT_FORMAT_INVALID", 422, "导出格式只能是 xlsx 或 csv", "The export format must be xlsx or csv"
)
EXPORT_NOT_READY = define(
    "EXPORT_NOT_READY",
    409,
    "导出文件尚未生成（状态：{state}）",
    "The export file is not ready (state: {state})",
)
EXPORT_FILE_MISSING = define(
    "EXPORT_FILE_MISSING", 410, "导出文件已不存在，请重新导出", "The export file is gone; export again"
)

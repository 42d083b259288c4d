"""Stable error codes of the CLV models and member scores (API contract: never rename, add new
ones)."""

from laoke.core.errors import define

ANALYTICS_CLV_FILE_INVALID = define(
    "ANALYTICS_CLV_FILE_INVALID",
    422,
    "交易文件无法读取：{why}",
    "The transactions file cannot be read: {why}",
)

"""Stable error codes of the segments app (part of the API contract: never rename, add new ones).

Every rule error names the JSON path of the bad node (``all[2].value``; ``rule`` is the root) in
``details.path`` and in the message."""

from laoke.core.errors import define

SEGMENT_RULE_INVALID = define(
    "SEGMENT_RULE_INVALID",
    400,
    "分群规则在 {path} 处无效：{reason_zh}",
    "The segment rule is not valid at {path}: {reason_en}",
)
SEGMENT_FIELD_UNKNOWN = define(
    "SEGMENT_FIELD_UNKNOWN",
    400,
    "分群规则 {path}：未知字段 {name}",
    "Segment rule {path}: unknown field {name}",
)
SEGMENT_OP_INVALID = define(
    "SEGMENT_OP_INVALID",
    400,
    "分群规则 {path}：字段 {name} 不支持运算 {op}（可用：{allowed}）",
    "Segment rule {path}: field {name} does not support the operator {op} (allowed: {allowed})",
)
SEGMENT_VALUE_INVALID = define(
    "SEGMENT_VALUE_INVALID",
    400,
    "分群规则 {path}：值无效，应为 {expected_zh}",
    "Segment rule {path}: invalid value, expected {expected}",
)
SEGMENT_GROUP_EMPTY = define(
    "SEGMENT_GROUP_EMPTY",
    400,
    "分群规则 {path}：条件组不能为空",
    "Segment rule {path}: a group cannot be empty",
)
SEGMENT_RULE_TOO_DEEP = define(
    "SEGMENT_RULE_TOO_DEEP",
    400,
    "分群规则 {path}：嵌套超过 {max} 层",
    "Segment rule {path}: nested deeper than {max} levels",
)
SEGMENT_NAME_TAKEN = define(
    "SEGMENT_NAME_TAKEN", 409, "分群名称 {name} 已存在", "A segment named {name} exists"
)
SEGMENT_ARCHIVED = define("SEGMENT_ARCHIVED", 409, "分群已归档", "The segment is archived")
SEGMENT_SNAPSHOT_KEY_OTHER_SEGMENT = define(
    "SEGMENT_SNAPSHOT_KEY_OTHER_SEGMENT",
    409,
    "快照键 {key} 已用于另一个分群",
    "The snapshot key {key} was used for another segment",
)
SEGMENT_EXPORT_TOO_LARGE = define(
    "SEGMENT_EXPORT_TOO_LARGE",
    409,
    "分群有 {count} 名会员，超过导出上限 {max}；请先缩小条件",
    "The segment has {count} members, more than the export limit of {max}; narrow it first",
)

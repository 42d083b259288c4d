"""Stable error codes of the member archive (never renamed; new situations get new codes)."""

from laoke.core.errors import define

MEMBER_MOBILE_INVALID = define(
    "MEMBER_MOBILE_INVALID",
    422,
    "手机号无效：请填写 11 位中国大陆手机号",
    "Invalid mobile: expected a mainland China mobile number",
)
MEMBER_MOBILE_TAKEN = define(
    "MEMBER_MOBILE_TAKEN", 409, "该手机号已被其他会员使用", "This mobile number belongs to another member"
)
MEMBER_EMAIL_INVALID = define("MEMBER_EMAIL_INVALID", 422, "邮箱地址无效", "Invalid email address")
MEMBER_EMAIL_TAKEN = define(
    "MEMBER_EMAIL_TAKEN", 409, "该邮箱已被其他会员使用", "This email belongs to another member"
)
ADDRESS_UNPARSEABLE = define(
    "ADDRESS_UNPARSEABLE",
    422,
    "无法识别地址中的省份/城市，请填写完整地址",
    "Cannot find the province/city in this address",
)
BIRTHDAY_INVALID = define("BIRTHDAY_INVALID", 422, "生日无效", "Invalid birthday")
ID_NUMBER_INVALID = define("ID_NUMBER_INVALID", 422, "身份证号格式无效", "Invalid ID card number")
MEMBER_NOT_ACTIVE = define(
    "MEMBER_NOT_ACTIVE", 409, "该会员已合并或已注销", "This member was merged or anonymised"
)
MEMBER_REF_TAKEN = define(
    "MEMBER_REF_TAKEN",
    409,
    "外部标识 {source}:{external_id} 已属于其他会员",
    "External id {source}:{external_id} belongs to another member",
)
ATTRIBUTE_UNKNOWN = define(
    "ATTRIBUTE_UNKNOWN", 422, "未定义的自定义属性：{key}", "Unknown custom attribute: {key}"
)
ATTRIBUTE_KEY_TAKEN = define(
    "ATTRIBUTE_KEY_TAKEN", 409, "自定义属性 {key} 已存在", "Custom attribute {key} already exists"
)
ATTRIBUTE_TYPE_MISMATCH = define(
    "ATTRIBUTE_TYPE_MISMATCH",
    422,
    "属性 {key} 需要 {type} 类型的值",
    "Attribute {key} needs a value of type {type}",
)
ATTRIBUTE_CHOICE_INVALID = define(
    "ATTRIBUTE_CHOICE_INVALID",
    422,
    "属性 {key} 的值不在可选项中",
    "The value of {key} is not one of its choices",
)
TAG_NAME_TAKEN = define("TAG_NAME_TAKEN", 409, "标签 {name} 已存在", "Tag {name} already exists")
TAG_SENSITIVE_PERMISSION = define(
    "TAG_SENSITIVE_PERMISSION", 403, "没有管理敏感标签的权限", "You may not manage sensitive tags"
)
SENSITIVE_CONSENT_REQUIRED = define(
    "SENSITIVE_CONSENT_REQUIRED",
    409,
    "记录敏感个人信息前需取得会员的单独同意",
    "The member's separate consent is needed before recording sensitive personal information",
)
CONSENT_CHANNEL_INVALID = define(
    "CONSENT_CHANNEL_INVALID", 422, "未知的渠道：{channel}", "Unknown channel: {channel}"
)
AGREEMENT_VERSION_TAKEN = define(
    "AGREEMENT_VERSION_TAKEN", 409, "协议版本 {version} 已存在", "Agreement version {version} exists"
)
AGREEMENT_NOT_PUBLISHED = define(
    "AGREEMENT_NOT_PUBLISHED", 409, "该协议版本尚未发布", "This agreement version is not published"
)
CARD_POLICY_MISSING = define(
    "CARD_POLICY_MISSING", 409, "尚未启用会员卡规则", "No membership card policy is active"
)
CARD_ALREADY_ACTIVE = define(
    "CARD_ALREADY_ACTIVE", 409, "该会员已有有效会员卡", "This member already has an active card"
)
CARD_NOT_ACTIVE = define("CARD_NOT_ACTIVE", 409, "该会员没有有效会员卡", "This member has no active card")
CARD_REPLACEMENT_PROOF_REQUIRED = define(
    "CARD_REPLACEMENT_PROOF_REQUIRED",
    422,
    "补卡需提供原卡号或顾客存根",
    "A replacement needs the old card number or the customer stub",
)
MERGE_SAME_MEMBER = define(
    "MERGE_SAME_MEMBER", 422, "不能把会员合并到自身", "A member cannot be merged into itself"
)
MERGE_CONFLICT = define(
    "MERGE_CONFLICT",
    409,
    "两个会员的{field}不同，无法自动合并",
    "The two members have different {field}; resolve it before merging",
)
GROUP_NAME_REQUIRED = define("GROUP_NAME_REQUIRED", 422, "请填写集体名称", "A group account needs a name")
CARD_POLICY_NAME_TAKEN = define(
    "CARD_POLICY_NAME_TAKEN", 409, "会员卡规则 {name} 已存在", "A card policy named {name} already exists"
)

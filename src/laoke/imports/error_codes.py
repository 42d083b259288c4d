"""Error codes of imports (the reader's own row codes are in core.tabular)."""

from laoke.core.errors import define

IMPORT_KIND_UNKNOWN = define(
    "IMPORT_KIND_UNKNOWN",
    422,
    "导入类型须为 taobao、members、orders、products 或 coupons",
    "The import kind must be taobao, members, orders, products or coupons",
)
IMPORT_MODE_INVALID = define(
    "IMPORT_MODE_INVALID",
    422,
    "导入方式须为 all（全部或不导入）或 valid（只导入有效行）",
    "The mode must be all or valid",
)
IMPORT_FILE_REQUIRED = define("IMPORT_FILE_REQUIRED", 422, "请上传文件", "A file is required")
IMPORT_MAPPING_INVALID = define(
    "IMPORT_MAPPING_INVALID",
    422,
    "列对应关系有误：{key} 不是此类导入的字段",
    "The column mapping is not valid: {key} is not a field of this import",
)
IMPORT_MAPPING_NOT_FOUND = define(
    "IMPORT_MAPPING_NOT_FOUND",
    404,
    "找不到名为“{name}”的列对应方案",
    "No saved mapping is called \u201c{name}\u201d",
)
IMPORT_OPTION_INVALID = define(
    "IMPORT_OPTION_INVALID", 422, "导入选项 {option} 有误", "The import option {option} is not valid"
)
IMPORT_TEMPLATE_REQUIRED = define(
    "IMPORT_TEMPLATE_REQUIRED",
    422,
    "导入券码须选择一个有效的优惠券模板",
    "Importing coupon codes needs an active coupon template",
)
IMPORT_HAS_ERRORS = define(
    "IMPORT_HAS_ERRORS",
    422,
    "文件中有 {count} 处问题，未导入任何数据（可改正后重新上传，或选择只导入有效行）",
    "The file has {count} problems; nothing was imported (fix them and upload again, or import the valid rows)",
)
IMPORT_STATE = define(
    "IMPORT_STATE",
    409,
    "该导入当前为“{state}”状态，不能执行此操作",
    "The import is {state}; this cannot be done now",
)
IMPORT_BUSY = define(
    "IMPORT_BUSY",
    409,
    "另一个导入正在进行，请在它完成后再确认导入",
    "Another import is running; confirm this one again when it has finished",
)
IMPORT_NOTHING_VALID = define(
    "IMPORT_NOTHING_VALID", 422, "文件中没有可导入的有效行", "The file has no valid row to import"
)

# --- row problems ----------------------------------------------------------------------------
ROW_DUPLICATE = define("IMPORT_ROW_DUPLICATE", 422, "与第 {other} 行重复", "The same as row {other}")
ROW_MOBILE = define(
    "IMPORT_ROW_MOBILE",
    422,
    "“{column}”不是有效的中国大陆手机号",
    "\u201c{column}\u201d is not a mainland mobile number",
)
ROW_EMAIL = define(
    "IMPORT_ROW_EMAIL", 422, "“{column}”不是有效的邮箱", "\u201c{column}\u201d is not an email address"
)
ROW_ADDRESS = define(
    "IMPORT_ROW_ADDRESS",
    422,
    "“{column}”无法识别省市（请写明省、市）",
    "\u201c{column}\u201d names no province and city that can be recognised",
)
ROW_GENDER = define(
    "IMPORT_ROW_GENDER", 422, "性别须为 男/女/M/F 或留空", "Gender must be M, F, 男, 女 or empty"
)
ROW_BIRTHDAY = define("IMPORT_ROW_BIRTHDAY", 422, "生日不合理", "The birthday is not plausible")
ROW_IDENTITY = define(
    "IMPORT_ROW_IDENTITY",
    422,
    "须有手机号或外部编号之一",
    "A mobile or an external id is needed",
)
ROW_STORE_UNKNOWN = define(
    "IMPORT_ROW_STORE", 422, "没有编码为“{value}”的门店", "No store has the code \u201c{value}\u201d"
)
ROW_CATEGORY_UNKNOWN = define(
    "IMPORT_ROW_CATEGORY", 422, "没有编码为“{value}”的分类", "No category has the code \u201c{value}\u201d"
)
ROW_ORDER_NUMBER = define(
    "IMPORT_ROW_ORDER_NUMBER",
    422,
    "订单编号须为 1–32 位字母、数字、- 或 _",
    "An order number is 1-32 letters, digits, - or _",
)
ROW_ORDER_STATUS = define(
    "IMPORT_ROW_ORDER_STATUS", 422, "无法识别的订单状态", "An order status that is not known"
)
ROW_ORDER_MISMATCH = define(
    "IMPORT_ROW_ORDER_MISMATCH",
    422,
    "同一订单的各行“{column}”不一致（第 {other} 行不同）",
    "The rows of one order disagree on \u201c{column}\u201d (row {other} differs)",
)
ROW_REFUND_TOO_BIG = define(
    "IMPORT_ROW_REFUND", 422, "退款金额大于实付金额", "The refund is more than was paid"
)
ROW_ITEMS_ORPHAN = define(
    "IMPORT_ROW_ITEM_ORPHAN",
    422,
    "宝贝报表中的订单 {value} 不在订单报表中",
    "The order {value} of the item report is not in the order report",
)
ROW_REFUNDED_QUANTITY = define(
    "IMPORT_ROW_REFUNDED_QUANTITY", 422, "退货数量大于购买数量", "More units refunded than bought"
)
ROW_PAID_ABOVE_LIST = define(
    "IMPORT_ROW_PAID_ABOVE_LIST", 422, "实付金额大于单价×数量", "Paid more than unit price × quantity"
)
ROW_COUPON_CODE = define(
    "IMPORT_ROW_COUPON_CODE", 422, "券码须为 4–32 位字母、数字或 -", "A code is 4-32 letters, digits or -"
)
ROW_MEMBER_UNKNOWN = define(
    "IMPORT_ROW_MEMBER_UNKNOWN", 422, "找不到该手机号的会员", "No member has this mobile"
)
ROW_BOOLEAN = define(
    "IMPORT_ROW_BOOLEAN",
    422,
    "“{column}”须为 是/否/1/0/yes/no",
    "\u201c{column}\u201d must be yes/no/1/0/是/否",
)

from laoke.core.errors import define

PRODUCT_SKU_TAKEN = define("PRODUCT_SKU_TAKEN", 409, "商品编码 {sku} 已存在", "SKU {sku} already exists")
PRICE_INVALID = define(
    "PRICE_INVALID", 422, "{field} 须为不小于 0 的整数（分）", "{field} must be a whole number of fen ≥ 0"
)
CATEGORY_CODE_TAKEN = define(
    "CATEGORY_CODE_TAKEN", 409, "类目编号 {code} 已存在", "Category code {code} already exists"
)
CATEGORY_NAME_TAKEN = define(
    "CATEGORY_NAME_TAKEN", 409, "同一上级下已有类目“{name}”", "There is already a category named {name} here"
)
CATEGORY_CYCLE = define(
    "CATEGORY_CYCLE", 422, "不能把类目移到它自己的下级", "A category cannot move under itself"
)
GIFT_CODE_TAKEN = define("GIFT_CODE_TAKEN", 409, "礼品编号 {code} 已存在", "Gift code {code} already exists")
GIFT_OUT_OF_STOCK = define(
    "GIFT_OUT_OF_STOCK", 409, "礼品库存不足（现有 {available}）", "Not enough gift stock ({available} left)"
)
STOCK_DELTA_INVALID = define(
    "STOCK_DELTA_INVALID",
    422,
    "库存变动须为非零整数，且绝对值不超过 1000000",
    "A stock change must be a non-zero whole number of at most 1,000,000 either way",
)
CATEGORY_TOO_DEEP = define(
    "CATEGORY_TOO_DEEP", 422, "类目层级过深", "The category tree would be too deep here"
)

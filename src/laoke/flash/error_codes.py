"""Stable error codes of the flash zone (part of the API contract: never rename, add new ones)."""

from laoke.core.errors import define

NOT_ON_SALE = define(
    "FLASH_NOT_ON_SALE", 409, "该商品今天不在老客专享区或尚未开抢", "This item is not on flash sale right now"
)
SOLD_OUT = define("FLASH_SOLD_OUT", 409, "今日专享名额已抢完", "Today's flash units are sold out")
LIMIT_REACHED = define(
    "FLASH_LIMIT_REACHED",
    409,
    "每位会员每款每天限购 {limit} 件",
    "At most {limit} per member, item and day",
)
NOT_ELIGIBLE = define(
    "FLASH_NOT_ELIGIBLE", 403, "老客专享区仅限老客户购买", "The flash zone is for old customers only"
)
FLOOR_REQUIRED = define(
    "FLASH_FLOOR_REQUIRED",
    422,
    "请先设置最低价，才能发布专享商品",
    "Set a floor price before publishing the item",
)
ITEM_INVALID = define(
    "FLASH_ITEM_INVALID", 422, "专享商品的 {field} 设置有误", "The item's {field} is not valid"
)
SLOT_TAKEN = define(
    "FLASH_SLOT_TAKEN",
    409,
    "第 {slot} 栏在这段日期已有专享商品",
    "Slot {slot} already has an item on some of these days",
)
PRODUCT_TAKEN = define(
    "FLASH_PRODUCT_TAKEN",
    409,
    "该商品在这段日期已在专享区",
    "This product is already in the zone on some of these days",
)
ITEM_FROZEN = define(
    "FLASH_ITEM_FROZEN",
    409,
    "已开始或已结束的专享商品不能修改 {field}",
    "The {field} of an item whose run has started or ended cannot change",
)
HOLIDAY_EXISTS = define("FLASH_HOLIDAY_EXISTS", 409, "该日期已是节假日", "This date is already a holiday")

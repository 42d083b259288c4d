import pytest

from laoke.core.errors import DomainError
from laoke.members.validation import (
    mask_mobile,
    normalize_id_number,
    normalize_mobile,
    parse_address,
)


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "8613812345678",
        "0086 13812345678",
        "'13812345678",
    ],
)
def test_mobile_forms_normalise_to_e164(raw):
    assert normalize_mobile(raw) == "+8613812345678"


@pytest.mark.parametrize(
    "raw",
    ["010-12345678", "12345678901", "1381234567", "138123456789", "+14155552671", "abc", "+86 10 1234 5678"],
)
def test_invalid_mobiles_are_rejected(raw):
    with pytest.raises(DomainError) as exc:
        normalize_mobile(raw)
    assert exc.value.code == "MEMBER_MOBILE_INVALID"


def test_empty_mobile_is_none():
    assert normalize_mobile("") is None and normalize_mobile(None) is None


def test_mask_mobile():
    assert mask_mobile("+8613812345678") == "138****5678"
    assert mask_mobile(None) == ""


@pytest.mark.parametrize(
    ("raw", "province", "city", "district"),
    [
        ("北京市朝阳区建国路88号", "北京市", "北京市", "朝阳区"),
        ("上海浦东新区世纪大道1号", "上海市", "上海市", "浦东新区"),
        ("新疆乌鲁木齐市天山区人民路1号", "新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
        ("内蒙古呼和浩特市新城区", "内蒙古自治区", "呼和浩特市", "新城区"),
        ("西藏拉萨市城关区", "西藏自治区", "拉萨市", "城关区"),
        ("广东省深圳市南山区科技园 (518057)", "广东省", "深圳市", "南山区"),
        ("香港九龙尖沙咀", "香港特别行政区", "", ""),
        ("台湾台北市信义区", "台湾省", "", ""),
    ],
)
def test_addresses_parse(raw, province, city, district):
    parsed = parse_address(raw)
    assert (parsed.province, parsed.city, parsed.district) == (province, city, district)


def test_unparseable_address_is_an_error():
    with pytest.raises(DomainError) as exc:
        parse_address("随便写写")
    assert exc.value.code == "ADDRESS_UNPARSEABLE"


def test_id_number_check_digit():
    # GB 11643 example number with a valid ISO 7064 MOD 11-2 check character.
    assert normalize_id_number("11010519491231002X") == "11010519491231002X"
    with pytest.raises(DomainError):
        normalize_id_number("110105194912310021")

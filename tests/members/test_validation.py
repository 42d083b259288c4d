"""Input normalisation: CN mobiles (phonenumbers), addresses (cpca), ID numbers, masking."""

import pytest

from laoke.core.errors import DomainError
from laoke.members.cards import card_number_valid, luhn_digit
from laoke.members.selectors import mask_mobile as selectors_mask_mobile
from laoke.members.validation import (
    mask_address,
    mask_email,
    mask_id_number,
    mask_mobile,
    mask_phone,
    normalize_email,
    normalize_id_number,
    normalize_mobile,
    parse_address,
    parse_addresses,
)


def _code(fn, *args, **kwargs):
    with pytest.raises(DomainError) as exc:
        fn(*args, **kwargs)
    return exc.value.code, exc.value.field


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "138.1234.5678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "(+86)13812345678",
        "86-138-1234-5678",
        "8613812345678",
        "0086 13812345678",
        "'13812345678",
        " 13812345678 ",
        "１３８１２３４５６７８",  # full-width digits from a Chinese input method
        "＋８６ １３８１２３４５６７８",
    ],
)
def test_mobile_forms_normalise_to_e164(raw):
    assert normalize_mobile(raw) == "+8613812345678"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [("19912345678", "+8619912345678"), ("16612345678", "+8616612345678"), ("17012345678", "+8617012345678")],
)
def test_newer_mobile_prefixes(raw, e164):
    assert normalize_mobile(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "010-12345678",  # Beijing landline
        "+86 10 1234 5678",  # landline written internationally
        "021 6234 5678",
        "12345678901",  # no such prefix
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "14612345678",  # data-only range, cannot receive SMS
        "13812345678x12",  # extension
        "+14155552671",  # valid US number: not a mainland mobile
        "+852 9123 4567",  # valid Hong Kong mobile: rejected by decision (module docstring)
        "abc",
        "+86",
        "1" * 25,
    ],
)
def test_invalid_mobiles_are_rejected(raw):
    assert _code(normalize_mobile, raw) == ("MEMBER_MOBILE_INVALID", "mobile")


def test_field_name_is_reported():
    assert _code(normalize_mobile, "123", field="contact_mobile") == (
        "MEMBER_MOBILE_INVALID",
        "contact_mobile",
    )


def test_empty_mobile_is_none():
    assert normalize_mobile("") is None and normalize_mobile(None) is None and normalize_mobile("  ") is None


def test_mask_mobile_contract():
    assert mask_mobile("+8613812345678") == "138****5678"
    assert selectors_mask_mobile("+8613812345678") == "138****5678"  # the console's import
    assert mask_mobile(None) == "" and selectors_mask_mobile(None) == ""


@pytest.mark.parametrize(
    ("raw", "province", "city", "district", "detail"),
    [
        # municipalities: the city is the municipality itself
        ("北京市朝阳区建国路88号", "北京市", "北京市", "朝阳区", "建国路88号"),
        ("上海浦东新区世纪大道1号", "上海市", "上海市", "浦东新区", "世纪大道1号"),
        ("上海市南京西路1号", "上海市", "上海市", "", "南京西路1号"),
        ("天津和平区南京路1号", "天津市", "天津市", "和平区", "南京路1号"),
        ("重庆市渝中区解放碑1号", "重庆市", "重庆市", "渝中区", "解放碑1号"),
        ("重庆市巫山县", "重庆市", "重庆市", "巫山县", ""),  # a county of a municipality
        # autonomous regions
        ("新疆乌鲁木齐市天山区人民路1号", "新疆维吾尔自治区", "乌鲁木齐市", "天山区", "人民路1号"),
        ("内蒙古呼和浩特市新城区", "内蒙古自治区", "呼和浩特市", "新城区", ""),
        ("西藏拉萨市城关区", "西藏自治区", "拉萨市", "城关区", ""),
        ("宁夏银川市兴庆区解放西街1号", "宁夏回族自治区", "银川市", "兴庆区", "解放西街1号"),
        ("广西南宁市青秀区民族大道1号", "广西壮族自治区", "南宁市", "青秀区", "民族大道1号"),
        # provinces, with the province left out, postcodes, county-level cities
        ("浙江省杭州市西湖区文三路1号", "浙江省", "杭州市", "西湖区", "文三路1号"),
        ("杭州市延安路1号", "浙江省", "杭州市", "", "延安路1号"),
        ("深圳南山区科技园 (518057)", "广东省", "深圳市", "南山区", "科技园"),
        ("广东省深圳市南山区科技园（518057）", "广东省", "深圳市", "南山区", "科技园"),
        ("江苏南京鼓楼区中山路1号", "江苏省", "南京市", "鼓楼区", "中山路1号"),
        ("湖北省仙桃市", "湖北省", "仙桃市", "", ""),
        # Hong Kong, Macau, Taiwan: province level only, the rest stays in the detail
        ("香港九龙尖沙咀", "香港特别行政区", "", "", "九龙尖沙咀"),
        ("澳门氹仔", "澳门特别行政区", "", "", "氹仔"),
        ("台湾台北市信义区", "台湾省", "", "", "台北市信义区"),
    ],
)
def test_addresses_parse(raw, province, city, district, detail):
    parsed = parse_address(raw)
    assert (parsed.province, parsed.city, parsed.district, parsed.detail) == (
        province,
        city,
        district,
        detail,
    )


def test_adcode_of_a_district():
    assert parse_address("北京市朝阳区建国路88号").adcode == "110105"  # GB/T 2260 code of 朝阳区, 北京


@pytest.mark.parametrize(
    "raw",
    [
        "随便写写",  # nothing
        "123 Main Street, Springfield",  # not a Chinese address
        "朝阳区建国路",  # only a district: 朝阳区 is in 北京 and 长春
        "西湖区文三路",  # only a district: 西湖区 is in 杭州 and 南昌
        "中山路1号",  # a street named after 中山, not 中山市
        "南京东路1号",
        "吉林路5号",
    ],
)
def test_unparseable_address_is_an_error_with_the_field(raw):
    assert _code(parse_address, raw) == ("ADDRESS_UNPARSEABLE", "address")
    assert _code(parse_address, raw, field="home_address") == ("ADDRESS_UNPARSEABLE", "home_address")


def test_bulk_parse_matches_single():
    raws = ["北京市朝阳区建国路88号", "香港九龙尖沙咀"]
    assert parse_addresses(raws) == [parse_address(r) for r in raws]


def test_empty_address_is_none_and_oversize_is_too_long():
    assert parse_address("") is None and parse_address(None) is None
    assert _code(parse_address, "北京市" + "长" * 260) == ("FIELD_TOO_LONG", "address")


def test_id_number_check_digit():
    # GB 11643-1999's example number; its ISO 7064 MOD 11-2 check character is X.
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"
    assert normalize_id_number("") == ""
    for bad in ("110105194912310021", "1101051949123100", "A1010519491231002X"):
        assert _code(normalize_id_number, bad) == ("ID_NUMBER_INVALID", "id_number")


def test_email():
    assert normalize_email(" Zhang.San@Example.COM ") == "Zhang.San@example.com"
    assert normalize_email("") is None
    assert _code(normalize_email, "not-an-email") == ("MEMBER_EMAIL_INVALID", "email")


def test_masks():
    assert mask_address("浙江省", "杭州市", "文三路1号") == "浙江省杭州市****"
    assert mask_address("北京市", "北京市", "建国路88号") == "北京市****"
    assert mask_address("", "", "") == ""
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert mask_email("zm@example.com") == "z***@example.com"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0571-88881234") == "057****34"


def test_card_numbers_carry_a_luhn_digit():
    assert luhn_digit("7992739871") == "3"  # the textbook example (ISO/IEC 7812-1 annex)
    # '8' then ten zeros: the 8 sits in a doubled position, 16 → 1 + 6 = 7, check digit 10 - 7 = 3.
    assert card_number_valid("800000000003") and not card_number_valid("800000000004")
    assert not card_number_valid("8000000000") and not card_number_valid("80000000000x")

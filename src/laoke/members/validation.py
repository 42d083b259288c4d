"""Input normalisation for the member archive.

Mobiles (decision): a member's mobile must be a mainland China *mobile* number, because the shop
texts it through mainland SMS gateways. Accepted forms: 13812345678, 138 1234 5678,
138-1234-5678, (+86)138…, +86 138…, 86-138…, 86138…, 0086138…, full-width digits, and a leading
apostrophe from spreadsheet exports; stored as E.164 (+8613812345678). Rejected: landlines,
data-only and unassigned prefixes, extensions, and numbers of other countries even when written
with a valid +country code (+852…, +1…) — a foreign customer is recorded with an email or an
external id instead. Validation uses Google's libphonenumber data (phonenumbers), not a
hand-written regex, so new prefixes (19x, 16x) arrive with a package update.

Addresses: parsed with cpca into province / city / district / adcode / detail. Municipalities
(北京, 上海, 天津, 重庆: the city is the municipality itself), autonomous regions (内蒙古, 新疆,
西藏, 宁夏, 广西), county-level cities directly under a province (仙桃…: the city) and 香港/澳门/
台湾 (province only; the rest stays in the detail) are handled. An address is ADDRESS_UNPARSEABLE
(with the field name) — never a silent default, since shipping and segmentation depend on the
region — when:

- no province can be found at all (随便写写, an English address);
- neither the province nor the city is written in it, only a district, which cpca would place
  by guessing (朝阳区 exists in 北京 and 长春, 西湖区 in 杭州 and 南昌);
- the only place name found is the start of a street name (中山路1号, 南京东路, 吉林路): a short
  place name directly followed by 路/街/大道/巷/弄/胡同/号 is a street, not a city.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from laoke.core.errors import DomainError
from laoke.core.validation import check_length

from .error_codes import (
    ADDRESS_UNPARSEABLE,
    BIRTHDAY_INVALID,
    ID_NUMBER_INVALID,
    MEMBER_EMAIL_INVALID,
    MEMBER_MOBILE_INVALID,
)

_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_mobile(raw: str | None, *, field: str = "mobile") -> str | None:
    """'138 1234 5678' → '+8613812345678'; None/'' → None; anything else → MEMBER_MOBILE_INVALID."""
    if raw is None:
        return None
    # NFKC: full-width digits and ＋ from Chinese input methods become ASCII.
    text = unicodedata.normalize("NFKC", str(raw)).strip().lstrip("'")  # spreadsheet exports prefix '
    if not text:
        return None
    text = re.sub(r"[\s\-()（）.]", "", text)
    if text.startswith("0086"):
        text = "+86" + text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = "+" + text
    if len(text) > 20:
        raise DomainError(MEMBER_MOBILE_INVALID, field=field)
    plain = text[3:] if text.startswith("+86") else text
    if len(plain) == 11 and plain.isascii() and plain.isdigit() and plain[0] == "1":
        # An import checks a million of these: libphonenumber decides validity by the number's
        # first digits (号段), so its verdict is cached per 7-digit prefix (~100 µs → ~1 µs).
        valid = _PREFIX_VALID.get(plain[:7])
        if valid is None:
            valid = _PREFIX_VALID[plain[:7]] = _libphonenumber_mobile(plain)
        if not valid:
            raise DomainError(MEMBER_MOBILE_INVALID, field=field)
        return "+86" + plain
    try:
        num = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise DomainError(MEMBER_MOBILE_INVALID, field=field) from exc
    if (
        num.country_code != 86
        or num.extension
        or not phonenumbers.is_valid_number(num)
        or phonenumbers.number_type(num) not in _MOBILE_TYPES
    ):
        raise DomainError(MEMBER_MOBILE_INVALID, field=field)
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


_PREFIX_VALID: dict[str, bool] = {}


def _libphonenumber_mobile(national: str) -> bool:
    num = phonenumbers.parse(national, "CN")
    return phonenumbers.is_valid_number(num) and phonenumbers.number_type(num) in _MOBILE_TYPES


def mobile_national(e164: str | None) -> str:
    return e164[3:] if e164 and e164.startswith("+86") else (e164 or "")


def normalize_email(raw: str | None, *, field: str = "email") -> str | None:
    if raw is None or not str(raw).strip():
        return None
    value = str(raw).strip()
    check_length(field, value, 254)
    try:
        validate_email(value)
    except DjangoValidationError as exc:
        raise DomainError(MEMBER_EMAIL_INVALID, field=field) from exc
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True)
class ParsedAddress:
    raw: str
    province: str
    city: str
    district: str
    detail: str
    adcode: str


_cpca_lock = threading.Lock()


def _cpca_transform(texts: list[str]):
    import cpca  # imported lazily: loading its tables takes about a second

    with _cpca_lock:  # cpca's matcher is not documented as thread-safe
        return cpca.transform(texts, pos_sensitive=True)


def _clean(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "" if text in ("nan", "None") else text


def parse_address(raw: str | None, *, field: str = "address") -> ParsedAddress | None:
    if raw is None or not str(raw).strip():
        return None
    return parse_addresses([raw], field=field)[0]


def parse_addresses(raws: list[str], *, field: str = "address") -> list[ParsedAddress]:
    """Parse many addresses in one cpca call (imports and bulk jobs); same rules as one."""
    texts = [re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(raw)).strip()) for raw in raws]
    for text in texts:
        check_length(field, text, 255)
    cleaned = [re.sub(r"[(]\s*\d{6}\s*[)]", "", t) for t in texts]  # postcodes in brackets
    frame = _cpca_transform(cleaned)
    return [_parsed(text, cleaned[i], frame.iloc[i], field) for i, text in enumerate(texts)]


def parse_addresses_lenient(raws: list[str]) -> list[ParsedAddress | None]:
    """``parse_addresses`` for imports: one cpca call for all, None for each address that cannot
    be parsed (or is empty) instead of refusing the batch."""
    texts = [re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(raw or "")).strip())[:255] for raw in raws]
    cleaned = [re.sub(r"[(]\s*\d{6}\s*[)]", "", t) for t in texts]
    wanted = [i for i, t in enumerate(cleaned) if t.strip()]
    out: list[ParsedAddress | None] = [None] * len(texts)
    if not wanted:
        return out
    records = _cpca_transform([cleaned[i] for i in wanted]).to_dict("records")
    for j, i in enumerate(wanted):
        try:
            out[i] = _parsed(texts[i], cleaned[i], records[j], "address")
        except DomainError:
            out[i] = None
    return out


MUNICIPALITIES = {"北京市", "上海市", "天津市", "重庆市"}
SARS_AND_TAIWAN = {"香港特别行政区", "澳门特别行政区", "台湾省"}
# cpca's placeholders for the level between province and district.
_NO_CITY = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_STREET_AFTER_PLACE = re.compile(r"^[东西南北中]?(路|街|大街|大道|巷|弄|胡同|号)")
_ADMIN_SUFFIX = ("省", "市", "区", "县", "旗", "州", "盟", "自治区", "特别行政区")


def _pos(row, key: str) -> int:
    try:
        return int(row[key])
    except (KeyError, TypeError, ValueError):
        return -1


def _parsed(text: str, cleaned: str, row, field: str) -> ParsedAddress:
    province = _clean(row["省"])
    city = _clean(row["市"])
    district = _clean(row["区"])
    detail = _clean(row["地址"]).strip()
    if not province:
        raise DomainError(ADDRESS_UNPARSEABLE, field=field)
    if _pos(row, "省_pos") < 0 and _pos(row, "市_pos") < 0:
        raise DomainError(ADDRESS_UNPARSEABLE, field=field)  # only a district: cpca guessed the rest
    if detail and _STREET_AFTER_PLACE.match(detail):
        at = cleaned.rfind(detail)
        matched = cleaned[:at].rstrip() if at >= 0 else ""
        if matched and not matched.endswith(_ADMIN_SUFFIX):
            raise DomainError(ADDRESS_UNPARSEABLE, field=field)  # 中山路 is a street, not 中山市
    if province in MUNICIPALITIES:
        city = province
    elif city in _NO_CITY:
        city, district = district, ""  # 湖北省仙桃市: a county-level city directly under the province
    elif province in SARS_AND_TAIWAN:
        city = district = ""
        # cpca cuts a second "澳门"/"香港" off as a city (澳门 澳门半岛 → 半岛): keep what was written.
        rest = cleaned.strip()
        for name in (province, province.removesuffix("特别行政区").removesuffix("省")):
            if rest.startswith(name):
                detail = rest[len(name) :].strip()
                break
    return ParsedAddress(
        raw=text,
        province=province,
        city=city,
        district=district,
        detail=detail,
        adcode=_clean(row["adcode"])[:6],
    )


_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


def normalize_id_number(raw: str | None, *, field: str = "id_number") -> str:
    """18-digit resident ID with its ISO 7064 check digit (optional field: '' if absent)."""
    if raw is None or not str(raw).strip():
        return ""
    value = str(raw).strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise DomainError(ID_NUMBER_INVALID, field=field)
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise DomainError(ID_NUMBER_INVALID, field=field)
    return value


def check_birthday(value: date | None, *, today: date, field: str = "birthday") -> date | None:
    if value is None:
        return None
    if value > today or value.year < 1900:
        raise DomainError(BIRTHDAY_INVALID, field=field)
    return value


# --- masking ---------------------------------------------------------------------------------


def mask_mobile(e164: str | None) -> str:
    """'+8613812345678' → '138****5678'."""
    national = mobile_national(e164)
    if not national:
        return ""
    if len(national) < 7:
        return "*" * len(national)
    return f"{national[:3]}****{national[-4:]}"


def mask_phone(phone: str | None) -> str:
    """Any phone as typed (a landline of a corporate contact, say): a mobile is masked like a
    mobile; otherwise the first 3 and last 2 characters stay."""
    if not phone:
        return ""
    try:
        e164 = normalize_mobile(phone)
    except DomainError:
        e164 = None
    if e164:
        return mask_mobile(e164)
    text = phone.strip()
    return f"{text[:3]}****{text[-2:]}" if len(text) > 6 else "****"


def mask_email(email: str | None) -> str:
    if not email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_address(province: str, city: str, detail: str) -> str:
    """Keep the region (needed for service), hide the street."""
    region = province + (city if city and city != province else "")
    return f"{region}****" if (region or detail) else ""


def mask_id_number(value: str) -> str:
    return f"{value[:3]}***********{value[-4:]}" if value else ""


def mask_name(name: str) -> str:
    return name  # names are shown: staff greet members by name; mobile/address/ID are the PII masked

"""Input normalisation for the member archive.

Mobiles: a member's mobile must be a mainland China *mobile* number (the shop texts it). Accepted
forms: 13812345678, 138 1234 5678, 138-1234-5678, +86 138…, 86138…, 0086138…; stored as E.164
(+8613812345678). Landlines, numbers of other countries and invalid prefixes are rejected:
foreign customers are recorded with their email or an external id instead. Validation uses
Google's libphonenumber data (phonenumbers), not a hand-written regex.

Addresses: parsed with cpca into province / city / district / adcode / detail. Municipalities
(北京, 上海, 天津, 重庆), autonomous regions (内蒙古, 新疆, 西藏, 宁夏, 广西) and 香港/澳门/台湾 are
recognised. An address in which no province can be found is an error the operator sees
(ADDRESS_UNPARSEABLE), never a silent default: shipping and segmentation depend on the region.
"""

from __future__ import annotations

import re
import threading
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
    text = str(raw).strip().lstrip("'")  # spreadsheet exports prefix phones with '
    if not text:
        return None
    text = re.sub(r"[\s\-()（）]", "", text)
    if text.startswith("0086"):
        text = "+86" + text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = "+" + text
    if len(text) > 20:
        raise DomainError(MEMBER_MOBILE_INVALID, field=field)
    try:
        num = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise DomainError(MEMBER_MOBILE_INVALID, field=field) from exc
    if (
        num.country_code != 86
        or not phonenumbers.is_valid_number(num)
        or phonenumbers.number_type(num) not in _MOBILE_TYPES
    ):
        raise DomainError(MEMBER_MOBILE_INVALID, field=field)
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


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
        return cpca.transform(texts)


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
    texts = [re.sub(r"\s+", " ", str(raw).strip()) for raw in raws]
    for text in texts:
        check_length(field, text, 255)
    frame = _cpca_transform([re.sub(r"[（(]\s*\d{6}\s*[)）]", "", t) for t in texts])  # postcodes in brackets
    return [_parsed(text, frame.iloc[i], field) for i, text in enumerate(texts)]


def _parsed(text: str, row, field: str) -> ParsedAddress:
    province = _clean(row["省"])
    if not province:
        raise DomainError(ADDRESS_UNPARSEABLE, field=field)
    city = _clean(row["市"])
    if city == "市辖区":  # municipalities: the city is the province itself
        city = province
    return ParsedAddress(
        raw=text,
        province=province,
        city=city,
        district=_clean(row["区"]),
        detail=_clean(row["地址"]).strip(),
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

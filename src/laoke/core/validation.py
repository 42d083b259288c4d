"""Small input checks shared by services (the API schemas check types; services check rules)."""

from __future__ import annotations

from .errors import FIELD_INVALID, FIELD_REQUIRED, FIELD_TOO_LONG, DomainError


def check_length(field: str, value: str | None, max_len: int) -> None:
    if value is not None and len(value) > max_len:
        raise DomainError(FIELD_TOO_LONG, field=field, max=max_len)


def require(field: str, value) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DomainError(FIELD_REQUIRED, field=field)


def check_choice(field: str, value, choices) -> None:
    allowed = {c[0] if isinstance(c, tuple | list) else c for c in choices}
    if value not in allowed:
        raise DomainError(FIELD_INVALID, field=field, details={"allowed": sorted(map(str, allowed))})

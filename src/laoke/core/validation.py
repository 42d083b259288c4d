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


def _local_time(value):
    if value.tzinfo is not None:
        raise ValueError("a local time without a UTC offset, e.g. 21:00")
    return value


def local_time():
    """An API field type for a local wall-clock time ("21:00"): times with a UTC offset are
    refused (422), as the shop's settings are read in the shop's own time zone."""
    from datetime import time
    from typing import Annotated

    from pydantic import AfterValidator

    return Annotated[time, AfterValidator(_local_time)]


LocalTime = local_time()
